"""Fixtures every test may use: the one fake backend (tests/e2e/fake_llm.py) on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.e2e.fake_llm import FakeLLM  # noqa: E402  (after the cost-map setting, which litellm reads on import)


@pytest.fixture(scope="session")
def backend() -> Iterator[FakeLLM]:
    """The fake LLM backend (OpenAI, Anthropic, Ollama, Responses, text completion wires), started once."""
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_backend(request: pytest.FixtureRequest) -> None:
    if "backend" in request.fixturenames:
        request.getfixturevalue("backend").reset()
