"""Proxy RSS under long streams: the fork's proxy against the pinned upstream's, in one run, on 127.0.0.1.

Both proxies (``litellm --config``, one worker, no database) run side by side in front of the fake backend of the
end-to-end tests (its own process, zero delay between chunks); they are measured in alternation, one at a time:

- K concurrent clients (K = 1, 4, 16) each read a stream=true answer of N chunks (N = 20,000). Reported: the
  proxy's RSS growth per concurrent stream (peak RSS while the streams run, sampled every 0.1 s, minus the RSS
  just before, over K) and the RSS 10 s after the streams ended, against that pre-load level;
- first, on the fresh proxies: 200 concurrent stream=false calls of 1,000 tokens: the fork answers them with
  ``buffered_stream`` (each call is a backend stream, assembled), upstream with ordinary non-streaming backend
  calls. Reported: peak RSS growth against the total size of the answers.

The streams are also measured through a third proxy, the fork with its idle memory release switched off
(``LITELLM_IDLE_MEMORY_RELEASE_SECONDS=0``), so that the RSS held after them shows what that release gives back.

    python bench/proxy_memory.py                        # the full run (make bench-proxy-memory), ~20 min
    python bench/proxy_memory.py --chunks 5000 --concurrency 1,4 --buffered-calls 50   # a few minutes

RSS is the whole proxy process, so allocator noise is included: read the ratios, not the last megabyte.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / ".cache" / "upstream-site"
sys.path.insert(0, str(ROOT))

from tests.e2e.processes import MASTER_KEY, ProxyProcess  # noqa: E402

SIDES = ("fork", "upstream")
# The fork with its idle memory release switched off (LITELLM_IDLE_MEMORY_RELEASE_SECONDS=0): streams only.
RELEASE_OFF = "fork-release-off"
STREAM_SIDES = ("fork", RELEASE_OFF, "upstream")
HEADERS = {"Authorization": f"Bearer {MASTER_KEY}"}
SETTLE_S = 10.0
PRE_LOAD_IDLE_S = 3.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def configs(backend_url: str, chunks: int, buffered_tokens: int) -> dict[str, dict]:
    def model(name: str, scenario: str, **params: object) -> dict:
        litellm_params = {"model": f"openai/{scenario}", "api_base": f"{backend_url}/v1", "api_key": "sk-fake"}
        return {"model_name": name, "litellm_params": {**litellm_params, **params}}

    common = [model("long", f"text+tokens={chunks}"), model("warm", "text+tokens=50")]
    return {
        "fork": {"model_list": [*common, model("answers", f"text+tokens={buffered_tokens}", buffered_stream=True)]},
        "upstream": {"model_list": [*common, model("answers", f"text+tokens={buffered_tokens}")]},
    }


async def _sample_peak(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mb(pid))
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except TimeoutError:
            pass


async def _under_load(proxy: ProxyProcess, calls: list, timeout: float) -> tuple[float, list]:
    """Run the calls concurrently; the peak RSS of the proxy meanwhile, and their results."""
    peak = [rss_mb(proxy.pid)]
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_peak(proxy.pid, peak, stop))
    try:
        results = await asyncio.wait_for(asyncio.gather(*calls), timeout)
    finally:
        stop.set()
        await sampler
    return max(peak[0], rss_mb(proxy.pid)), results


def _client(proxy: ProxyProcess, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=proxy.url, headers=HEADERS, timeout=600, limits=limits, trust_env=False)


async def _read_stream(client: httpx.AsyncClient, model: str) -> int:
    """SSE frames of one stream=true answer (counted as it arrives: the client keeps nothing)."""
    body = {"model": model, "messages": [{"role": "user", "content": "long"}], "stream": True}
    frames, tail = 0, b""
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"stream: HTTP {response.status_code}")
        async for part in response.aiter_raw():
            frames += (tail + part).count(b"\n\n") - tail.count(b"\n\n")
            tail = part[-1:]
        if not tail.endswith(b"\n"):
            raise RuntimeError("stream ended without a complete frame")
    return frames


async def streams(proxy: ProxyProcess, concurrency: int, chunks: int, timeout: float) -> dict:
    async with _client(proxy, concurrency) as client:
        await _read_stream(client, "warm")
        # Longer than the fork's idle release delay (2 s), so that the pre-load level is a settled, idle proxy's.
        await asyncio.sleep(PRE_LOAD_IDLE_S)
        before = rss_mb(proxy.pid)
        started = time.monotonic()
        peak, frames = await _under_load(proxy, [_read_stream(client, "long") for _ in range(concurrency)], timeout)
        wall = time.monotonic() - started
    await asyncio.sleep(SETTLE_S)
    after = rss_mb(proxy.pid)
    if min(frames) < chunks:
        raise RuntimeError(f"a stream was cut: {min(frames)} frames for {chunks} chunks")
    return {
        "concurrency": concurrency,
        "chunks": chunks,
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "rss_after_mb": after,
        "growth_per_stream_mb": (peak - before) / concurrency,
        "bytes_per_chunk": (peak - before) * 2**20 / (concurrency * chunks),
        "held_after_mb": after - before,
        "wall_s": wall,
    }


async def _answer(client: httpx.AsyncClient) -> int:
    body = {"model": "answers", "messages": [{"role": "user", "content": "answer"}]}
    response = await client.post("/v1/chat/completions", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"buffered: HTTP {response.status_code}: {response.text[:200]}")
    return len(response.json()["choices"][0]["message"]["content"].encode())


async def answers(proxy: ProxyProcess, calls: int, tokens: int, timeout: float) -> dict:
    async with _client(proxy, calls) as client:
        await _answer(client)
        await asyncio.sleep(PRE_LOAD_IDLE_S)
        before = rss_mb(proxy.pid)
        peak, sizes = await _under_load(proxy, [_answer(client) for _ in range(calls)], timeout)
    await asyncio.sleep(SETTLE_S)
    return {
        "calls": calls,
        "tokens": tokens,
        "answers_mb": sum(sizes) / 2**20,
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "peak_growth_mb": peak - before,
        "held_after_mb": rss_mb(proxy.pid) - before,
    }


def run(
    chunks: int = 20_000,
    concurrency: tuple[int, ...] = (1, 4, 16),
    buffered_calls: int = 200,
    buffered_tokens: int = 1000,
    seconds: float = 900,
    workdir: Path | None = None,
    log=print,
) -> dict:
    """Both proxies, measured in alternation; a step that would not fit in ``seconds`` is skipped (and said so)."""
    if not (UPSTREAM / "litellm").is_dir():
        raise SystemExit("pristine upstream not installed: run `make upstream-ref`")
    end = time.monotonic() + seconds
    workdir = workdir or ROOT / "build" / "proxy-memory"
    result: dict = {"chunks": chunks, "streams": [], "answers": [], "skipped": []}
    backend = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_backend.py")], stdout=subprocess.PIPE, text=True)
    proxies: dict[str, ProxyProcess] = {}
    try:
        backend_url = backend.stdout.readline().strip()
        if not backend_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"backend did not start: {backend_url!r}")
        for side, config in configs(backend_url, chunks, buffered_tokens).items():
            upstream_site = UPSTREAM if side == "upstream" else None
            proxies[side] = ProxyProcess(config, workdir, name=side, upstream_site=upstream_site)
        release_off = {"LITELLM_IDLE_MEMORY_RELEASE_SECONDS": "0"}
        proxies[RELEASE_OFF] = ProxyProcess(
            configs(backend_url, chunks, buffered_tokens)["fork"], workdir, name=RELEASE_OFF, extra_env=release_off
        )
        for proxy in proxies.values():
            proxy.wait_ready(max(30.0, min(180.0, end - time.monotonic())))
        # The buffered calls first, on fresh proxies, so that their peak is not hidden in a heap the streams grew.
        for side in SIDES:
            if buffered_calls <= 0:
                break
            if end - time.monotonic() < 60:
                result["skipped"].append(f"{side}: {buffered_calls} buffered calls (time budget)")
                continue
            row = asyncio.run(answers(proxies[side], buffered_calls, buffered_tokens, end - time.monotonic()))
            result["answers"].append({"proxy": side, **row})
            log(f"proxy memory: {side} answers: {row}")
        # Seconds per stream of N chunks for each proxy on this machine, learnt from its first measurement (the
        # fork's proxies stream far faster than upstream's, so one estimate for all would skip them for nothing).
        per_stream: dict[str, float] = {}
        for k in concurrency:
            for side in STREAM_SIDES:
                needed = k * per_stream.get(side, chunks / 1000.0) * 1.5 + SETTLE_S + 5
                if end - time.monotonic() < needed:
                    result["skipped"].append(f"{side}: {k} concurrent streams (time budget)")
                    log(f"proxy memory: skipping {side} x{k}: time budget")
                    continue
                row = asyncio.run(streams(proxies[side], k, chunks, timeout=max(60.0, end - time.monotonic())))
                per_stream[side] = max(per_stream.get(side, 0.0), row["wall_s"] / k)
                result["streams"].append({"proxy": side, **row})
                log(f"proxy memory: {side} x{k}: {row['growth_per_stream_mb']:.2f} MB/stream, {row}")
    finally:
        for proxy in proxies.values():
            proxy.stop()
        backend.terminate()
        try:
            backend.wait(10)
        except subprocess.TimeoutExpired:
            backend.kill()
            backend.wait(5)
    return result


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " ---: |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def markdown(result: dict) -> str:
    by = {(r["proxy"], r["concurrency"]): r for r in result["streams"]}
    rows = []
    for k in sorted({r["concurrency"] for r in result["streams"]}):
        fork, upstream, off = by.get(("fork", k)), by.get(("upstream", k)), by.get((RELEASE_OFF, k))

        def cell(row: dict | None, key: str, fmt: str) -> str:
            return format(row[key], fmt) if row else "n/a"

        ratio = (
            f"{upstream['growth_per_stream_mb'] / max(fork['growth_per_stream_mb'], 0.01):.0f}x"
            if fork and upstream
            else "n/a"
        )
        rows.append(
            [
                str(k),
                cell(upstream, "growth_per_stream_mb", ".1f"),
                cell(fork, "growth_per_stream_mb", ".2f"),
                ratio,
                cell(upstream, "bytes_per_chunk", ",.0f"),
                cell(fork, "bytes_per_chunk", ",.0f"),
                cell(upstream, "held_after_mb", ".1f"),
                cell(fork, "held_after_mb", ".1f"),
                cell(off, "held_after_mb", ".1f"),
            ]
        )
    text = _table(
        [
            f"concurrent {result['chunks']:,}-chunk streams",
            "RSS growth/stream MB: upstream",
            "fork",
            "ratio",
            "bytes/chunk: upstream",
            "fork",
            f"RSS held {SETTLE_S:.0f} s after, MB: upstream",
            "fork",
            "fork, idle release off",
        ],
        rows,
    )
    if result["answers"]:
        answer_rows = [
            [
                f"{r['proxy']} ({'buffered_stream' if r['proxy'] == 'fork' else 'non-streaming backend calls'})",
                f"{r['answers_mb']:.2f}",
                f"{r['peak_growth_mb']:.1f}",
                f"{r['held_after_mb']:.1f}",
            ]
            for r in result["answers"]
        ]
        first = result["answers"][0]
        text += "\n\n" + _table(
            [
                f"{first['calls']} concurrent stream=false calls of {first['tokens']:,} tokens",
                "answers MB",
                "peak RSS growth MB",
                f"RSS held {SETTLE_S:.0f} s after, MB",
            ],
            answer_rows,
        ).replace("| ---: |", "| --- |", 1)
    for note in result["skipped"]:
        text += f"\n- not measured: {note}"
    return text + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=20_000, help="chunks per stream")
    parser.add_argument("--concurrency", default="1,4,16", help="concurrent streams, one measurement each")
    parser.add_argument("--buffered-calls", type=int, default=200, help="concurrent stream=false calls (0: none)")
    parser.add_argument("--buffered-tokens", type=int, default=1000, help="tokens per stream=false answer")
    parser.add_argument("--seconds", type=float, default=1200, help="time budget for the whole run")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--plot", default=None, help="also draw the plot to this PNG file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the proxies and the backend on the way out
    result = run(
        chunks=args.chunks,
        concurrency=tuple(int(k) for k in args.concurrency.split(",")),
        buffered_calls=args.buffered_calls,
        buffered_tokens=args.buffered_tokens,
        seconds=args.seconds,
        log=lambda message: print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True),
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    if args.plot and result["streams"]:
        from bench import _plots

        _plots.proxy_memory(result, Path(args.plot))
    print(markdown(result))


if __name__ == "__main__":
    main()
