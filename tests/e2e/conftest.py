"""End-to-end fixtures: fake backends on 127.0.0.1 and the real proxy as a process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from tests.e2e.fake_llm import FakeLLM

MASTER_KEY = "sk-e2e-master-key-0123456789abcdef"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def backend() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_backend(request: pytest.FixtureRequest) -> None:
    if "backend" in request.fixturenames:
        request.getfixturevalue("backend").reset()


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


class Proxy:
    def __init__(self, config: dict, tmp: Path) -> None:
        self.port = free_port()
        self.config_path = tmp / f"config-{self.port}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = tmp / f"proxy-{self.port}.log"
        self.event_log = tmp / f"events-{self.port}.jsonl"
        self.event_log.touch()
        env = {
            **os.environ,
            "E2E_EVENT_LOG": str(self.event_log),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(Path(__file__).parent / "callbacks"), os.environ.get("PYTHONPATH")])
            ),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_MASTER_KEY": MASTER_KEY,
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(BIN / "litellm"), "--config", str(self.config_path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"proxy exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/health/liveliness", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"proxy not ready after {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def client(self, **kwargs: object) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=MASTER_KEY, max_retries=0, **kwargs)

    def aclient(self, **kwargs: object) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=MASTER_KEY, max_retries=0, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text()

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.event_log.read_text().splitlines()]

    def clear_events(self) -> None:
        self.event_log.write_text("")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def start_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    started: list[Proxy] = []

    def start(config: dict) -> Proxy:
        proxy = Proxy(config, tmp_path_factory.mktemp("proxy"))
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="session")
def proxy(backend: FakeLLM, start_proxy) -> Proxy:
    """The shared proxy: wildcard routes per provider, and buffered_stream off unless a request asks."""
    return start_proxy({"model_list": wildcard_models(backend.url), "litellm_settings": {"drop_params": True}})
