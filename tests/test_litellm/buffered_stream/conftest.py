"""The fake backend (fake_llm.py) for the unit tests that make real calls through litellm."""

from tests.test_litellm.buffered_stream.fake_llm import _reset_backend, backend  # noqa: F401  (the fixtures)
