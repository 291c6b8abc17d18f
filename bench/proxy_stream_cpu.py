"""Proxy CPU per streamed chunk: ``stream: true`` through the real proxy, the fork against the pinned upstream.

The load: the real proxy (one worker, no database) in front of the zero-delay fake OpenAI-compatible backend
(``tests/e2e/fake_llm.py``, in its own process, so its CPU is not counted), N streams of T tokens at concurrency C,
read by ``httpx`` in this process. The number is the proxy process's CPU (utime + stime, ``/proc/<pid>/stat``) over
the measured streams divided by the ``data:`` events the client received (``[DONE]`` not counted). Three proxies:
upstream, the fork (whose chat streams take the stream-through lane, litellm/proxy/stream_through.py) and the fork
with that lane off (``stream_through: false``: the per-chunk path a stream takes when a callback reads every chunk).
They run at the same time and are measured in rotation, so a busy machine slows all alike: the ratio is what matters.

usage: python bench/proxy_stream_cpu.py [--tokens 50,1000] [--streams 24] [--concurrency 4] [--rounds 3]
       [--json FILE] [--profile DIR]

``--profile DIR`` also records each proxy with py-spy (when installed) during one extra round per length:
``DIR/<proxy>-<tokens>.txt`` (collapsed stacks) for docs/streaming-cpu.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / ".cache" / "upstream-site"
sys.path.insert(0, str(ROOT))

from tests.e2e.processes import MASTER_KEY, ProxyProcess, stop  # noqa: E402

HEADERS = {"Authorization": f"Bearer {MASTER_KEY}"}


def start_backend() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_backend.py")], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        stop(process)
        raise RuntimeError(f"backend did not start: {url!r}")
    return process, url


#: The fork with its stream-through lane off (``litellm_settings: {stream_through: false}``): the per-chunk path that
#: streams take when a callback or guardrail reads every chunk (docs/streaming-cpu.md).
PER_CHUNK = "fork-per-chunk"


def proxy_config(backend_url: str, lengths: list[int]) -> dict:
    models = [
        {
            "model_name": f"stream-{tokens}",
            "litellm_params": {
                "model": f"openai/text+tokens={tokens}",
                "api_base": f"{backend_url}/v1",
                "api_key": "k",
            },
        }
        for tokens in lengths
    ]
    return {"model_list": models}


async def run_streams(url: str, tokens: int, streams: int, concurrency: int, time_limit: float) -> dict:
    """``streams`` streamed chat completions at ``concurrency``; the ``data:`` events received, errors."""
    body = {"model": f"stream-{tokens}", "messages": [{"role": "user", "content": "stream"}], "stream": True}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    received = 0
    errors = 0
    remaining = streams
    deadline = time.monotonic() + time_limit
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=60, limits=limits, trust_env=False) as client:

        async def worker() -> None:
            nonlocal received, errors, remaining
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                try:
                    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
                        data = b"".join([part async for part in response.aiter_bytes()])
                except httpx.HTTPError:
                    errors += 1
                    continue
                events = data.count(b"data: ") - data.count(b"data: [DONE]")
                if response.status_code != 200 or b"data: [DONE]" not in data or events < tokens:
                    errors += 1
                received += events

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"chunks": received, "errors": errors}


def measure(proxy: ProxyProcess, tokens: int, streams: int, concurrency: int, time_limit: float = 120) -> dict:
    asyncio.run(run_streams(proxy.url, tokens, 2, min(2, concurrency), 30))  # warm up: connections, first calls
    cpu = proxy.cpu_seconds()
    started = time.monotonic()
    result = asyncio.run(run_streams(proxy.url, tokens, streams, concurrency, time_limit))
    result["wall_s"] = time.monotonic() - started
    result["cpu_s"] = proxy.cpu_seconds() - cpu
    result["us_per_chunk"] = result["cpu_s"] / max(result["chunks"], 1) * 1e6
    return result


def profile(proxy: ProxyProcess, tokens: int, streams: int, concurrency: int, out: Path) -> Path | None:
    """One round under py-spy (collapsed stacks), or None when py-spy is not installed."""
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        return None
    target = out / f"{proxy.name}-{tokens}.txt"
    recorder = subprocess.Popen(
        [
            py_spy,
            "record",
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
            "-p",
            str(proxy.pid),
            "-o",
            str(target),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(1.0)
        asyncio.run(run_streams(proxy.url, tokens, streams, concurrency, 120))
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes its file and exits
        try:
            recorder.wait(30)
        except subprocess.TimeoutExpired:
            stop(recorder)
    return target


def run(
    lengths: list[int],
    streams: int,
    concurrency: int,
    rounds: int,
    workdir: Path,
    profile_dir: Path | None = None,
    log=print,
    time_budget: float = 900,
) -> list[dict]:
    """The three proxies on one backend, every (proxy, length) measured ``rounds`` times in rotating order.

    A measurement starts only while ``time_budget`` seconds have not run out, and stops its streams at the end of it.
    """
    deadline = time.monotonic() + time_budget
    backend, backend_url = start_backend()
    proxies: dict[str, ProxyProcess] = {}
    try:
        config = proxy_config(backend_url, lengths)
        per_chunk = {**config, "litellm_settings": {"stream_through": False}}
        proxies["fork"] = ProxyProcess(config, workdir, name="fork")
        proxies[PER_CHUNK] = ProxyProcess(per_chunk, workdir, name=PER_CHUNK)
        proxies["upstream"] = ProxyProcess(config, workdir, name="upstream", upstream_site=UPSTREAM)
        for proxy in proxies.values():
            proxy.wait_ready()
        runs: dict[tuple[str, int], list[dict]] = {}
        for round_ in range(rounds):
            for i, tokens in enumerate(lengths):
                shift = (round_ + i) % len(proxies)
                order = [*proxies][shift:] + [*proxies][:shift]
                for name in order:
                    if deadline - time.monotonic() < 10:
                        log(f"proxy stream cpu: skipping round {round_ + 1} {name} {tokens} tokens: time budget")
                        continue
                    result = measure(proxies[name], tokens, streams, concurrency, deadline - time.monotonic())
                    log(f"proxy stream cpu: round {round_ + 1} {name} {tokens} tokens: {result}")
                    runs.setdefault((name, tokens), []).append(result)
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
            for tokens in lengths:
                for proxy in proxies.values():
                    target = profile(proxy, tokens, streams, concurrency, profile_dir)
                    log(
                        f"proxy stream cpu: profile of {proxy.name}, {tokens} tokens: {target or 'py-spy not installed'}"
                    )
    finally:
        for proxy in proxies.values():
            proxy.stop()
        stop(backend)
    rows = []
    for (name, tokens), group in runs.items():
        chunks = sum(r["chunks"] for r in group)
        rows.append(
            {
                "proxy": name,
                "tokens": tokens,
                "streams": streams * len(group),
                "concurrency": concurrency,
                "chunks": chunks,
                "errors": sum(r["errors"] for r in group),
                "cpu_s": sum(r["cpu_s"] for r in group),
                "us_per_chunk": sum(r["cpu_s"] for r in group) / max(chunks, 1) * 1e6,
                "per_round_us": [r["us_per_chunk"] for r in group],
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| answer | upstream us/chunk | fork us/chunk | fork / upstream "
        "| fork, per-chunk path us/chunk | per-chunk path / upstream |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tokens in sorted({r["tokens"] for r in rows}):
        up, fork, per_chunk = (
            next((r for r in rows if r["proxy"] == name and r["tokens"] == tokens), None)
            for name in ("upstream", "fork", PER_CHUNK)
        )
        cells = [
            f"{r['us_per_chunk']:.1f}" + (f" ({r['errors']} failed)" if r["errors"] else "") if r else "n/a"
            for r in (up, fork, per_chunk)
        ]
        ratios = [f"{r['us_per_chunk'] / up['us_per_chunk']:.2f}" if up and r else "n/a" for r in (fork, per_chunk)]
        lines.append(f"| {tokens:,} tokens | {cells[0]} | {cells[1]} | {ratios[0]} | {cells[2]} | {ratios[1]} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", default="50,1000", help="answer lengths in tokens, comma-separated")
    parser.add_argument("--streams", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy collapsed stacks into this folder")
    args = parser.parse_args()
    if not (UPSTREAM / "litellm").is_dir():
        sys.exit("pristine upstream not installed: run `make upstream-ref`")
    lengths = [int(t) for t in args.tokens.split(",")]
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="proxy-stream-cpu-") as workdir:
        rows = run(lengths, args.streams, args.concurrency, args.rounds, Path(workdir), args.profile, log)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(markdown(rows))


if __name__ == "__main__":
    main()
