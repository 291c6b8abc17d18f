"""CPU per chunk, proxy CPU per request and peak memory: fork (buffered fast path, generic path) against the pinned upstream's stream.

Everything runs on 127.0.0.1; the backend runs in its own process. Each measurement runs in a fresh
interpreter: the fork is the installed wheel, upstream is the pristine wheel in .cache/upstream-site
(`make upstream-ref`). Prints a markdown table; the ratios are what matter, not absolute times.

usage: python bench/buffered_cpu.py [--tokens 2000] [--repeats 5] [--big 100000] [--proxy-requests 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / ".cache" / "upstream-site"
sys.path.insert(0, str(ROOT))


def proxy_cpu_per_request(url: str, tokens: int, requests: int) -> dict[str, float]:
    """Proxy process CPU per request: native stream=false against buffered_stream, same answer."""
    import tempfile

    from tests.e2e.conftest import Proxy, wildcard_models
    from tests.e2e.processes import process_cpu_seconds

    proxy = Proxy({"model_list": wildcard_models(url)}, Path(tempfile.mkdtemp()))
    try:
        client = proxy.client(timeout=120)
        result = {}
        for name, extra in (("native", None), ("buffered", {"buffered_stream": True})):
            for _ in range(3):  # warm up
                client.chat.completions.create(
                    model=f"oai/text+tokens={tokens}", messages=[{"role": "user", "content": "w"}], extra_body=extra
                )
            before = process_cpu_seconds(proxy.process.pid)
            for i in range(requests):
                client.chat.completions.create(
                    model=f"oai/text+tokens={tokens}",
                    messages=[{"role": "user", "content": f"{name} {i}"}],
                    extra_body=extra,
                )
            result[name] = (process_cpu_seconds(proxy.process.pid) - before) / requests * 1000
        return result
    finally:
        proxy.stop()


def measure(
    mode: str, url: str, tokens: int, repeats: int, upstream: bool = False, memory: bool = False, timeout: float = 900
) -> dict:
    """One `_client.py` run in a fresh interpreter (the fork, or upstream if `upstream`); killed after `timeout` s."""
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": str(UPSTREAM) if upstream else ""}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "_client.py"),
            mode,
            url,
            str(tokens),
            str(repeats),
            *(["memory"] if memory else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["us_per_chunk"] = result["cpu_s"] / result["chunks"] * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big", type=int, default=100_000, help="chunks in the peak-memory run")
    parser.add_argument("--proxy-requests", type=int, default=20)
    args = parser.parse_args()
    if not UPSTREAM.exists():
        sys.exit("run `make upstream-ref` first")
    backend = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_backend.py")], stdout=subprocess.PIPE, text=True)
    try:
        url = backend.stdout.readline().strip()
        rows = {
            "upstream: acompletion(stream=True), consumed": measure("stream", url, args.tokens, args.repeats, True),
            "fork: acompletion(stream=True), consumed": measure("stream", url, args.tokens, args.repeats),
            "fork: acompletion(buffered_stream=True) (fast path)": measure("buffered", url, args.tokens, args.repeats),
            "fork: completion(buffered_stream=True) (generic path)": measure("generic", url, args.tokens, args.repeats),
        }
        base = rows["upstream: acompletion(stream=True), consumed"]["us_per_chunk"]
        print(f"CPU per chunk, {args.tokens}-chunk answers x {args.repeats} (client process only)\n")
        print("| path | us/chunk | upstream stream / this |\n| --- | ---: | ---: |")
        for name, row in rows.items():
            print(f"| {name} | {row['us_per_chunk']:.1f} | {base / row['us_per_chunk']:.1f}x |")
        per_request = proxy_cpu_per_request(url, 1000, args.proxy_requests)
        print(f"\nProxy CPU per request, 1,000-token answer ({args.proxy_requests} requests each)\n")
        print("| request | proxy CPU ms/request | vs native |\n| --- | ---: | ---: |")
        for name, ms in per_request.items():
            print(f"| {name} | {ms:.1f} | {ms / per_request['native']:.2f}x |")
        up = measure("stream", url, args.big, 1, upstream=True, memory=True)
        fork = measure("buffered", url, args.big, 1, memory=True)
        print(f"\nPeak traced memory during one {args.big}-chunk answer\n")
        print("| path | peak MB | per chunk |\n| --- | ---: | ---: |")
        for name, row in (("upstream stream", up), ("fork buffered (fast path)", fork)):
            print(f"| {name} | {row['peak_bytes'] / 1e6:.1f} | {row['peak_bytes'] / args.big:.0f} B |")
    finally:
        backend.terminate()
        backend.wait(10)


if __name__ == "__main__":
    main()
