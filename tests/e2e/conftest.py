"""End-to-end fixtures: the real proxy as a process, in front of the fake backend (``backend``, tests/conftest.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fake_llm import FakeLLM
from tests.e2e.processes import ProxyProcess


def wildcard_models(base: str, **params: object) -> list[dict]:
    """One wildcard route per provider, all pointing at the fake backend."""
    routes = {
        "oai": ("openai", f"{base}/v1"),
        "vllm": ("hosted_vllm", f"{base}/v1"),
        "custom": ("custom_openai", f"{base}/v1"),
        "groq": ("groq", f"{base}/v1"),
        "azure": ("azure", base),
        "ollama": ("ollama_chat", base),
        "claude": ("anthropic", base),
        # OpenAI wire, but not among the fast path's providers: takes the generic path.
        "nim": ("nvidia_nim", f"{base}/v1"),
    }
    models = []
    for prefix, (provider, api_base) in routes.items():
        litellm_params = {"model": f"{provider}/*", "api_base": api_base, "api_key": "sk-fake", **params}
        if provider == "azure":
            litellm_params["api_version"] = "2024-10-21"
        models.append({"model_name": f"{prefix}/*", "litellm_params": litellm_params})
    return models


class Proxy(ProxyProcess):
    """The fork's proxy (or, with ``upstream_site``, the pristine upstream's), ready, with the e2e callback
    (tests/e2e/callbacks) writing every logged event to a file."""

    def __init__(
        self,
        config: dict,
        tmp: Path,
        name: str = "proxy",
        upstream_site: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.event_log = tmp / f"{name}-events.jsonl"
        self.event_log.touch()
        super().__init__(
            config,
            tmp,
            name=name,
            upstream_site=upstream_site,
            extra_env={
                "E2E_EVENT_LOG": str(self.event_log),
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(Path(__file__).parent / "callbacks"), os.environ.get("PYTHONPATH")])
                ),
                **(env or {}),
            },
        )
        self.wait_ready()

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.event_log.read_text().splitlines()]

    def clear_events(self) -> None:
        self.event_log.write_text("")


@pytest.fixture(scope="session")
def start_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    started: list[Proxy] = []

    def start(config: dict, env: dict[str, str] | None = None) -> Proxy:
        proxy = Proxy(config, tmp_path_factory.mktemp("proxy"), env=env)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="session")
def proxy(backend: FakeLLM, start_proxy) -> Proxy:
    """The shared proxy: wildcard routes per provider, and buffered_stream off unless a request asks."""
    return start_proxy({"model_list": wildcard_models(backend.url), "litellm_settings": {"drop_params": True}})
