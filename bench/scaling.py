"""Benches 4 and 6: stage costs as the input grows, the fleet model, and peak memory per process.

Inputs are the quality bench's 1080p clip cut or repeated by stream copy (30 s, 2 min, 10 min in
the full run). Each goes through the pipeline once while every process of the stack is watched
for its peak resident memory. The fleet model uses the longest input's real per-chunk times.
"""
from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path
from typing import Any

from bench import media, model, procs
from bench.common import MP4_ONLY, TINY, Profile, clip_path, resized
from bench.fleet import Fleet
from bench.overhead import breakdown
from bench.quality import chunk_records

MODEL_WORKERS = 64
S3_SENSITIVITY = (25.0, 50.0, 100.0, 200.0, 400.0)  # MB/s per worker
HOLDS_VIDEO_FRACTION = 0.5  # a process whose peak RSS grows by half the file it handles holds the video
# RSS differences below this are noise: short-lived processes (probes) are sampled every 0.1 s, so
# their peaks are approximate (tens of MB while PyAV loads); a held 10-minute video is hundreds.
NOISE_BYTES = 64 * 2**20


def _row(fleet: Fleet, source: Path, seconds: float, frames: int | None, work: Path) -> dict[str, Any]:
    idle = procs.rss_now(fleet.pid)
    out = work / "scaling" / f"{seconds:g}s.mp4"
    with procs.PeakMonitor(fleet.pid) as monitor:
        record = fleet.transcode(source, out, MP4_ONLY)
    _, plan = media.plan_for(source)
    return {
        "seconds": seconds,
        "file": source.name,
        "bytes": source.stat().st_size,
        "frames": plan.total_frames,
        "fps": plan.fps,
        "output_bytes": out.stat().st_size,
        "stages": breakdown(record),
        "timings": record["timings"],
        "wall": record["summary"]["wall_seconds"],
        "chunks": len(plan.chunks),
        "chunk_times": chunk_records(record, [c.frame_count for c in plan.chunks]),
        "audio_seconds": float(record["parts"].get("audio", {}).get("seconds", 0.0)),
        "task_overheads": _task_overheads(record),
        "peak_rss_kib": {**monitor.peaks, "client": record["client"]["max_rss_kib"]},
        "idle_rss_kib": idle,
        "processes": monitor.processes,
        "cpu": record["cpu"],
        "client_cpu": record["client"]["cpu"],
        "tasks": record["tasks"],
        "marks": record["marks"],
        "exactness": media.exactness(source, out, frames),
    }


def _task_overheads(record: dict[str, Any]) -> list[float]:
    """Per processor task: its seconds in the worker minus its part's ffmpeg seconds."""
    out = []
    for task in record["tasks"]:
        part = record["parts"].get(task["part"])
        if task["worker"].startswith("processor") and part and "seconds" in part:
            out.append(round(task["seconds"] - float(part["seconds"]), 3))
    return out


def memory_verdicts(rows: list[dict[str, Any]], baseline: dict[str, int]) -> dict[str, Any]:
    """Does any of our Python processes hold a video? Peak RSS above the same process's peak on a
    near-empty video, against the file it handles; judged on the largest input, noted for all."""
    verdicts: dict[str, Any] = {}
    for row in rows:
        for name in (*procs.PYTHON_ROLES, "client"):
            if name not in row["peak_rss_kib"]:
                continue
            handles = row["output_bytes"] if name.startswith("assembler") else row["bytes"]
            peak = row["peak_rss_kib"][name] * 1024
            excess = peak - baseline.get(name, 0) * 1024
            entry = {"peak_bytes": peak, "baseline_bytes": baseline.get(name, 0) * 1024, "excess_bytes": excess,
                     "file_bytes": handles, "excess_fraction": round(excess / handles, 3) if handles else None,
                     "holds_video": excess >= max(HOLDS_VIDEO_FRACTION * handles, NOISE_BYTES)}
            row.setdefault("memory", {})[name] = entry
            if row is rows[-1]:
                verdicts[name] = entry
    return verdicts


def fleet_model(row: dict[str, Any], profile: Profile, chunk_points: list[dict[str, Any]]) -> dict[str, Any]:
    stages = row["stages"]
    overheads = row["task_overheads"]
    fleet = model.Fleet(
        before=stages["upload event → chunker"] + stages["probe + plan"],
        assemble=stages["assemble + verify"],
        task_overhead=statistics.median(overheads) if overheads else 0.0,
        audio=row["audio_seconds"],
        output_bytes=row["output_bytes"],
        s3_bytes_per_s=profile.s3_mb_per_s * 1e6,
    )
    chunks = [(c["seconds"], c["bytes"]) for c in row["chunk_times"]]
    curve = model.speedup_curve(fleet, chunks, profile.model_workers)
    one = model.time_to_output(fleet, chunks, 1)
    at = model.time_to_output(fleet, chunks, MODEL_WORKERS)
    speedup = one / at
    # Chunk length at 64 workers: per-chunk time = a + b * frames, fitted on every chunk measured.
    a, b = model.fit_line([(c["frames"], c["seconds"]) for c in chunk_points])
    bytes_per_frame = sum(c["bytes"] for c in chunk_points) / max(1, sum(c["frames"] for c in chunk_points))
    lengths = []
    for length in profile.model_chunk_lengths:
        frames = model.planned_chunks(row["frames"], row["fps"], length)
        modelled = [(a + b * f, bytes_per_frame * f) for f in frames]
        lengths.append({"chunk_seconds": length, "chunks": len(frames),
                        "seconds": model.time_to_output(fleet, modelled, MODEL_WORKERS)})
    best = min(lengths, key=lambda e: e["seconds"]) if lengths else None
    sensitivity = []
    for mb_per_s in S3_SENSITIVITY:
        other = dataclasses.replace(fleet, s3_bytes_per_s=mb_per_s * 1e6)
        sensitivity.append({"s3_mb_per_s": mb_per_s, "speedup": model.time_to_output(other, chunks, 1)
                            / model.time_to_output(other, chunks, MODEL_WORKERS)})
    return {
        "input_seconds": row["seconds"],
        "inputs": {"before": fleet.before, "assemble": fleet.assemble, "task_overhead": fleet.task_overhead,
                   "audio": fleet.audio, "output_bytes": fleet.output_bytes, "s3_mb_per_s": profile.s3_mb_per_s,
                   "chunks": len(chunks), "chunk_seconds_total": sum(s for s, _ in chunks),
                   "chunk_seconds_max": max((s for s, _ in chunks), default=0.0)},
        "curve": curve,
        "one_worker_seconds": one,
        "at_64": {"workers": MODEL_WORKERS, "seconds": at, "speedup": speedup,
                  "karp_flatt": model.karp_flatt(speedup, MODEL_WORKERS),
                  "audio_first_seconds": model.time_to_output(fleet, chunks, MODEL_WORKERS, audio_first=True)},
        "serial_fraction": model.serial_fraction(fleet, chunks),
        "amdahl_limit": 1 / model.serial_fraction(fleet, chunks),
        "chunk_fit": {"a": a, "b": b, "points": len(chunk_points), "bytes_per_frame": bytes_per_frame},
        "chunk_lengths": lengths,
        "best_chunk_seconds": best["chunk_seconds"] if best else None,
        "s3_sensitivity": sensitivity,
    }


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, quality: dict[str, Any] | None = None,
        log: Any = print) -> dict[str, Any]:
    clip = profile.quality_clip
    base = clip_path(cache, clip)
    # What each process peaks at on a near-empty video: its code, libraries and buffers.
    with procs.PeakMonitor(fleet.pid) as monitor:
        tiny = fleet.transcode(clip_path(cache, TINY), work / "scaling" / "baseline.mp4", MP4_ONLY)
    baseline = {**monitor.peaks, "client": tiny["client"]["max_rss_kib"]}
    rows = []
    for seconds in profile.scaling_seconds:
        source = resized(cache, base, clip.seconds, seconds)
        log(f"  scaling: {seconds:g} s input")
        # Made inputs (a cut ends on a packet, not on the second): their own frames are the truth.
        truth = round(seconds * clip.fps) if seconds == clip.seconds else None
        rows.append(_row(fleet, source, seconds, truth, work))
    largest = max(rows, key=lambda r: r["seconds"])
    # Chunk-time points for the chunk-length fit: the quality sweep's lengths and every scaling run.
    points = [c for r in rows for c in r["chunk_times"]]
    for row in (quality or {}).get("rows", []):
        points += row.get("chunk_times", [])
    return {
        "rows": rows,
        "memory": memory_verdicts(sorted(rows, key=lambda r: r["seconds"]), baseline),
        "memory_baseline_kib": baseline,
        "resolution": f"{clip.height}p{clip.fps}",
        "model": fleet_model(largest, profile, points),
        "fit_sources": "scaling runs" + (" + quality chunk-length sweep" if quality else ""),
    }
