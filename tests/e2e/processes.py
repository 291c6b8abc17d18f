"""Processes the end-to-end tests and the benchmarks start on 127.0.0.1, and how they are stopped.

Every process is started in a session of its own and stopped by its PID (its process group), so
nothing it spawned outlives it. ``ProxyProcess`` is the real litellm proxy: the fork (the
installed wheel) or, with ``upstream_site``, the pristine pinned upstream (`make upstream-ref`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import yaml

MASTER_KEY = "sk-e2e-master-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> None:
    """Stop a process started here, and the process group it leads, by its PID."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class ProxyProcess:
    """``python -m litellm.proxy.proxy_cli --config <config>`` on a free port of 127.0.0.1.

    ``python`` is this interpreter unless given (a virtual environment's, for an installed release).
    """

    def __init__(
        self,
        config: dict,
        workdir: Path,
        name: str = "proxy",
        upstream_site: Path | None = None,
        extra_env: dict[str, str] | None = None,
        python: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / f"{name}-{self.port}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / f"{name}-{self.port}.log"
        pythonpath = [str(upstream_site)] if upstream_site else []
        env = {
            **os.environ,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_MASTER_KEY": MASTER_KEY,
            "NO_PROXY": "127.0.0.1,localhost",
            **(extra_env or {}),
        }
        env["PYTHONPATH"] = os.pathsep.join([*pythonpath, *filter(None, [env.get("PYTHONPATH")])])
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(python or sys.executable), "-m", "litellm.proxy.proxy_cli", "--config", str(self.config_path)]
            + ["--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            cwd=workdir,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def wait_ready(self, timeout: float = 120) -> ProxyProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/health/liveliness", timeout=2, trust_env=False).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()[-4000:]}")

    def client(self, **kwargs: object) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=MASTER_KEY, max_retries=0, **kwargs)

    def aclient(self, **kwargs: object) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=MASTER_KEY, max_retries=0, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        stop(self.process)
        self._log.close()


NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


class NginxProcess:
    """nginx on a free port of 127.0.0.1, reverse-proxying to ``upstream`` with a short ``proxy_read_timeout``.

    ``/`` speaks HTTP/1.1 to the upstream (``proxy_http_version 1.1``); ``/http10/`` keeps nginx's
    default HTTP/1.0. Configuration, logs and temporary files live in ``workdir``.
    """

    def __init__(self, upstream: str, workdir: Path, read_timeout: float = 2.0) -> None:
        assert NGINX is not None, "nginx is not installed (make system-deps)"
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.error_log = workdir / "error.log"
        user = "user root root;" if os.geteuid() == 0 else ""  # workers must read the 0700 temp dirs
        location = f"proxy_pass {upstream}; proxy_read_timeout {read_timeout}s;"
        config = f"""
{user}
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 64; }}
http {{
    access_log {workdir}/access.log;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ {location} proxy_http_version 1.1; proxy_set_header Connection ""; }}
        location /http10/ {{ proxy_pass {upstream}/; proxy_read_timeout {read_timeout}s; }}
    }}
}}
"""
        self.config_path = workdir / "nginx.conf"
        self.config_path.write_text(config)
        self._log = (workdir / "stdout.log").open("w")
        self.process = subprocess.Popen(
            [NGINX, "-c", str(self.config_path), "-p", str(workdir), "-e", str(self.error_log)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 15) -> NginxProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited early:\n{self.error_log.read_text()[-3000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx not listening after {timeout}s:\n{self.error_log.read_text()[-3000:]}")

    def stop(self) -> None:
        stop(self.process)
        self._log.close()
