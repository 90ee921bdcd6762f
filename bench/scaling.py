"""Benches 4 and 6: stage costs as the input grows, the fleet model, and peak memory per process.

Inputs are the quality bench's 1080p clip cut or repeated by stream copy (30 s, 2 min, 10 min in
the full run). Each goes through the pipeline once while every process of the stack is watched
for its peak resident memory. The fleet model uses the longest input's real per-chunk, audio part
and assembly times, and models a longer input (60 min in the full run) from the measured rates.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from pathlib import Path
from typing import Any

from bench import media, model, procs
from bench.common import MP4_ONLY, TINY, Profile, clip_path, resized
from bench.fleet import Fleet, audio_parts
from bench.overhead import breakdown
from bench.quality import chunk_records
from chalicelib.model.audioparts import split_segments
from chalicelib.model.options import EncodeOptions

MODEL_WORKERS = 64
S3_SENSITIVITY = (25.0, 50.0, 100.0, 200.0, 400.0)  # MB/s per worker
# S3's server-side copy rate for the assembler's UploadPartCopy bytes (None: not on its link).
S3_COPY_SENSITIVITY: tuple[float | None, ...] = (None, 400.0, 200.0, 100.0, 50.0)
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
        "audio_seconds": sum(float(record["parts"][n].get("seconds", 0.0)) for n in audio_parts(record["parts"])),
        "audio_parts": [{"part": n, "seconds": float(record["parts"][n].get("seconds", 0.0)),
                         "bytes": int(record["parts"][n].get("bytes", 0))} for n in audio_parts(record["parts"])],
        "assembly_bytes": (record["output"] or {}).get("assembly_bytes"),
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


def _audio(row: dict[str, Any]) -> tuple[tuple[float, float], ...]:
    """The measured audio parts (seconds, bytes) in queue order; results of before the parts were
    recorded one by one have the whole track's seconds alone."""
    if "audio_parts" in row:
        return tuple((p["seconds"], float(p["bytes"])) for p in row["audio_parts"])
    return ((row["audio_seconds"], 0.0),) if row.get("audio_seconds") else ()


def _assembly_bytes(row: dict[str, Any]) -> tuple[float, float] | None:
    moved = row.get("assembly_bytes")
    return (float(moved["streamed"]), float(moved["copied"])) if moved else None


def _speedup(fleet: model.Fleet, chunks: list[tuple[float, float]]) -> float:
    return model.time_to_output(fleet, chunks, 1) / model.time_to_output(fleet, chunks, MODEL_WORKERS)


def _evaluate(fleet: model.Fleet, chunks: list[tuple[float, float]], profile: Profile) -> dict[str, Any]:
    """The model's answers for one input: the curve, 1 and 64 workers, where the 64-worker time
    goes, the serial fraction, and the speedup at other S3 rates."""
    one = model.time_to_output(fleet, chunks, 1)
    at = model.time_to_output(fleet, chunks, MODEL_WORKERS)
    speedup = one / at
    tasks = [("audio", fleet.task(s, b)) for s, b in fleet.audio if s > 0]
    tasks += [("chunk", fleet.task(s, b)) for s, b in chunks]
    longest = max(tasks, key=lambda t: t[1], default=("none", 0.0))
    chunk_bytes = sum(b for _, b in chunks)
    serial = model.serial_fraction(fleet, chunks)
    sensitivity = [{"s3_mb_per_s": mb_per_s,
                    "speedup": _speedup(dataclasses.replace(fleet, s3_bytes_per_s=mb_per_s * 1e6), chunks)}
                   for mb_per_s in S3_SENSITIVITY]
    copy_sensitivity = [
        {"copy_mb_per_s": mb_per_s, "speedup": _speedup(dataclasses.replace(
            fleet, s3_copy_bytes_per_s=mb_per_s * 1e6 if mb_per_s else None), chunks)}
        for mb_per_s in (S3_COPY_SENSITIVITY if fleet.assembly_bytes else ())]
    return {
        "curve": model.speedup_curve(fleet, chunks, profile.model_workers),
        "one_worker_seconds": one,
        "at_64": {"workers": MODEL_WORKERS, "seconds": at, "speedup": speedup,
                  "karp_flatt": model.karp_flatt(speedup, MODEL_WORKERS),
                  "audio_last_seconds": model.time_to_output(fleet, chunks, MODEL_WORKERS, audio_last=True),
                  "before": fleet.before, "after": fleet.after(chunk_bytes), "moved": fleet.moved(chunk_bytes),
                  "makespan": at - fleet.before - fleet.after(chunk_bytes),
                  "longest_task": {"kind": longest[0], "seconds": longest[1]}},
        "serial_fraction": serial,
        "amdahl_limit": 1 / serial,
        "s3_sensitivity": sensitivity,
        "copy_sensitivity": copy_sensitivity,
    }


def _inputs(fleet: model.Fleet, chunks: list[tuple[float, float]], profile: Profile) -> dict[str, Any]:
    return {"before": fleet.before, "assemble": fleet.assemble, "task_overhead": fleet.task_overhead,
            "audio": sum(s for s, _ in fleet.audio), "audio_parts": [s for s, _ in fleet.audio],
            "output_bytes": fleet.output_bytes, "s3_mb_per_s": profile.s3_mb_per_s,
            "assembly_bytes": list(fleet.assembly_bytes) if fleet.assembly_bytes else None,
            "s3_copy_mb_per_s": profile.s3_copy_mb_per_s,
            "chunks": len(chunks), "chunk_seconds_total": sum(s for s, _ in chunks),
            "chunk_seconds_max": max((s for s, _ in chunks), default=0.0)}


def fleet_model(row: dict[str, Any], profile: Profile, chunk_points: list[dict[str, Any]],
                rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The fleet model of the largest measured input (its real chunk, audio and assembly times),
    the chunk length study and the derived longer input (`long_model`) on the chunk-time fit."""
    stages = row["stages"]
    overheads = row["task_overheads"]
    fleet = model.Fleet(
        before=stages["upload event → chunker"] + stages["probe + plan"],
        assemble=stages["assemble + verify"],
        task_overhead=statistics.median(overheads) if overheads else 0.0,
        audio=_audio(row),
        output_bytes=row["output_bytes"],
        s3_bytes_per_s=profile.s3_mb_per_s * 1e6,
        assembly_bytes=_assembly_bytes(row),
        s3_copy_bytes_per_s=profile.s3_copy_mb_per_s * 1e6 if profile.s3_copy_mb_per_s else None,
    )
    chunks = [(c["seconds"], c["bytes"]) for c in row["chunk_times"]]
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
    fit = {"a": a, "b": b, "points": len(chunk_points), "bytes_per_frame": bytes_per_frame}
    return {
        "input_seconds": row["seconds"],
        "measured": True,
        "inputs": _inputs(fleet, chunks, profile),
        **_evaluate(fleet, chunks, profile),
        "chunk_fit": fit,
        "chunk_lengths": lengths,
        "best_chunk_seconds": best["chunk_seconds"] if best else None,
        "long": long_model(rows or [row], row, fleet, fit, profile),
    }


def audio_spans(seconds: float, measured_seconds: float, measured_parts: int) -> list[float]:
    """The source seconds each audio part of a ``seconds`` input covers, as the planner splits them
    (`split_segments` at segment boundaries) with the part length of the measured run; one part
    when the measured run had one (the whole track in one task)."""
    if measured_parts <= 1:
        return [seconds]
    segment = EncodeOptions().segment_seconds
    times = [i * segment for i in range(math.ceil(seconds / segment))]
    splits = split_segments(times, seconds, measured_seconds / measured_parts)
    bounds = [0.0, *(times[i] for i in splits), seconds]
    return [b - a for a, b in itertools.pairwise(bounds)]


def long_model(rows: list[dict[str, Any]], row: dict[str, Any], measured: model.Fleet, fit: dict[str, Any],
               profile: Profile) -> dict[str, Any]:
    """The fleet model of a ``profile.model_long_seconds`` input at the same size and rate, every
    input derived from measurements: the chunks the planner makes of it (default chunk length)
    at the fitted ``a + b × frames`` and bytes per frame; the audio parts at the measured seconds
    and bytes per source second; probe + plan and the assembly on lines fitted over the scaling
    runs against their input seconds; output and assembly bytes per input second of the largest
    run; the upload event and the per-task overhead as measured."""
    seconds = profile.model_long_seconds
    scale = seconds / row["seconds"]
    frames = model.planned_chunks(round(seconds * row["fps"]), row["fps"], EncodeOptions().chunk_seconds)
    chunks = [(fit["a"] + fit["b"] * f, fit["bytes_per_frame"] * f) for f in frames]
    probe = model.extrapolate([(r["seconds"], r["stages"]["probe + plan"]) for r in rows], seconds)
    assemble = model.extrapolate([(r["seconds"], r["stages"]["assemble + verify"]) for r in rows], seconds)
    moved = measured.assembly_bytes
    fleet = dataclasses.replace(
        measured,
        before=row["stages"]["upload event → chunker"] + probe,
        assemble=assemble,
        audio=model.scaled_audio(measured.audio, row["seconds"], audio_spans(seconds, row["seconds"],
                                                                                len(measured.audio))),
        output_bytes=round(measured.output_bytes * scale),
        assembly_bytes=(moved[0] * scale, moved[1] * scale) if moved else None,
    )
    return {
        "input_seconds": seconds,
        "measured": False,
        "derived_from": {"input_seconds": row["seconds"], "runs": [r["seconds"] for r in rows],
                         "probe_plan": probe, "assemble": assemble,
                         "chunk_seconds": EncodeOptions().chunk_seconds},
        "inputs": _inputs(fleet, chunks, profile),
        **_evaluate(fleet, chunks, profile),
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
        "model": fleet_model(largest, profile, points, sorted(rows, key=lambda r: r["seconds"])),
        "fit_sources": "scaling runs" + (" + quality chunk-length sweep" if quality else ""),
    }
