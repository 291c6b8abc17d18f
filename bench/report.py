"""`make bench`: the fork against the pinned upstream, side by side in one run, on 127.0.0.1 only.

Writes bench/results/<YYYY-MM-DD>/report.md and PNG plots next to it; raw JSON and proxy logs go to raw/ there
(git-ignored). The fork is the installed wheel; upstream is the pristine wheel in .cache/upstream-site
(`make upstream-ref`). Sections:

1. retained memory vs chunks: bench/stream_memory.py as a subprocess, when the repository has it (run last,
   one size per call, with whatever the budget has left);
2. CPU per chunk: upstream stream, fork stream, fork buffered fast path, fork buffered generic path
   (bench/buffered_cpu.py's `measure`: one fresh interpreter per measurement, backend in its own process);
3. a slow backend through real proxies: success, wall time and backend requests per proxy `timeout`;
4. proxy overhead: p50/p99 latency and proxy CPU per request, native, buffered and stream, at two concurrencies;
5. one large event: a 16 MB answer sent as ONE stream event in 16 KB writes, buffered, against the same answer
   non-streamed (the cost of assembling a large event: linear line buffering).
6. proxy CPU per streamed chunk: `stream: true` through upstream, the fork and the fork's per-chunk path, short
   and long answers
   (bench/proxy_stream_cpu.py, also `make bench-proxy-stream`).
7. proxy memory: RSS growth per concurrent long stream (1, 4, 16 streams of 20,000 chunks) and RSS 10 s after, and
   the peak RSS of 200 concurrent buffered calls (bench/proxy_memory.py's `run`, both proxies of its own).

Every loop has a count and a time bound, the whole run a budget (`--budget`); every process started here is
stopped by its PID in a finally block. Ratios matter, not absolute times: the machine may be shared.

Each section ends with what it compared, its run time and how to run it alone.

usage: python bench/report.py [--quick] [--sections 1,2,3,4,5,6,7] [--out DIR] [--budget SECONDS]
(`make bench BENCH_ARGS='...'` passes them.) --quick writes to bench/results/<date>/raw/quick and a run of some of
the sections to raw/sections-<list> unless --out is given, so neither replaces the day's report or its plots.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / ".cache" / "upstream-site"
sys.path.insert(0, str(ROOT))

from bench import _plots, proxy_memory, proxy_stream_cpu  # noqa: E402
from bench.buffered_cpu import measure  # noqa: E402
from tests.e2e.fake_llm import FakeLLM  # noqa: E402
from tests.e2e.processes import MASTER_KEY, ProxyProcess  # noqa: E402

FULL = {
    "mem_sizes": "1000,10000,100000",
    "cpu_tokens": 2000,
    "cpu_repeats": 5,
    "slow_tokens": 40,
    "slow_delay": 0.1,
    "slow_timeouts": "1,2,6",
    "overhead_tokens": 50,
    "requests_c1": 60,
    "requests_c32": 320,
    "large_mb": 16,
    "large_repeats": 5,
    "stream_tokens": "50,1000",
    "stream_count": 16,
    "stream_rounds": 2,
    "proxy_mem_chunks": 20_000,
    "proxy_mem_concurrency": "1,4,16",
    "proxy_mem_calls": 200,
}
QUICK = {
    **FULL,
    "mem_sizes": "1000,10000",
    "cpu_tokens": 500,
    "cpu_repeats": 2,
    "slow_tokens": 20,
    "slow_timeouts": "1,3",
    "requests_c1": 20,
    "requests_c32": 64,
    "large_repeats": 2,
    "stream_count": 8,
    "stream_rounds": 1,
    "proxy_mem_chunks": 3000,
    "proxy_mem_concurrency": "1,4",
    "proxy_mem_calls": 50,
}
RETRIES = 2
HEADERS = {"Authorization": f"Bearer {MASTER_KEY}"}


class Budget:
    """The run's time budget: each step asks for at most what is left."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def cap(self, seconds: float) -> float:
        return max(1.0, min(seconds, self.left()))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_bounded(command: list[str], timeout: float, env: dict[str, str]) -> tuple[int, str, str]:
    """Run a command in its own process group; on timeout the group is killed (by the child's PID)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout)
        return process.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate(timeout=10)
        return -1, out, err + f"\n(killed after {timeout:.0f} s)"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- 1. memory


def parse_stream_memory(stdout: str) -> tuple[str, list[dict] | None]:
    """The markdown table it prints, and its `--json` results when present."""
    lines = stdout.splitlines()
    markdown = "\n".join(line for line in lines if line.startswith("|"))
    start = next((i for i, line in enumerate(lines) if line.startswith("[")), None)
    rows = None
    if start is not None:
        try:
            rows = json.loads("\n".join(lines[start:]))
        except json.JSONDecodeError:
            rows = None
    return markdown, rows


def section_memory(args, budget: Budget, out: Path, raw: dict) -> str:
    head = "## 1. Retained memory vs chunks\n\n"
    script = Path(args.stream_memory)
    if not script.is_absolute():
        script = ROOT / script
    if not script.exists():
        raw["memory"] = {"status": "absent"}
        return head + (
            f"Not measured: `{args.stream_memory}` (the bounded-memory streaming benchmark) is not in this checkout "
            "yet. Once it is, this section runs it as a subprocess and includes its table and a plot.\n"
        )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    # One size per call, so that a size that runs out of time still leaves the smaller ones.
    seconds = max(0.0, min(args.mem_timeout, budget.left() - 5))
    section_end = time.monotonic() + seconds
    header: list[str] = []
    lines: list[str] = []
    rows: list[dict] = []
    notes: list[str] = []
    raw["memory"] = []
    for size in args.mem_sizes.split(","):
        timeout = budget.cap(section_end - time.monotonic())
        if section_end - time.monotonic() < 5:
            notes.append(f"{int(size):,} chunks: not measured (the section's {seconds:.0f} s were used up)")
            continue
        command = [sys.executable, str(script), "--sizes", size]
        log(f"memory: {script.name} --sizes {size} (up to {timeout:.0f} s)")
        rc, stdout, stderr = run_bounded([*command, "--json"], timeout, env)
        if rc == 2 and "unrecognized arguments" in stderr:  # a version without --json: the table only
            rc, stdout, stderr = run_bounded(command, budget.cap(section_end - time.monotonic()), env)
        markdown, parsed = parse_stream_memory(stdout)
        raw["memory"].append({"size": size, "returncode": rc, "stdout": stdout, "stderr": stderr[-4000:]})
        table_lines = markdown.splitlines()
        if rc != 0 or len(table_lines) < 3:
            reason = stderr.strip().replace(str(ROOT) + "/", "").splitlines()[-1:] or [""]
            notes.append(f"{int(size):,} chunks: not measured (exit {rc}: {reason[0][:200]})")
            continue
        header = header or table_lines[:2]
        lines += table_lines[2:]
        rows += parsed or []
    text = head + (
        f"`python {args.stream_memory} --sizes N` for each N in {args.mem_sizes} (its own subprocesses, fork and "
        f"upstream; one call per size, at most {seconds:.0f} s for the section, what the run's budget had left): "
        "a stream of N synthetic chunks through `CustomStreamWrapper`.\n\n"
    )
    if lines:
        text += "\n".join(header + lines) + "\n"
    text += "".join(f"\n- {note}" for note in notes) + ("\n" if notes else "")
    if rows:
        _plots.memory(rows, out / "memory.png")
        text += "\n![retained memory per chunk](memory.png)\n"
    elif lines:
        text += "\n(no JSON from the script: no plot)\n"
    return text


# ---------------------------------------------------------------------------------------------- 2. CPU per chunk


CPU_PATHS = [
    ("upstream: `acompletion(stream=True)`, consumed", "stream", True),
    ("fork: `acompletion(stream=True)`, consumed", "stream", False),
    ("fork: `acompletion(buffered_stream=True)` (fast path)", "buffered", False),
    ("fork: `completion(buffered_stream=True)` (generic path, sync)", "generic", False),
]


def section_cpu(args, budget: Budget, out: Path, raw: dict, backend_url: str) -> tuple[str, str]:
    head = "## 2. CPU per chunk\n\n"
    results = []
    for label, mode, upstream in CPU_PATHS:
        if budget.left() < 20:
            results.append((label, None))
            continue
        log(f"cpu: {label}")
        try:
            row = measure(
                mode, backend_url, args.cpu_tokens, args.cpu_repeats, upstream=upstream, timeout=budget.cap(240)
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            log(f"cpu: {label} failed: {error}")
            row = None
        results.append((label, row))
    raw["cpu"] = [{"path": label, **(row or {})} for label, row in results]
    base = results[0][1]["us_per_chunk"] if results[0][1] else None
    rows = []
    for label, row in results:
        if row is None:
            rows.append([label, "failed / skipped", ""])
            continue
        ratio = f"{base / row['us_per_chunk']:.1f}x" if base else "n/a"
        rows.append([label, f"{row['us_per_chunk']:.1f}", ratio])
    main = table(
        [f"path ({args.cpu_tokens:,}-chunk answers x {args.cpu_repeats})", "us/chunk", "upstream stream / this"], rows
    )
    text = head + (
        "Client-process CPU (`time.process_time`) per chunk for the same answers from the fake backend, which runs in "
        "its own process; each path in a fresh interpreter (`bench/buffered_cpu.py`'s `measure`).\n\n" + main + "\n"
    )
    measured = [(label.replace("`", ""), row["us_per_chunk"]) for label, row in results if row]
    if measured:
        _plots.cpu_per_chunk(measured, out / "cpu_per_chunk.png")
        text += "\n![CPU per chunk](cpu_per_chunk.png)\n"
    return text, main


# ---------------------------------------------------------------------------------------------- proxies


def proxy_configs(args, slow_url: str, fast_url: str) -> tuple[dict, dict]:
    def model(name: str, scenario: str, api_base: str, **params: object) -> dict:
        params = {"model": f"openai/{scenario}", "api_base": f"{api_base}/v1", "api_key": "sk-fake", **params}
        return {"model_name": name, "litellm_params": params}

    slow = f"text+tokens={args.slow_tokens}+delay={args.slow_delay}"
    large = f"text+size={args.large_mb * 1024 * 1024}+write={16 * 1024}"
    models = [model("fast", f"text+tokens={args.overhead_tokens}", fast_url), model("large", large, slow_url)]
    buffered = []
    for t in timeouts(args):
        models.append(model(f"slow-t{t:g}", slow, slow_url, timeout=t))
        buffered.append(model(f"slow-t{t:g}-buffered", slow, slow_url, timeout=t, buffered_stream=True))
    common = {"router_settings": {"num_retries": RETRIES, "retry_after": 0}}
    return {"model_list": models + buffered, **common}, {"model_list": models, **common}


def timeouts(args) -> list[float]:
    return [float(t) for t in args.slow_timeouts.split(",")]


# ---------------------------------------------------------------------------------------------- 3. slow backend


SLOW_VARIANTS = ["upstream, stream=false", "fork, stream=false", "fork, buffered_stream"]


def section_slow(args, budget: Budget, out: Path, raw: dict, proxies: dict, backend: FakeLLM) -> tuple[str, str]:
    head = "## 3. Slow backend through the proxy\n\n"
    generation = args.slow_tokens * args.slow_delay
    cases = []
    for t in timeouts(args):
        for variant in SLOW_VARIANTS:
            proxy = proxies["upstream" if variant.startswith("upstream") else "fork"]
            model = f"slow-t{t:g}" + ("-buffered" if "buffered" in variant else "")
            client_timeout = min(120.0, (RETRIES + 1) * (t + generation) + 30)
            if budget.left() < client_timeout:
                log(f"slow: skipping {variant} at timeout {t:g}: time budget")
                continue
            backend.reset()
            started = time.monotonic()
            try:
                response = httpx.post(
                    f"{proxy.url}/v1/chat/completions",
                    json={"model": model, "messages": [{"role": "user", "content": f"slow {t} {variant}"}]},
                    headers=HEADERS,
                    timeout=client_timeout,
                    trust_env=False,
                )
                status = response.status_code
                words = len(response.json()["choices"][0]["message"]["content"].split()) if status == 200 else 0
                buffered_header = response.headers.get("x-litellm-buffered-stream", "")
            except httpx.HTTPError as error:
                status, words, buffered_header = f"client error: {type(error).__name__}", 0, ""
            wall = time.monotonic() - started
            time.sleep(0.3)  # let cancelled attempts land before counting
            case = {
                "timeout": t,
                "variant": variant,
                "ok": status == 200 and words == args.slow_tokens,
                "status": status,
                "wall_s": wall,
                "backend_requests": len(backend.requests),
                "backend_streamed": sum(bool(seen.body.get("stream")) for seen in backend.requests),
                "buffered_header": buffered_header,
            }
            log(f"slow: timeout {t:g} {variant}: {case}")
            cases.append(case)
    raw["slow"] = cases
    rows = [
        [
            f"{c['timeout']:g} s",
            c["variant"],
            "yes" if c["ok"] else f"no ({c['status']})",
            f"{c['wall_s']:.1f}",
            str(c["backend_requests"]),
        ]
        for c in cases
    ]
    main = table(["proxy `timeout`", "request", "success", "wall s", "backend requests"], rows, "llrrr")
    text = head + (
        f"The backend generates {args.slow_tokens} tokens at {args.slow_delay:g} s gaps ({generation:g} s); answering "
        "`stream: false` it is silent until the end. Both proxies run with `router_settings: {num_retries: "
        f"{RETRIES}, retry_after: 0}}` and the model's `timeout` below; one client request per row (client timeout "
        "well above the longest case). Backend requests are counted by the fake backend. With one deployment the "
        "router backs off between retries (exponential, with jitter; `retry_after` is only its minimum), so a "
        "failed row's wall time is attempts x `timeout` plus that back-off.\n\n" + main + "\n"
    )
    if cases:
        _plots.slow_backend(cases, SLOW_VARIANTS, generation, out / "slow_backend.png")
        text += "\n![slow backend](slow_backend.png)\n"
    return text, main


# ---------------------------------------------------------------------------------------------- 4. overhead


async def load(proxy: ProxyProcess, mode: str, requests: int, concurrency: int, time_limit: float) -> dict:
    body: dict = {"model": "fast", "messages": [{"role": "user", "content": "overhead"}]}
    if mode == "buffered":
        body["buffered_stream"] = True
    if mode == "stream":
        body["stream"] = True
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=proxy.url, headers=HEADERS, timeout=60, limits=limits, trust_env=False
    ) as client:

        async def one() -> bool:
            if mode == "stream":
                async with client.stream("POST", "/v1/chat/completions", json=body) as response:
                    data = b"".join([part async for part in response.aiter_bytes()])
                    return response.status_code == 200 and b"[DONE]" in data
            response = await client.post("/v1/chat/completions", json=body)
            return response.status_code == 200

        for _ in range(3):  # warm up: connections, first-call paths
            await one()
        latencies: list[float] = []
        errors = 0
        issued = 0
        deadline = time.monotonic() + time_limit

        async def worker() -> None:
            nonlocal errors, issued
            while issued < requests and time.monotonic() < deadline:
                issued += 1
                started = time.perf_counter()
                try:
                    ok = await one()
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        cpu = proxy.cpu_seconds()
        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.monotonic() - started
        cpu = proxy.cpu_seconds() - cpu
    return {"latencies": latencies, "errors": errors, "cpu_s": cpu, "wall_s": wall}


def summarize(name: str, mode: str, concurrency: int, runs: list[dict]) -> dict:
    """Rounds pooled: percentiles over every latency, CPU and rate over every request."""
    latencies = [x for run in runs for x in run["latencies"]]
    errors = sum(run["errors"] for run in runs)
    done = len(latencies) + errors
    wall = sum(run["wall_s"] for run in runs)
    return {
        "proxy": name,
        "mode": mode,
        "concurrency": concurrency,
        "rounds": len(runs),
        "requests": done,
        "errors": errors,
        "p50_ms": float(numpy.percentile(latencies, 50) * 1000) if latencies else float("nan"),
        "p99_ms": float(numpy.percentile(latencies, 99) * 1000) if latencies else float("nan"),
        "cpu_ms": sum(run["cpu_s"] for run in runs) / max(done, 1) * 1000,
        "rps": done / wall if wall else 0.0,
        "per_round_p50_ms": [float(numpy.percentile(r["latencies"], 50) * 1000) for r in runs if r["latencies"]],
        "per_round_cpu_ms": [r["cpu_s"] / max(len(r["latencies"]) + r["errors"], 1) * 1000 for r in runs],
    }


OVERHEAD_MODES = ["native", "buffered", "stream"]


def section_overhead(args, budget: Budget, out: Path, raw: dict, proxies: dict) -> tuple[str, str]:
    head = "## 4. Proxy overhead\n\n"
    runs: dict[tuple[str, str, int], list[dict]] = {}
    levels = ((1, args.requests_c1), (32, args.requests_c32))
    step = 0
    for round_ in range(args.rounds):
        for concurrency, requests in levels:
            for mode in OVERHEAD_MODES:
                # Alternate who goes first, per measurement and per round, so neither proxy always follows the other.
                order = ["fork", "upstream"] if (step + round_) % 2 == 0 else ["upstream", "fork"]
                step += 1
                for name in order:
                    if name == "upstream" and mode == "buffered":
                        continue
                    if budget.left() < 15:
                        log(f"overhead: skipping {name} {mode} c={concurrency}: time budget")
                        continue
                    per_round = max(1, requests // args.rounds)
                    run = asyncio.run(load(proxies[name], mode, per_round, concurrency, budget.cap(120) - 5))
                    runs.setdefault((name, mode, concurrency), []).append(run)
                    done = len(run["latencies"])
                    log(
                        f"overhead: round {round_ + 1} {name} {mode} c={concurrency}: {done} ok, {run['errors']} failed"
                    )
    results = [summarize(name, mode, c, group) for (name, mode, c), group in runs.items()]
    raw["overhead"] = results
    rows = []
    for concurrency in (1, 32):
        for mode in OVERHEAD_MODES:
            for name in ("fork", "upstream"):
                row = next(
                    (
                        r
                        for r in results
                        if r["proxy"] == name and r["mode"] == mode and r["concurrency"] == concurrency
                    ),
                    None,
                )
                label = f"{name}, {mode}"
                if row is None:
                    note = "n/a (no buffered mode)" if name == "upstream" and mode == "buffered" else "not measured"
                    rows.append([str(concurrency), label, note, "", "", "", ""])
                    continue
                rows.append(
                    [
                        str(concurrency),
                        label,
                        f"{row['requests']}" + (f" ({row['errors']} failed)" if row["errors"] else ""),
                        f"{row['p50_ms']:.1f}",
                        f"{row['p99_ms']:.1f}",
                        f"{row['cpu_ms']:.1f}",
                        f"{row['rps']:.0f}",
                    ]
                )
    main = table(
        ["concurrency", "proxy, request", "requests", "p50 ms", "p99 ms", "proxy CPU ms/request", "req/s"],
        rows,
        "rlrrrrr",
    )
    text = head + (
        f"A fast backend (`text+tokens={args.overhead_tokens}`, no delay, its own process); both proxies running side "
        "by side, measured in alternation; the load client is `httpx.AsyncClient` in the orchestrator. Latency is the "
        "client's, to the last byte; proxy CPU is utime+stime of the proxy process (`/proc/<pid>/stat`) over the "
        "measured requests, after 3 warm-up requests. Each row pools "
        f"{args.rounds} rounds of 1/{args.rounds} of the requests each, the order of the two proxies alternating. "
        "Upstream has no buffered mode.\n\n" + main + "\n"
    )
    if results:
        _plots.proxy_overhead(results, out / "proxy_overhead.png")
        text += "\n![proxy overhead](proxy_overhead.png)\n"
    return text, main


# ---------------------------------------------------------------------------------------------- 5. one large event

LARGE_VARIANTS = [("upstream", "stream=false", {}), ("fork", "stream=false", {}), ("fork", "buffered_stream", {})]


def section_large_event(args, budget: Budget, raw: dict, proxies: dict) -> tuple[str, str]:
    head = "## 5. One large event\n\n"
    size = args.large_mb * 1024 * 1024
    timings: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    with httpx.Client(timeout=120) as client:
        for repeat in range(1 + args.large_repeats):  # the first round warms up every path
            for name, label, _ in LARGE_VARIANTS:
                if budget.left() < 20:
                    log(f"large event: skipping {name} {label}: time budget")
                    continue
                body = {"model": "large", "messages": [{"role": "user", "content": "w"}]}
                if label == "buffered_stream":
                    body["buffered_stream"] = True
                started = time.monotonic()
                response = client.post(f"{proxies[name].url}/v1/chat/completions", json=body, headers=HEADERS)
                elapsed = time.monotonic() - started
                ok = response.status_code == 200 and len(response.json()["choices"][0]["message"]["content"]) == size
                key = f"{name}, {label}"
                if not ok:
                    failures[key] = failures.get(key, 0) + 1
                elif repeat:
                    timings.setdefault(key, []).append(elapsed)
    raw["large_event"] = {"bytes": size, "timings_s": timings, "failures": failures}
    baseline = float(numpy.median(timings["upstream, stream=false"])) if timings.get("upstream, stream=false") else None
    rows = []
    for name, label, _ in LARGE_VARIANTS:
        key = f"{name}, {label}"
        runs = timings.get(key) or []
        if not runs:
            rows.append([key, "not measured" + (f" ({failures[key]} failed)" if key in failures else ""), "", ""])
            continue
        median = float(numpy.median(runs))
        ratio = f"{median / baseline:.2f}x" if baseline else ""
        rows.append(
            [key, f"{len(runs)}" + (f" ({failures[key]} failed)" if key in failures else ""), f"{median:.2f}", ratio]
        )
    main = table(["proxy, request", "requests", "median s", "/ upstream stream=false"], rows, "lrrr")
    text = head + (
        f"One answer of {args.large_mb} MB of text: non-streamed, one JSON body; streamed, ONE `data:` event written "
        "in 16 KB pieces (`tests/e2e/fake_llm.py`, `text+size=...+write=16384`), so the buffered call assembles one "
        "multi-megabyte line from a thousand reads. Time is the client's, to the last byte, after one warm-up request "
        "per path; the backend runs in the orchestrator's process for all three.\n\n" + main + "\n"
    )
    return text, main


# ---------------------------------------------------------------------------------------------- 6. stream CPU


STREAM_CONCURRENCY = 4


def section_stream_cpu(args, budget: Budget, out: Path, raw: dict) -> tuple[str, str]:
    head = "## 6. Proxy CPU per streamed chunk\n\n"
    lengths = [int(t) for t in args.stream_tokens.split(",")]
    seconds = budget.cap(300)
    log(
        f"stream cpu: {lengths} tokens, {args.stream_count} streams x {args.stream_rounds} rounds (up to {seconds:.0f} s)"
    )
    rows = proxy_stream_cpu.run(
        lengths,
        args.stream_count,
        STREAM_CONCURRENCY,
        args.stream_rounds,
        out / "raw",
        log=log,
        time_budget=seconds - 40,  # the proxies' start and stop
    )
    raw["stream_cpu"] = rows
    main = proxy_stream_cpu.markdown(rows)
    text = head + (
        f"`stream: true` through the real proxies (one worker, no database) in front of the zero-delay fake backend "
        f"(its own process): {args.stream_count} streams per answer length at concurrency {STREAM_CONCURRENCY}, read by "
        "`httpx`; proxy CPU (utime+stime) over the streams divided by the `data:` events the client received. "
        "Upstream, the fork (its stream-through lane) and the fork's per-chunk path (`stream_through: false`, what a "
        "stream costs when a callback reads every chunk) run side by side and are measured in rotation, "
        f"{args.stream_rounds} round(s) each "
        "(`bench/proxy_stream_cpu.py`; `make bench-proxy-stream` runs this section alone). Where the time goes: "
        "[docs/streaming-cpu.md](../../../docs/streaming-cpu.md).\n\n" + main + "\n"
    )
    if rows:
        _plots.stream_cpu(rows, out / "stream_cpu.png")
        text += "\n![proxy CPU per streamed chunk](stream_cpu.png)\n"
    return text, main


# ---------------------------------------------------------------------------------------------- 7. proxy memory


def section_proxy_memory(args, budget: Budget, out: Path, raw: dict) -> tuple[str, str]:
    head = "## 7. Proxy memory under long streams\n\n"
    seconds = max(0.0, min(args.proxy_mem_timeout, budget.left() - 60))
    if seconds < 60:
        raw["proxy_memory"] = {"status": "skipped: time budget"}
        return head + "Not measured: the run's time budget was used up.\n", ""
    log(f"proxy memory: up to {seconds:.0f} s")
    result = proxy_memory.run(
        chunks=args.proxy_mem_chunks,
        concurrency=tuple(int(k) for k in args.proxy_mem_concurrency.split(",")),
        buffered_calls=args.proxy_mem_calls,
        seconds=seconds,
        workdir=out / "raw",
        log=log,
    )
    raw["proxy_memory"] = result
    main = proxy_memory.markdown(result)
    text = head + (
        "`bench/proxy_memory.py`: the fork's proxy and the pinned upstream's (`litellm --config`, one worker, no "
        "database) side by side in front of the fake backend (its own process, no delay between chunks), measured "
        "in alternation. First, on the fresh proxies, concurrent stream=false calls (the fork with "
        "`buffered_stream`, upstream with ordinary non-streaming backend calls): peak RSS growth against the size "
        "of the answers. Then K clients each read a stream=true answer; growth per stream is the proxy's peak RSS "
        "while they run (sampled every 0.1 s) minus its RSS just before, over K; held is its RSS 10 s after they "
        "ended, minus that same pre-load level. The streams also go through a third proxy, the fork with its idle "
        "memory release off (`LITELLM_IDLE_MEMORY_RELEASE_SECONDS=0`).\n\n" + main
    )
    if result["streams"]:
        _plots.proxy_memory(result, out / "proxy_memory.png")
        text += "\n![proxy memory](proxy_memory.png)\n"
    return text, main


# ---------------------------------------------------------------------------------------------- main

ALL_SECTIONS = (1, 2, 3, 4, 5, 6, 7)
# What each section puts side by side, and the make target that runs its benchmark on its own, if any.
COMPARED = {
    1: "the pinned upstream's `CustomStreamWrapper` against the fork's, each in fresh subprocesses",
    2: "the pinned upstream's stream against the fork's stream, buffered fast path and generic path, each in a "
    "fresh interpreter",
    3: "the pinned upstream's proxy against the fork's (stream=false, and buffered_stream), running side by side",
    4: "the pinned upstream's proxy against the fork's, running side by side, measured in alternation",
    5: "the pinned upstream's proxy against the fork's (stream=false, and buffered_stream), running side by side",
    6: "the pinned upstream's proxy, the fork's and the fork's with its stream-through lane off, running side by "
    "side, measured in rotation",
    7: "the pinned upstream's proxy, the fork's and the fork's with its idle memory release off, running side by "
    "side, measured in alternation",
}
OWN_TARGET = {1: "make bench-memory", 6: "make bench-proxy-stream", 7: "make bench-proxy-memory"}


def section_footer(section: int, seconds: float) -> str:
    """Each section says what it compared, how long it took and how to run it alone."""
    alone = f"`make bench BENCH_ARGS='--sections {section}'`"
    if section in OWN_TARGET:
        alone += f" (the benchmark alone, without the report: `{OWN_TARGET[section]}`)"
    return (
        f"\nCompared, in this run: {COMPARED[section]}. Section run time: {seconds / 60:.1f} min. "
        f"This section alone: {alone}.\n"
    )


def machine() -> str:
    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0))
    return f"{cores} cores ({model or platform.machine()}), Python {platform.python_version()}"


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes everywhere (a few minutes), into raw/quick")
    parser.add_argument("--sections", default="1,2,3,4,5,6,7", help="which sections to run")
    parser.add_argument("--out", default=None, help="output folder (default bench/results/<today>)")
    parser.add_argument("--budget", type=float, default=1600, help="seconds for the whole run (make bench: < 27 min)")
    parser.add_argument("--stream-memory", default="bench/stream_memory.py", help="the memory benchmark script")
    parser.add_argument("--rounds", type=int, default=2, help="section 4: rounds per measurement (alternating)")
    parser.add_argument("--mem-timeout", type=float, default=600, help="seconds for section 1 (run last)")
    parser.add_argument("--proxy-mem-timeout", type=float, default=750, help="seconds for section 7")
    for key, value in FULL.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=None)
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if not (UPSTREAM / "litellm").is_dir():
        sys.exit("pristine upstream not installed: run `make upstream-ref`")
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    sections = {int(s) for s in args.sections.split(",")}
    budget = Budget(args.budget)
    began = time.monotonic()
    today = datetime.date.today().isoformat()
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / today
    if not args.out:  # a quick or partial run never replaces the day's report or its plots; raw/ is git-ignored
        partial = "" if sections >= set(ALL_SECTIONS) else "sections-" + "-".join(map(str, sorted(sections)))
        tag = "-".join(filter(None, ("quick" if args.quick else "", partial)))
        out = out / "raw" / tag if tag else out
    raw_dir = out / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    for stale in (
        "memory.png",
        "cpu_per_chunk.png",
        "slow_backend.png",
        "proxy_overhead.png",
        "stream_cpu.png",
        "proxy_memory.png",
    ):
        (out / stale).unlink(missing_ok=True)  # a rerun on the same day: only this run's plots
    raw: dict = {"args": vars(args), "machine": machine(), "load_average_start": load_average()}
    fork_version = importlib.metadata.version("litellm")
    upstream_version = next(UPSTREAM.glob("litellm-*.dist-info")).name.removeprefix("litellm-").split(".dist")[0]
    command = " ".join(["python bench/report.py", *sys.argv[1:]]) if sys.argv[1:] else "make bench"
    parts: dict[int, str] = {}
    seconds: dict[int, float] = {}

    def timed(section: int, run, *run_args) -> None:
        started = time.monotonic()
        result = run(*run_args)
        seconds[section] = time.monotonic() - started
        parts[section] = result[0] if isinstance(result, tuple) else result

    log(f"bench: sections {sorted(sections)}, budget {args.budget:.0f} s, out {out}")

    backend_proc = None
    backend_url = ""
    slow_backend = None
    proxies: dict[str, ProxyProcess] = {}
    try:
        if sections & {2, 4}:
            backend_proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "_backend.py")], stdout=subprocess.PIPE, text=True
            )
            backend_url = backend_proc.stdout.readline().strip()
            if not backend_url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"backend did not start: {backend_url!r}")
        if 2 in sections:
            timed(2, section_cpu, args, budget, out, raw, backend_url)
        if sections & {3, 4, 5}:
            started = time.monotonic()
            slow_backend = FakeLLM().start()
            fork_config, upstream_config = proxy_configs(args, slow_backend.url, backend_url)
            log("proxies: starting fork and upstream")
            proxies["fork"] = ProxyProcess(fork_config, raw_dir, name="fork")
            proxies["upstream"] = ProxyProcess(upstream_config, raw_dir, name="upstream", upstream_site=UPSTREAM)
            for proxy in proxies.values():
                proxy.wait_ready(budget.cap(120))
            raw["proxies_start_s"] = time.monotonic() - started
        if 3 in sections:
            timed(3, section_slow, args, budget, out, raw, proxies, slow_backend)
        if 4 in sections:
            timed(4, section_overhead, args, budget, out, raw, proxies)
        if 5 in sections:
            timed(5, section_large_event, args, budget, raw, proxies)
        for proxy in proxies.values():
            proxy.stop()
        if 6 in sections:  # its own backend and proxies: nothing else running while it measures
            timed(6, section_stream_cpu, args, budget, out, raw)
    finally:
        for proxy in proxies.values():
            proxy.stop()
        if slow_backend is not None:
            slow_backend.stop()
        if backend_proc is not None:
            backend_proc.terminate()
            try:
                backend_proc.wait(10)
            except subprocess.TimeoutExpired:
                backend_proc.kill()
                backend_proc.wait(5)

    if 7 in sections:  # its own proxies, after the others stopped
        timed(7, section_proxy_memory, args, budget, out, raw)
    if 1 in sections:  # last: the longest, and bounded by whatever the budget has left
        timed(1, section_memory, args, budget, out, raw)
    elapsed = time.monotonic() - began
    raw["load_average_end"] = load_average()
    raw["elapsed_s"] = elapsed
    raw["section_s"] = seconds
    (raw_dir / "results.json").write_text(json.dumps(raw, indent=2, default=str))
    per_section = ", ".join(f"section {k}: {seconds[k] / 60:.1f} min" for k in sorted(seconds))
    if "proxies_start_s" in raw:
        per_section += f", starting the two proxies of sections 3-5: {raw['proxies_start_s'] / 60:.1f} min"
    header = (
        f"# Benchmark report, {today}\n\n"
        f"`{command}` (`bench/report.py`): the fork (`litellm {fork_version}`, the installed wheel) and the pinned "
        f"upstream (`litellm {upstream_version}`, `.cache/upstream-site`) side by side in one run, on 127.0.0.1 only, "
        "against the fake backend of `tests/e2e/fake_llm.py`. Ratios matter, not absolute times.\n\n"
        f"- machine: {machine()}\n"
        f"- load average (1/5/15 min) at start: {raw['load_average_start']}, at end: {raw['load_average_end']} "
        "(other jobs may have been running)\n"
        f"- run time: {elapsed / 60:.1f} min ({per_section})\n"
    )
    missing = sorted(set(ALL_SECTIONS) - sections)
    if missing:
        header += f"- sections not run: {', '.join(map(str, missing))}\n"
    report = header + "\n" + "\n".join(parts[k] + section_footer(k, seconds[k]) for k in sorted(parts))
    (out / "report.md").write_text(report)
    log(f"bench: wrote {out / 'report.md'} in {elapsed:.0f} s")
    print(report)


if __name__ == "__main__":
    main()
