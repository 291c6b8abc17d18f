"""Where a proxy's memory goes: one proxy (fork or pinned upstream), K concurrent N-chunk streams, probed inside.

The probe (bench/memprobe/sitecustomize.py, loaded by putting that folder on the proxy's PYTHONPATH) answers
signals inside the proxy process: SIGUSR1 writes a report (RSS; threads; glibc ``mallinfo2`` and
``malloc_info``; /proc/self/smaps by kind: [heap], anonymous, files; ``sys._debugmallocstats``; live objects by
type, the request-state types counted; a tracemalloc snapshot and its difference from the last one when
tracing), SIGWINCH runs a full ``gc.collect()`` and writes what it found unreachable, SIGUSR2 calls
``malloc_trim(0)``. Reports go to ``--out`` (numbered files). Stages: before the streams (after a warm-up
call), optionally while they run (``--during``), when they end, 10 s after, after a full collection, after
``malloc_trim``.

    python bench/proxy_memory_probe.py --side fork --k 16 --chunks 20000 --out build/probe/fork16
    python bench/proxy_memory_probe.py --env MEMPROBE_TRACE=10 --chunks 2000   # tracemalloc from the first report
    python bench/proxy_memory_probe.py --env MEMPROBE_TRACE=10 --during 3      # and a report while the streams run
    python bench/proxy_memory_probe.py --env MALLOC_ARENA_MAX=2                 # any environment for the proxy

A diagnostic, not a benchmark: the reports themselves allocate (listing a million live objects), so read the
allocator figures between reports, and the RSS ratios from bench/proxy_memory.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.proxy_memory import UPSTREAM, _client, _read_stream, configs, rss_mb  # noqa: E402
from tests.e2e.processes import ProxyProcess  # noqa: E402


class Probe:
    def __init__(self, proxy: ProxyProcess, out: Path) -> None:
        self.proxy, self.out, self.reports = proxy, out, 0

    def report(self, label: str) -> None:
        os.kill(self.proxy.pid, signal.SIGUSR1)
        self.reports += 1
        done = self.out / f"{self.reports:02d}.txt.done"
        while not done.exists():
            time.sleep(0.2)
        print(f"[{label}] report {self.reports:02d}: rss {rss_mb(self.proxy.pid):.1f} MB", flush=True)

    def signal(self, sig: signal.Signals, label: str, settle: float) -> None:
        os.kill(self.proxy.pid, sig)
        time.sleep(settle)
        print(f"[{label}] rss {rss_mb(self.proxy.pid):.1f} MB", flush=True)


async def load(proxy: ProxyProcess, probe: Probe, k: int, rounds: int, during: float | None = None) -> None:
    async with _client(proxy, k) as client:
        await _read_stream(client, "warm")
        await asyncio.sleep(1.0)
        probe.report("before")
        for r in range(rounds):
            tasks = [asyncio.create_task(_read_stream(client, "long")) for _ in range(k)]
            peak, started = 0.0, time.monotonic()
            reported_during = during is None
            while not all(task.done() for task in tasks):
                peak = max(peak, rss_mb(proxy.pid))
                if not reported_during and time.monotonic() - started >= during:
                    reported_during = True  # in a thread, so that the clients keep reading meanwhile
                    await asyncio.to_thread(probe.report, f"{during:g} s into round {r}")
                await asyncio.sleep(0.1)
            frames = min(task.result() for task in tasks)
            print(f"round {r}: peak {peak:.1f} MB, {time.monotonic() - started:.1f} s, {frames} frames", flush=True)
            probe.report(f"end of round {r}")
            await asyncio.sleep(10)
            probe.report(f"10 s after round {r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", choices=("fork", "upstream"), default="fork")
    parser.add_argument("--k", type=int, default=16, help="concurrent streams")
    parser.add_argument("--chunks", type=int, default=20_000, help="chunks per stream")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--during", type=float, default=None, help="also report this many seconds into each round, streams running"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "probe" / "out")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the proxy (repeatable)")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        if old.is_file():
            old.unlink()
    env = {"PYTHONPATH": str(ROOT / "bench" / "memprobe"), "MEMPROBE_DIR": str(out)}
    env.update(dict(item.split("=", 1) for item in args.env))
    backend = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_backend.py")], stdout=subprocess.PIPE, text=True)
    proxy = None
    try:
        url = backend.stdout.readline().strip()
        upstream_site = UPSTREAM if args.side == "upstream" else None
        config = configs(url, args.chunks, 100)[args.side]
        proxy = ProxyProcess(config, out / "work", name=args.side, upstream_site=upstream_site, extra_env=env)
        proxy.wait_ready(180)
        probe = Probe(proxy, out)
        asyncio.run(load(proxy, probe, args.k, args.rounds, args.during))
        probe.signal(signal.SIGWINCH, "after gc.collect()", 8)
        probe.report("after gc.collect()")
        probe.signal(signal.SIGUSR2, "after malloc_trim(0)", 1)
    finally:
        if proxy is not None:
            proxy.stop()
        backend.terminate()
        backend.wait(10)


if __name__ == "__main__":
    main()
