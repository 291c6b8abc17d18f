"""Two proxy processes sharing one Redis behave as one deployment (no containers needed).

Everything runs on 127.0.0.1: a redis-server with a password, the fake backend (``fake_llm.py``, as a
process of its own) and two ``litellm --config`` processes with the same config (as two
replicas behind a load balancer would have). The client is the OpenAI SDK, sending to both ports
in turn, as a round-robin load balancer would.

How upstream shares a deployment's ``rpm`` across instances (litellm 1.106.2): with
``routing_strategy: usage-based-routing-v2`` and ``router_settings.redis_*``, each instance counts
requests per deployment and minute in memory, checks the count before each call and pushes its
increments to Redis about once a second (``DEFAULT_REDIS_SYNC_INTERVAL``), reading back the total
of all instances when it does. The limit is therefore shared, but an instance learns about the
others' requests only at its own next sync: the test paces requests so that every sync has run
(docs/deployment.md describes the overshoot this allows when requests arrive faster).

Every process is started by this module and stopped by its PID in fixture teardown.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openai
import pytest
import yaml

from tests.e2e.processes import free_port, stop

REDIS_SERVER = shutil.which("redis-server") or next(
    (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(p, os.X_OK)), None
)
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="redis-server not found; on Debian/Ubuntu CI: apt-get install -y --no-install-recommends redis-server",
)

HERE = Path(__file__).resolve().parent
BACKEND_SCRIPT = HERE.parent / "test_litellm" / "buffered_stream" / "fake_llm.py"
#: The fake backend's answer to ``text+tokens=3``.
ANSWER = "w0c0 w1c0 w2c0 "
LITELLM = Path(sys.executable).parent / "litellm"
MASTER_KEY = "sk-multi-instance-" + secrets.token_hex(16)
RPM = 4
SYNC_WAIT = 2.0  # > DEFAULT_REDIS_SYNC_INTERVAL (1 s): every instance has pushed its increments
START_TIMEOUT = 120


def wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s:\n{log.read_text()[-3000:]}")


def start(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("multi_instance")


@pytest.fixture(scope="module")
def mi_redis(workdir: Path) -> Iterator[tuple[int, str]]:
    port, password = free_port(), secrets.token_hex(16)
    log = workdir / "redis.log"
    cmd = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password]
    cmd += ["--save", "", "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"]
    process = start(cmd, log)
    try:
        wait_for_port(port, process, "redis-server", log, timeout=20)
        yield port, password
    finally:
        stop(process)


@pytest.fixture(scope="module")
def mi_backend(workdir: Path) -> Iterator[int]:
    log = workdir / "backend.log"
    port = free_port()
    process = start([sys.executable, str(BACKEND_SCRIPT), "--port", str(port)], log)
    try:
        wait_for_port(port, process, "fake backend", log, timeout=20)
        yield port
    finally:
        stop(process)


def backend_requests(port: int) -> int:
    """How many chat requests the fake backend has answered so far."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as response:
        return int(json.load(response)["requests"])


@pytest.fixture(scope="module")
def mi_proxies(workdir: Path, mi_redis: tuple[int, str], mi_backend: int) -> Iterator[list[int]]:
    redis_port, redis_password = mi_redis
    api_base = f"http://127.0.0.1:{mi_backend}/v1"
    config = {
        "model_list": [
            {
                "model_name": "limited-llm",
                "litellm_params": {
                    "model": "openai/text+tokens=3",
                    "api_base": api_base,
                    "api_key": "fake",
                    "rpm": RPM,
                },
            },
            {
                "model_name": "open-llm",
                "litellm_params": {"model": "openai/text+tokens=3", "api_base": api_base, "api_key": "fake"},
            },
        ],
        "router_settings": {
            "routing_strategy": "usage-based-routing-v2",
            "redis_host": "127.0.0.1",
            "redis_port": redis_port,
            "redis_password": redis_password,
            "num_retries": 0,
        },
        "litellm_settings": {"num_retries": 0},
    }
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_MASTER_KEY": MASTER_KEY,
        "LITELLM_LOG": "ERROR",
    }
    env.pop("DATABASE_URL", None)
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen] = []
    try:
        for i, port in enumerate(ports):
            cmd = [str(LITELLM), "--config", str(config_path), "--host", "127.0.0.1", "--port", str(port)]
            processes.append(start(cmd, workdir / f"proxy{i}.log", env=env))
        for i, (port, process) in enumerate(zip(ports, processes, strict=True)):
            wait_for_port(port, process, f"proxy {i}", workdir / f"proxy{i}.log", timeout=START_TIMEOUT)
        yield ports
    finally:
        for process in processes:
            stop(process)


def client(port: int) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=MASTER_KEY, max_retries=0, timeout=30)


def ask(port: int, model: str) -> str:
    response = client(port).chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    return response.choices[0].message.content or ""


def test_both_instances_serve_requests(mi_proxies: list[int], mi_backend: int) -> None:
    before = backend_requests(mi_backend)
    served = {port: 0 for port in mi_proxies}
    for i in range(6):
        port = mi_proxies[i % 2]
        assert ask(port, "open-llm") == ANSWER
        served[port] += 1
    assert served == {port: 3 for port in mi_proxies}
    assert backend_requests(mi_backend) - before == 6


def test_rpm_limit_is_shared_by_both_instances(mi_proxies: list[int], mi_backend: int) -> None:
    # The usage window is the UTC minute: start early enough in one to finish inside it.
    second = datetime.now(UTC).second
    if second > 40:
        time.sleep(61 - second)
    a, b = mi_proxies
    before = backend_requests(mi_backend)
    # Four requests, two per instance, as a round-robin load balancer would send them.
    for port in (a, b, a, b):
        assert ask(port, "limited-llm") == ANSWER
        time.sleep(SYNC_WAIT)
    # Instance b has served only two of its own, but knows that the deployment has had four.
    with pytest.raises(openai.RateLimitError) as refused:
        ask(b, "limited-llm")
    assert refused.value.status_code == 429
    assert backend_requests(mi_backend) - before == RPM
