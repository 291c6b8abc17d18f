"""The fake backend (tests/e2e/fake_llm.py) for the unit tests that make real calls through litellm."""

from tests.e2e.fake_llm import _reset_backend, backend  # noqa: F401  (the fixtures)
