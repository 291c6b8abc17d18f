"""PNG plots for bench/report.py (matplotlib, Agg backend, small files)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

DPI = 80
FORK = "#1f77b4"
UPSTREAM = "#ff7f0e"


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def memory(rows: list[dict], path: Path) -> Path:
    """rows: {"chunks", "upstream": {...}, "fork": {...}} with retained_per_chunk (and rss_growth_open_mb)."""
    chunks = [r["chunks"] for r in rows]
    with_rss = all("rss_growth_open_mb" in r["upstream"] and "rss_growth_open_mb" in r["fork"] for r in rows)
    fig, axes = plt.subplots(1, 2 if with_rss else 1, figsize=(10 if with_rss else 6, 4), squeeze=False)
    ax = axes[0][0]
    for side, color, style in (("upstream", UPSTREAM, "o-"), ("fork", FORK, "x--")):
        ax.plot(chunks, [max(r[side]["retained_per_chunk"], 0.1) for r in rows], style, color=color, label=side)
    ax.set(xscale="log", yscale="log", xlabel="chunks in the stream", ylabel="bytes retained per chunk (open)")
    ax.set_title("Retained memory per chunk while the stream is open")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if with_rss:
        ax = axes[0][1]
        for side, color, style in (("upstream", UPSTREAM, "o-"), ("fork", FORK, "x--")):
            ax.plot(chunks, [r[side]["rss_growth_open_mb"] for r in rows], style, color=color, label=side)
        ax.set(xscale="log", xlabel="chunks in the stream", ylabel="RSS growth, stream open (MB)")
        ax.set_title("Process RSS growth")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    return _save(fig, path)


def cpu_per_chunk(rows: list[tuple[str, float]], path: Path) -> Path:
    labels = [name for name, _ in rows]
    values = [value for _, value in rows]
    colors = [UPSTREAM if name.startswith("upstream") else FORK for name in labels]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    bars = ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("client CPU per chunk (us), lower is better")
    ax.set_title("CPU per chunk, same answers, one run")
    for bar, value in zip(bars, values, strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {value:.1f}", va="center")
    ax.set_xlim(0, max(values) * 1.18)
    return _save(fig, path)


def slow_backend(cases: list[dict], variants: list[str], generation_s: float, path: Path) -> Path:
    """cases: {"timeout", "variant", "ok", "wall_s", "backend_requests"}."""
    timeouts = sorted({c["timeout"] for c in cases})
    colors = {variants[0]: UPSTREAM, variants[1]: "#9467bd", variants[2]: FORK} if len(variants) == 3 else {}
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=(10, 4))
    for i, variant in enumerate(variants):
        for j, timeout in enumerate(timeouts):
            case = next((c for c in cases if c["timeout"] == timeout and c["variant"] == variant), None)
            if case is None:
                continue
            x = j + (i - (len(variants) - 1) / 2) * width
            ax.bar(
                x,
                case["wall_s"],
                width,
                color=colors.get(variant, FORK),
                hatch="" if case["ok"] else "//",
                edgecolor="black" if not case["ok"] else colors.get(variant, FORK),
            )
            mark = "ok" if case["ok"] else "FAIL"
            ax.text(x, case["wall_s"], f"{mark}\n{case['backend_requests']} req", ha="center", va="bottom", fontsize=8)
    line = ax.axhline(generation_s, color="gray", linestyle="--", linewidth=1)
    line.set_label(f"backend generation ({generation_s:g} s)")
    handles = [Patch(color=colors.get(v, FORK), label=v) for v in variants]
    handles += [Patch(facecolor="white", edgecolor="black", hatch="//", label="failed"), line]
    ax.set_xticks(range(len(timeouts)), [f"timeout {t:g} s" for t in timeouts])
    ax.set_ylabel("client wall time (s)")
    ax.set_title("Slow backend behind the proxy (num_retries 2); hatched = failed", fontsize=10)
    top = max(c["wall_s"] for c in cases)
    ax.set_ylim(0, top * 1.3)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return _save(fig, path)


def proxy_overhead(rows: list[dict], path: Path) -> Path:
    """rows: {"proxy", "mode", "concurrency", "p50_ms", "p99_ms", "cpu_ms"}; a missing row is drawn as n/a."""
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    levels = sorted({r["concurrency"] for r in rows})
    metrics = (("p50_ms", "p50 latency (ms)"), ("p99_ms", "p99 latency (ms)"), ("cpu_ms", "proxy CPU ms / request"))
    fig, axes = plt.subplots(len(levels), 3, figsize=(11, 3.2 * len(levels)), squeeze=False)
    for li, level in enumerate(levels):
        for mi, (key, label) in enumerate(metrics):
            ax = axes[li][mi]
            for pi, (proxy, color) in enumerate((("fork", FORK), ("upstream", UPSTREAM))):
                for xi, mode in enumerate(modes):
                    row = next(
                        (r for r in rows if r["proxy"] == proxy and r["mode"] == mode and r["concurrency"] == level),
                        None,
                    )
                    x = xi + (pi - 0.5) * 0.4
                    if row is None:
                        ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=8)
                        continue
                    ax.bar(x, row[key], 0.4, color=color, label=proxy if xi == 0 else None)
            ax.set_xticks(range(len(modes)), modes)
            ax.set_title(f"{label}, concurrency {level}", fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
            if li == 0 and mi == 0:
                ax.legend(fontsize=8)
    return _save(fig, path)


def proxy_memory(result: dict, path: Path) -> Path:
    """result: bench/proxy_memory.py's run(): RSS growth per stream and RSS held after, per concurrency and proxy
    (upstream, the fork and, when measured, the fork with its idle memory release off)."""
    levels = sorted({r["concurrency"] for r in result["streams"]})
    measured = {r["proxy"] for r in result["streams"]}
    sides = [
        (side, color, label)
        for side, color, label in (
            ("upstream", UPSTREAM, "upstream"),
            ("fork", FORK, "fork"),
            ("fork-release-off", "#9ecae1", "fork, idle release off"),
        )
        if side in measured
    ]
    width = 0.8 / max(len(sides), 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = (
        ("growth_per_stream_mb", "RSS growth per concurrent stream (MB)"),
        ("held_after_mb", "RSS held 10 s after the streams (MB)"),
    )
    for ax, (key, label) in zip(axes, panels, strict=True):
        for pi, (side, color, side_label) in enumerate(sides):
            for li, level in enumerate(levels):
                row = next((r for r in result["streams"] if r["proxy"] == side and r["concurrency"] == level), None)
                x = li + (pi - (len(sides) - 1) / 2) * width
                if row is None:
                    ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=8)
                    continue
                ax.bar(x, row[key], width, color=color, label=side_label if li == 0 else None)
                ax.text(x, max(row[key], 0), f"{row[key]:.1f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(levels)), [f"{level} stream{'s' if level != 1 else ''}" for level in levels])
        ax.set_ylabel(label)
        ax.set_title(f"proxy, {result['chunks']:,}-chunk streams", fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def stream_cpu(rows: list[dict], path: Path) -> Path:
    """rows: {"proxy", "tokens", "us_per_chunk"}; bars per answer length, upstream's fifth (the target) dashed."""
    lengths = sorted({r["tokens"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 3.6))
    bars = (
        ("upstream", UPSTREAM, "upstream"),
        ("fork", FORK, "fork"),
        ("fork-per-chunk", "#9ecae1", "fork, per-chunk path"),
    )
    width = 0.8 / len(bars)
    for pi, (proxy, color, label) in enumerate(bars):
        for xi, tokens in enumerate(lengths):
            row = next((r for r in rows if r["proxy"] == proxy and r["tokens"] == tokens), None)
            if row is None:
                continue
            x = xi + (pi - (len(bars) - 1) / 2) * width
            ax.bar(x, row["us_per_chunk"], width, color=color, label=label if xi == 0 else None)
            ax.text(x, row["us_per_chunk"], f"{row['us_per_chunk']:.0f}", ha="center", va="bottom", fontsize=8)
            if proxy == "upstream":
                target = row["us_per_chunk"] / 5
                ax.hlines(target, xi - 0.4, xi + 0.4, colors="gray", linestyles="--", linewidth=1)
                ax.text(xi - 0.4, target, "target: 1/5 of upstream", va="bottom", fontsize=7, color="gray")
    ax.set_xticks(range(len(lengths)), [f"{t:,}-token answers" for t in lengths])
    ax.set_ylabel("proxy CPU per streamed chunk (us)")
    ax.set_title("stream: true through the proxy, lower is better", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
