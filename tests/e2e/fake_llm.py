"""The fake backend's old import path: it lives in tests/test_litellm/buffered_stream/fake_llm.py (the unit tests of
buffered_stream use it too, and the upstream pull request carries it with them)."""

from tests.test_litellm.buffered_stream.fake_llm import *  # noqa: F403
