"""End-to-end fixtures: the real proxy as a process, in front of the fake backend (``backend``, fake_llm.py)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.processes import NGINX, NginxProcess, ProxyProcess
from tests.test_litellm.buffered_stream.fake_llm import FakeLLM, _reset_backend, backend, deployment  # noqa: F401  (the backend fixtures)

#: The request shapes the e2e tests share.
HI = [{"role": "user", "content": "hi"}]
BUFFERED = {"buffered_stream": True}


def fresh(text: str = "hi") -> str:
    """A prompt no earlier test sent (proxies with a cache would answer a repeated one from it)."""
    return f"{text} {time.monotonic_ns()}"


def fresh_messages(text: str = "hi") -> list[dict]:
    return [{"role": "user", "content": fresh(text)}]


#: The shared proxy's wildcard routes: prefix -> provider.
WILDCARD_PROVIDERS = {
    "oai": "openai",
    "vllm": "hosted_vllm",
    "custom": "custom_openai",
    "groq": "groq",
    "azure": "azure",
    "ollama": "ollama_chat",
    "claude": "anthropic",
    # OpenAI wire, but not among the wire path's providers: takes the generic path.
    "nim": "nvidia_nim",
}


def wildcard_models(base: str, **params: object) -> list[dict]:
    """One wildcard route per provider, all pointing at the fake backend at ``base``."""
    return [deployment(base, f"{prefix}/*", "*", provider, **params) for prefix, provider in WILDCARD_PROVIDERS.items()]


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


needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx not found (make system-deps installs it)")


@pytest.fixture(scope="session")
def start_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Start nginx in front of a proxy (``read_timeout``: its idle timeout towards the proxy); stopped at the end."""
    started: list[NginxProcess] = []

    def start(proxy: ProxyProcess, read_timeout: float) -> NginxProcess:
        if NGINX is None:
            pytest.skip("nginx not found (make system-deps installs it)")
        server = NginxProcess(proxy.url, tmp_path_factory.mktemp("nginx"), read_timeout=read_timeout).wait_ready()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def proxy(backend: FakeLLM, start_proxy) -> Proxy:  # noqa: F811  (the fixture imported above)
    """The shared proxy: wildcard routes per provider, and buffered_stream off unless a request asks."""
    return start_proxy({"model_list": wildcard_models(backend.url), "litellm_settings": {"drop_params": True}})
