"""The PNG plots of docs/BENCHMARKS.md (matplotlib, headless)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from chalicelib.model.kinds import is_audio_part

STAGE_COLOURS = ["#4c72b0", "#8172b2", "#937860", "#dd8452", "#55a868", "#c44e52", "#64b5cd"]
DPI = 110


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def overhead(sources: list[dict[str, Any]], path: Path) -> Path:
    """Reference vs pipeline wall clock, the pipeline split into its stages."""
    shown = [s for s in sources if s["synthetic"]] or sources[:1]
    fig, ax = plt.subplots(figsize=(8, 2.0 + 1.1 * len(shown)))
    labels = []
    y = 0.0
    for src in shown:
        ax.barh(y, src["reference_median"], color="#999999")
        left = 0.0
        for colour, (stage, seconds) in zip(STAGE_COLOURS, src["breakdown"].items()):
            ax.barh(y - 1, seconds, left=left, color=colour, label=stage if src is shown[0] else None)
            left += seconds
        ax.text(left, y - 1, f" {src['pipeline_median']:.1f} s (×{src['ratio']:.2f})", va="center", fontsize=8)
        ax.text(src["reference_median"], y, f" {src['reference_median']:.1f} s", va="center", fontsize=8)
        labels += [(y, f"{src['label']}\nplain ffmpeg"), (y - 1, f"{src['label']}\npipeline")]
        y -= 2.5
    ax.set_yticks([p for p, _ in labels], [t for _, t in labels], fontsize=8)
    ax.set_xlabel("wall-clock seconds (median run; pipeline bar = its typical run's stages)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=4, frameon=False)
    ax.set_title("Plain ffmpeg vs the full local pipeline")
    return _save(fig, path)


def timeline(run: dict[str, Any], label: str, path: Path) -> Path:
    """Which worker ran which task when, with the job's state changes."""
    tasks = run["tasks"]
    workers = sorted({t["worker"] for t in tasks}, key=lambda w: (not w.startswith("processor"), w))
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.5 * len(workers)))
    colours = {"audio": "#dd8452", "assembly": "#55a868"}
    for row, worker in enumerate(workers):
        for t in (t for t in tasks if t["worker"] == worker):
            colour = colours["audio"] if is_audio_part(t["part"]) else colours.get(t["part"], "#4c72b0")
            ax.barh(row, t["end"] - t["start"], left=t["start"], color=colour,
                    edgecolor="white")
            if t["part"].startswith("v"):
                ax.text((t["start"] + t["end"]) / 2, row, str(int(t["part"][1:])), ha="center", va="center",
                        fontsize=6, color="white")
    origin = run["marks"].get("awaiting_upload", 0.0)
    marks = sorted(run["marks"].items(), key=lambda kv: kv[1])
    span = max((w - origin for _, w in marks), default=1.0) or 1.0
    last_label = None
    for state, when in marks:
        ax.axvline(when - origin, color="#444444", lw=0.6, ls=":")
        if last_label is None or when - last_label > 0.03 * span:  # no labels on top of each other
            ax.text(when - origin, len(workers) - 0.45, state, rotation=90, fontsize=6, va="top")
            last_label = when
    ax.set_yticks(range(len(workers)), workers, fontsize=8)
    ax.set_xlabel("seconds after POST /jobs (blue: video chunks, orange: audio, green: assembly)")
    ax.set_title(f"Tasks of a typical pipeline run — {label}")
    return _save(fig, path)


def seams(single: dict[str, Any], chunked: dict[str, Any], path: Path) -> Path:
    """Per-frame VMAF of the single pass and a chunked output, chunk seams marked."""
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    a, b = single["series"]["vmaf"], chunked["series"]["vmaf"]
    ax.plot(a, lw=0.7, label="single pass", color="#999999")
    ax.plot(b, lw=0.7, label=chunked["label"], color="#4c72b0")
    n = min(len(a), len(b))
    ax2.plot([b[i] - a[i] for i in range(n)], lw=0.7, color="#4c72b0")
    for seam in chunked["seams"]:
        for axis in (ax, ax2):
            axis.axvline(seam, color="#c44e52", lw=0.6, ls="--")
    ax.set_ylabel("VMAF")
    ax.legend(fontsize=8)
    ax2.set_ylabel("Δ VMAF")
    ax2.set_xlabel("frame (red: chunk seams)")
    ax.set_title("Per-frame VMAF against the source")
    return _save(fig, path)


def _chunk_axis(ax: Any, lengths: list[float], ylabel: str) -> None:
    ax.set_xlabel("chunk length (s)")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log")
    ax.set_xticks(lengths, [f"{x:g}" for x in lengths])
    ax.minorticks_off()
    ax.legend(fontsize=8)


def quality(rows: list[dict[str, Any]], path: Path) -> Path:
    single, chunked = rows[0], rows[1:]
    lengths = [r["chunk_seconds"] for r in chunked]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax.plot(lengths, [r["video_bps"] / 1e6 for r in chunked], "o-", label="chunked")
    ax.axhline(single["video_bps"] / 1e6, color="#999999", ls="--", label="single pass")
    _chunk_axis(ax, lengths, "video Mb/s")
    ax2.plot(lengths, [r["mean"]["vmaf"] for r in chunked], "o-", label="mean VMAF")
    ax2.plot(lengths, [r["seam_vmaf"]["worst_near_seams"] for r in chunked], "v-", label="worst frame near a seam")
    ax2.axhline(single["mean"]["vmaf"], color="#999999", ls="--", label="single pass mean")
    _chunk_axis(ax2, lengths, "VMAF")
    fig.suptitle("Size and quality vs chunk length (same CRF)")
    return _save(fig, path)


def stages(rows: list[dict[str, Any]], resolution: str, path: Path) -> Path:
    """Each stage's seconds against the input length (log–log: a slope of 1 grows with the input)."""
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = [r["seconds"] for r in rows]
    for colour, name in zip(STAGE_COLOURS, rows[0]["stages"]):
        points = [(x, r["stages"][name]) for x, r in zip(xs, rows) if r["stages"][name] > 0]
        if points:
            ax.plot(*zip(*points), "o-", color=colour, label=name)
    ax.plot(xs, [r["wall"] for r in rows], "s--", color="#333333", label="wall clock")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs, [f"{x / 60:g} min" if x >= 60 else f"{x:g} s" for x in xs])
    ax.minorticks_off()
    ax.set_ylabel("seconds")
    ax.set_xlabel(f"input length ({resolution})")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Stage costs as the input grows (local stack, workers = cores)")
    return _save(fig, path)


def speedup(model: dict[str, Any], path: Path) -> Path:
    curve = model["curve"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax.plot(curve["workers"], curve["speedup"], label="modelled speedup")
    ax.plot(curve["workers"], curve["workers"], ls=":", color="#999999", label="ideal")
    ax.axhline(model["amdahl_limit"], ls="--", color="#c44e52", lw=0.8,
               label=f"Amdahl limit {model['amdahl_limit']:.0f}×")
    ax.axvline(64, ls=":", color="#444444", lw=0.6)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("workers W")
    ax.set_ylabel("speedup over W = 1")
    ax.legend(fontsize=8)
    seconds = model["input_seconds"]
    ax.set_title(f"Fleet model, {seconds / 60:.0f}-minute input" if seconds >= 60 else
                 f"Fleet model, {seconds:g} s input")
    lengths = model["chunk_lengths"]
    xs = [e["chunk_seconds"] for e in lengths]
    ax2.plot(xs, [e["seconds"] for e in lengths], "o-", label="modelled")
    _chunk_axis(ax2, xs, "time to output at W = 64 (s)")
    ax2.set_title("Chunk length at 64 workers")
    return _save(fig, path)


def assembly_bytes(moved: list[dict[str, Any]], path: Path) -> Path:
    """The MP4's bytes, S3's server-side copies and the assembler's own bytes against input length."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    minutes = [m["seconds"] / 60 for m in moved]
    for key, label, colour in (("output", "the MP4", "#999999"), ("copied", "copied by S3 (UploadPartCopy)", "#4c72b0"),
                               ("streamed", "through the assembler itself", "#c44e52")):
        ax.plot(minutes, [m[key] / 1e6 for m in moved], marker="o", color=colour, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("input length (minutes)")
    ax.set_ylabel("MB")
    ax.legend(fontsize=8)
    ax.set_title("Bytes the MP4 assembly moves, against input length")
    return _save(fig, path)


def memory(rows: list[dict[str, Any]], roles: list[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(1, len(rows))
    for i, row in enumerate(rows):
        label = f"{row['seconds'] / 60:g} min" if row["seconds"] >= 60 else f"{row['seconds']:g} s"
        ax.bar([j + i * width for j in range(len(roles))],
               [row["peak_rss_kib"].get(r, 0) / 1024 for r in roles], width, label=f"{label} input")
    ax.set_xticks([j + width * (len(rows) - 1) / 2 for j in range(len(roles))], roles, rotation=30, ha="right",
                  fontsize=8)
    ax.set_ylabel("peak RSS (MiB)")
    ax.legend(fontsize=8)
    ax.set_title("Peak resident memory per process role")
    return _save(fig, path)


def cores(bench: dict[str, Any], path: Path) -> Path:
    """Measured speed-up of the clip against the worker count on this machine."""
    rows = bench["rows"]
    workers = [r["workers"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(workers, [r["speedup"] for r in rows], "o-", label="measured (median wall)")
    ax.plot(workers, [w / workers[0] for w in workers], ls=":", color="#999999", label="ideal")
    ax.set_xlabel("processor workers W")
    ax.set_ylabel(f"speed-up over W = {workers[0]}")
    ax.set_xticks(workers if len(workers) <= 16 else workers[:: max(1, len(workers) // 16)])
    ax.legend(fontsize=8)
    ax.set_title(f"{bench['clip']['label']} on {bench['machine_start']['cores']} cores")
    return _save(fig, path)
