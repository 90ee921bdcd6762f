"""Bench 10: the real speed-up on this machine (issue 15) — the same clip through the local stack
with W = 1 … cores processor workers.

Each worker count gets a fresh stack (Valkey, moto, W processors + 1 assembler: `bench.fleet`),
a warm-up job, then the clip as an MP4-only job; a round runs every W once, rounds go up and down
the worker counts alternately so that a drifting machine load hits every W alike. Wall = the
CLI's upload start → output downloaded (as in bench 1); speed-up = median wall at W = 1 / at W.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.common import MP4_ONLY, TINY, Profile, clip_path, machine, median
from bench.fleet import Fleet
from bench.overhead import breakdown


def _run(fleet: Fleet, source: Path, out: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    record = fleet.transcode(source, out, MP4_ONLY)
    return {"wall": record["summary"]["wall_seconds"], "job": record["timings"].get("total"),
            "encode": record["timings"].get("encode"), "stages": breakdown(record),
            "cpu": sum(v["self"] + v["children"] for v in record["cpu"].values()) + record["client"]["cpu"],
            "chunks": record["chunks_total"], "load_before": load}


def order(workers: tuple[int, ...], round_index: int) -> tuple[int, ...]:
    """The worker counts of a round: up on even rounds, down on odd ones."""
    return workers if round_index % 2 == 0 else tuple(reversed(workers))


def summarise(runs: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per worker count: its walls, their median, speed-up over the fewest workers and efficiency."""
    counts = sorted(runs)
    base = median([r["wall"] for r in runs[counts[0]]])
    rows = []
    for workers in counts:
        walls = [r["wall"] for r in runs[workers]]
        wall = median(walls)
        speedup = base / wall
        rows.append({"workers": workers, "walls": [round(w, 3) for w in walls], "wall_median": round(wall, 3),
                     "job_median": median([float(r["job"] or 0.0) for r in runs[workers]]),
                     "encode_median": median([float(r["encode"] or 0.0) for r in runs[workers]]),
                     "cpu_median": median([r["cpu"] for r in runs[workers]]),
                     "speedup": speedup, "efficiency": speedup * counts[0] / workers, "runs": runs[workers]})
    return rows


def run(profile: Profile, cache: Path, work: Path, log: Any = print) -> dict[str, Any]:
    clip = profile.cores_clip
    source = clip_path(cache, clip)
    warmup = clip_path(cache, TINY)
    runs: dict[int, list[dict[str, Any]]] = {w: [] for w in profile.cores_workers}
    start = machine()
    starts: dict[int, list[float]] = {w: [] for w in profile.cores_workers}
    for round_index in range(profile.cores_rounds):
        for workers in order(profile.cores_workers, round_index):
            with Fleet(work / "cores" / f"w{workers}", workers) as fleet:
                starts[workers].append(fleet.start_seconds)
                fleet.transcode(warmup, work / "cores" / "warmup.mp4", MP4_ONLY)
                result = _run(fleet, source, work / "cores" / f"w{workers}-r{round_index}.mp4")
            runs[workers].append(result)
            log(f"  cores: {clip.label}, {workers} worker{'s' if workers > 1 else ''}, round {round_index + 1}/"
                f"{profile.cores_rounds}: {result['wall']:.2f} s (load {result['load_before']:.2f})")
    return {"clip": {"label": clip.label, "file": source.name, "bytes": source.stat().st_size,
                     "frames": round(clip.seconds * clip.fps)},
            "rounds": profile.cores_rounds, "workers": list(profile.cores_workers),
            "rows": summarise(runs), "stack_start_seconds": median([s for v in starts.values() for s in v]),
            "machine_start": start, "machine_end": machine()}
