"""Memory and CPU of a long chat completion stream: the fork against the pinned upstream, in one run.

Each measurement runs in its own subprocess: the fork with the installed (or ``--fork-path``) litellm, the
upstream with ``PYTHONPATH=.cache/upstream-site`` (``make upstream-ref``). A worker streams N synthetic text
chunks through ``CustomStreamWrapper`` (``async for``, as the proxy does) from a lazy source, so nothing
but the wrapper and litellm's logging can hold them, and reports:

- retained per chunk while the stream is open (tracemalloc: bytes still allocated after N chunks, over N);
- CPU per chunk (process time for the whole stream, without tracemalloc);
- RSS growth while open and after the stream is dropped (the whole process, so allocator noise included).

    python bench/stream_memory.py                 # 1k, 10k, 100k chunks; prints a markdown table
    python bench/stream_memory.py --sizes 1000    # quicker

Not a timed test: numbers depend on the machine; the ratios are what matters.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_SITE = REPO_ROOT / ".cache" / "upstream-site"
MODEL = "gpt-4o-mini"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _LazyStream:
    """Chunks made on demand (a real provider stream never holds them either)."""

    def __init__(self, count: int) -> None:
        from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices, Usage

        self._types = (Delta, ModelResponseStream, StreamingChoices, Usage)
        self._count = count
        self._index = 0

    def __aiter__(self) -> _LazyStream:
        return self

    async def __anext__(self) -> Any:
        delta_type, stream_type, choices_type, usage_type = self._types
        index = self._index
        self._index += 1
        if index < self._count:
            delta = delta_type(content=f"token{index} ", role="assistant" if index == 0 else None)
            return stream_type(id="chatcmpl-bench", model=MODEL, choices=[choices_type(index=0, delta=delta)])
        if index == self._count:
            usage = usage_type(prompt_tokens=12, completion_tokens=self._count, total_tokens=12 + self._count)
            return stream_type(
                id="chatcmpl-bench",
                model=MODEL,
                choices=[choices_type(index=0, delta=delta_type(), finish_reason="stop")],
                usage=usage,
            )
        raise StopAsyncIteration


def _wrapper(count: int) -> Any:
    sys.path.insert(0, str(REPO_ROOT))  # the worker runs as a script: the tests' shared set-up is found from the root
    from tests.test_litellm.litellm_core_utils.stream_wrapper import stream_wrapper

    messages = [{"role": "user", "content": "count"}]
    return stream_wrapper(_LazyStream(count), model=MODEL, messages=messages, call_type="acompletion")[0]


async def _consume(wrapper: Any, count: int | None) -> int:
    seen = 0
    async for _ in wrapper:
        seen += 1
        if count is not None and seen >= count:
            break
    return seen


def worker(count: int) -> dict[str, Any]:
    import litellm

    litellm.suppress_debug_info = True
    asyncio.run(_consume(_wrapper(50), None))  # warm up: imports, caches, first-call allocations
    gc.collect()

    async def measure() -> dict[str, Any]:
        # CPU: the whole stream, end-of-stream assembly and logging included, no tracing overhead.
        wrapper = _wrapper(count)
        started = time.process_time()
        await _consume(wrapper, None)
        cpu = time.process_time() - started
        await asyncio.sleep(0.2)  # let end-of-stream logging tasks finish
        del wrapper
        gc.collect()

        rss_before = _rss_bytes()
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        wrapper = _wrapper(count)
        await _consume(wrapper, count)  # every content chunk read; the stream is still open
        gc.collect()
        open_bytes = tracemalloc.get_traced_memory()[0] - baseline
        rss_open = _rss_bytes()
        await _consume(wrapper, None)
        await asyncio.sleep(0.2)
        del wrapper
        gc.collect()
        dropped_bytes = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()
        gc.collect()
        return {
            "chunks": count,
            "retained_per_chunk": open_bytes / count,
            "retained_open_mb": open_bytes / 1e6,
            "retained_after_drop_mb": dropped_bytes / 1e6,
            "cpu_us_per_chunk": cpu / count * 1e6,
            "rss_growth_open_mb": (rss_open - rss_before) / 1e6,
            "rss_after_drop_mb": (_rss_bytes() - rss_before) / 1e6,
        }

    return asyncio.run(measure())


def _run(label: str, count: int, pythonpath: str | None) -> dict[str, Any]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(count)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{label} worker failed for {count} chunks:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(upstream: float, fork: float) -> str:
    return f"{upstream / fork:.0f}x" if fork > 0 else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    parser.add_argument("--fork-path", default=None, help="PYTHONPATH for the fork (default: the installed one)")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    if not (UPSTREAM_SITE / "litellm").is_dir():
        raise SystemExit("pristine upstream not installed: run `make upstream-ref`")
    results = []
    for count in (int(size) for size in args.sizes.split(",")):
        fork = _run("fork", count, args.fork_path)
        upstream = _run("upstream", count, str(UPSTREAM_SITE))
        results.append((count, fork, upstream))
        print(f"measured {count} chunks", file=sys.stderr)
    print(
        "| chunks | retained/chunk open: upstream | fork | ratio | CPU us/chunk: upstream | fork |"
        " RSS growth open MB: upstream | fork | RSS after drop MB: upstream | fork |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, fork, upstream in results:
        print(
            f"| {count:,} | {upstream['retained_per_chunk']:,.0f} B | {fork['retained_per_chunk']:,.1f} B"
            f" | {_ratio(upstream['retained_per_chunk'], fork['retained_per_chunk'])}"
            f" | {upstream['cpu_us_per_chunk']:.0f} | {fork['cpu_us_per_chunk']:.0f}"
            f" | {upstream['rss_growth_open_mb']:.1f} | {fork['rss_growth_open_mb']:.1f}"
            f" | {upstream['rss_after_drop_mb']:.1f} | {fork['rss_after_drop_mb']:.1f} |"
        )
    if args.json:
        print(json.dumps([{"chunks": c, "fork": f, "upstream": u} for c, f, u in results], indent=2))


if __name__ == "__main__":
    main()
