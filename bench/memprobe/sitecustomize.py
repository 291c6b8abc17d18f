"""Memory probe for a proxy process: bench/proxy_memory_probe.py puts this folder on the proxy's PYTHONPATH.

With MEMPROBE_DIR set: SIGUSR1 writes a report to MEMPROBE_DIR/<n>.txt (with <n>.txt.pymalloc,
<n>.txt.malloc_info.xml and, when written, <n>.txt.done); SIGWINCH runs gc.collect() and appends what it
found unreachable to gc.txt; SIGUSR2 calls malloc_trim(0) and appends RSS before and after to trim.txt.
MEMPROBE_TRACE=<frames> starts tracemalloc after the first report, so snapshots show what was allocated since.
"""

import ctypes
import gc
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections import Counter

OUT = os.environ.get("MEMPROBE_DIR")
REQUEST_STATE_TYPES = (
    "CustomStreamWrapper",
    "FallbackStreamWrapper",
    "StreamAccumulator",
    "StreamChunkLog",
    "RunningText",
    "Logging",
    "ModelResponseStream",
    "ModelResponse",
    "ClientResponse",
    "WorkerThread",
)
_libc = ctypes.CDLL("libc.so.6")
_reports = [0]
_previous_snapshot = [None]


class Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_libc.mallinfo2.restype = Mallinfo2
_libc.fopen.restype = ctypes.c_void_p


def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def smaps_by_kind():
    """Resident KB per kind of mapping: [heap] (glibc's main arena), anonymous (pymalloc arenas, thread arenas
    and stacks, large allocations), files; and the anonymous mappings, largest first."""
    kinds, anonymous, current = Counter(), [], None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            parts = line.split()
            if not parts[0].endswith(":"):
                low, high = (int(x, 16) for x in parts[0].split("-"))
                current = {"range": parts[0], "size_kb": (high - low) // 1024, "name": " ".join(parts[5:]), "rss": 0}
                anonymous.append(current) if not current["name"] else None
            elif parts[0] == "Rss:":
                current["rss"] = int(parts[1])
                name = current["name"]
                kind = "anonymous" if not name else "file" if name.startswith("/") else name
                kinds[kind] += current["rss"]
    return kinds, sorted(anonymous, key=lambda region: -region["rss"])


def report(*_):
    _reports[0] += 1
    path = os.path.join(OUT, f"{_reports[0]:02d}.txt")
    with open(path, "w") as f:

        def say(*parts):
            print(*parts, file=f)

        say("time", time.time(), "rss_kb", rss_kb())
        say("threads", threading.active_count(), [t.name for t in threading.enumerate()])
        say("os threads", len(os.listdir("/proc/self/task")))
        info = _libc.mallinfo2()
        say("mallinfo2 KB", {name: getattr(info, name) // 1024 for name, _ in Mallinfo2._fields_})
        kinds, anonymous = smaps_by_kind()
        say("smaps rss KB by kind", dict(kinds))
        for region in anonymous[:20]:
            say("  anonymous", region["range"], "size", region["size_kb"], "rss", region["rss"])
        say("gc", gc.get_count(), gc.get_threshold(), gc.get_stats())
        objects = gc.get_objects()
        types = Counter(type(o).__name__ for o in objects)
        say("objects", len(objects), "top types", types.most_common(20))
        say("request state", {name: types.get(name, 0) for name in REQUEST_STATE_TYPES})
        del objects
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>")]
            )
            say("traced", tracemalloc.get_traced_memory())
            for stat in snapshot.statistics("lineno")[:30]:
                say("  ", stat)
            if _previous_snapshot[0] is not None:
                say("difference from the last report")
                for stat in snapshot.compare_to(_previous_snapshot[0], "lineno")[:30]:
                    say("  ", stat)
            _previous_snapshot[0] = snapshot
    descriptor = os.open(path + ".pymalloc", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved = os.dup(2)
    try:
        sys.stderr.flush()
        os.dup2(descriptor, 2)  # sys._debugmallocstats writes to the C stderr
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(descriptor)
    stream = _libc.fopen((path + ".malloc_info.xml").encode(), b"w")
    _libc.malloc_info(0, ctypes.c_void_p(stream))
    _libc.fclose(ctypes.c_void_p(stream))
    open(path + ".done", "w").close()
    if os.environ.get("MEMPROBE_TRACE") and not tracemalloc.is_tracing():
        tracemalloc.start(int(os.environ["MEMPROBE_TRACE"]))


def collect(*_):
    with open(os.path.join(OUT, "gc.txt"), "a") as f:
        print("collect at", time.time(), "rss_kb", rss_kb(), "counts", gc.get_count(), file=f)
        gc.set_debug(gc.DEBUG_SAVEALL)
        found = gc.collect()
        gc.set_debug(0)
        print("unreachable", found, Counter(type(o).__name__ for o in gc.garbage).most_common(40), file=f)
        gc.garbage.clear()
        print("after: rss_kb", rss_kb(), file=f)


def trim(*_):
    before = rss_kb()
    _libc.malloc_trim(0)
    with open(os.path.join(OUT, "trim.txt"), "a") as f:
        print(time.time(), "rss_kb before", before, "after", rss_kb(), file=f)


if OUT:
    signal.signal(signal.SIGUSR1, report)
    signal.signal(signal.SIGUSR2, trim)
    signal.signal(signal.SIGWINCH, collect)
