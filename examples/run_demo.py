"""Start the buffered_stream demo: the demo backend (a fake, slow LLM) and the proxy in front of it.

``make run`` runs this with the project's virtualenv. Both listen on 127.0.0.1 only:
the demo backend on port 8090, the proxy on port 4000 (examples/config.yaml). Ctrl-C stops both.

``--tokens``/``--delay`` are passed to the demo backend (default 300 tokens x 0.1 s = ~30 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BACKEND_PORT, PROXY_PORT = 8090, 4000
DEFAULT_MASTER_KEY = "sk-demo-master-key-0123456789"


def wait_until_up(url: str, what: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"run_demo: the {what} exited (code {process.returncode}) before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"run_demo: the {what} did not answer {url} within {seconds:g} s")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def instructions(master_key: str, seconds: float) -> str:
    def curl(model: str) -> str:
        return (
            f"curl -s -i http://127.0.0.1:{PROXY_PORT}/v1/chat/completions "
            f"-H 'Authorization: Bearer {master_key}' \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f'  -d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "hi"}}]}}\''
        )

    return f"""
Demo running: backend http://127.0.0.1:{BACKEND_PORT}/v1 (fake, ~{seconds:g} s per answer),
proxy http://127.0.0.1:{PROXY_PORT} (timeout: 10 s per model). In another terminal:

1. Buffered (slow-llm): after ~{seconds:g} s, HTTP 200 with the demo text and the header
   x-litellm-buffered-stream: true. The 10 s timeout bounds the gaps between tokens, not the answer.

{curl("slow-llm")}

2. Unbuffered (slow-llm-unbuffered): the backend sends nothing until the answer is done, so each
   attempt hits the 10 s timeout; after the router's retries (~30 s) the call fails with HTTP 408.

{curl("slow-llm-unbuffered")}

3. Buffered and kept alive (slow-llm-keepalive): HTTP 200 and the headers after 5 s, then a space
   every 5 s (what keeps a load balancer's or a client's idle timeout from firing), then the demo
   text. --raw shows each one-byte chunk as it arrives; slow-llm stays silent for ~{seconds:g} s instead:

{curl("slow-llm-keepalive").replace("curl -s -i", "curl -s -i --raw -N")}

Ctrl-C stops the demo.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Start the demo backend and the proxy (127.0.0.1).")
    parser.add_argument("--tokens", type=int, default=300, help="demo answer length in tokens (default 300)")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per demo token (default 0.1)")
    args = parser.parse_args()

    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True")
    env.setdefault("LITELLM_MASTER_KEY", DEFAULT_MASTER_KEY)
    litellm_cli = Path(sys.executable).parent / "litellm"
    backend_cmd = [sys.executable, str(HERE / "demo_backend.py"), "--port", str(BACKEND_PORT)]
    backend_cmd += ["--tokens", str(args.tokens), "--delay", str(args.delay)]
    proxy_cmd = [str(litellm_cli), "--config", str(HERE / "config.yaml"), "--host", "127.0.0.1"]
    proxy_cmd += ["--port", str(PROXY_PORT)]

    processes: list[subprocess.Popen] = []

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)  # Ctrl-C, even where a parent shell ignores SIGINT
    signal.signal(signal.SIGTERM, on_signal)
    failed = False
    try:
        backend = subprocess.Popen(backend_cmd, env=env)
        processes.append(backend)
        wait_until_up(f"http://127.0.0.1:{BACKEND_PORT}/v1/models", "demo backend", backend, 30)
        proxy = subprocess.Popen(proxy_cmd, env=env)
        processes.append(proxy)
        wait_until_up(f"http://127.0.0.1:{PROXY_PORT}/health/liveliness", "proxy", proxy, 120)
        print(instructions(env["LITELLM_MASTER_KEY"], args.tokens * args.delay), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("run_demo: a child process exited; stopping the demo", file=sys.stderr)
        failed = True
    except KeyboardInterrupt:
        print("\nrun_demo: stopping the demo backend and the proxy", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(processes)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
