"""Bench 1 (+3): the full local pipeline against one plain ffmpeg command, and frame exactness.

Per source, ``reps`` interleaved pairs (reference first on even pairs, pipeline first on odd ones,
so a drifting machine load hits both alike). Reference: `single_pass_argv` (same binary, filter,
x264 flags, GOP and audio as every chunk). Candidate: `framefleet transcode --api` against a
warm local stack with workers = cores, timed by the CLI from upload start to output downloaded.
"""
from __future__ import annotations

import itertools
import statistics
from pathlib import Path
from typing import Any

from bench import media
from bench.common import MP4_ONLY, Profile, clip_path, median
from bench.fleet import Fleet
from tests.support.media import CORPUS_FRAMES, MEDIA


def breakdown(run: dict[str, Any]) -> dict[str, float]:
    """Where a pipeline run's wall-clock went (seconds), from the job's state-entry times."""
    t = run["timings"]
    summary = run["summary"]
    wall = summary["wall_seconds"]
    client_upload = summary["timings"]["client_upload"]
    download = summary["timings"].get("download", 0.0)
    parts = {
        "upload (client)": client_upload,
        "upload event → chunker": max(0.0, t.get("upload", 0.0) - client_upload),
        "probe + plan": t.get("queue", 0.0) + t.get("probe", 0.0),
        "encode (chunks + audio)": t.get("encode", 0.0),
        "assemble + verify": t.get("assemble", 0.0),
        "status polling lag": max(0.0, wall - t.get("total", 0.0) - download),
        "download": download,
    }
    return {k: round(v, 3) for k, v in parts.items()}


def utilisation(run: dict[str, Any], workers: int) -> dict[str, float]:
    """How busy the processors were during the encode stage (from the workers' task logs)."""
    marks = run["marks"]
    if "encoding" not in marks or "assembling" not in marks:
        return {}
    origin = marks["awaiting_upload"]
    start, end = marks["encoding"] - origin, marks["assembling"] - origin
    busy = sum(min(t["end"], end) - max(t["start"], start) for t in run["tasks"]
               if t["worker"].startswith("processor") and t["end"] > start and t["start"] < end)
    encode_seconds = sum(float(p.get("seconds", 0.0)) for name, p in run["parts"].items() if name != "assembly")
    stage = max(end - start, 1e-9)
    processor = [t for t in run["tasks"] if t["worker"].startswith("processor")]
    gaps = []
    for worker in {t["worker"] for t in processor}:
        mine = sorted((t for t in processor if t["worker"] == worker), key=lambda t: t["start"])
        gaps += [b["start"] - a["end"] for a, b in itertools.pairwise(mine)]
    return {
        "stage": round(stage, 3),
        "busy_fraction": round(busy / (workers * stage), 3),
        "ffmpeg_fraction": round(encode_seconds / (workers * stage), 3),
        # Queueing: how long tasks waited in the ready list, and a worker's gap between two tasks.
        "queue_wait_mean": round(statistics.fmean(t["start"] - start for t in processor), 3) if processor else None,
        "task_gap_median": round(statistics.median(gaps), 4) if gaps else None,
    }


def _sources(profile: Profile, cache: Path) -> list[dict[str, Any]]:
    sources = [{"label": clip.label, "path": clip_path(cache, clip), "reps": reps,
                "frames": round(clip.seconds * clip.fps), "synthetic": True}
               for clip, reps in profile.overhead]
    sources += [{"label": name, "path": MEDIA / name, "reps": 1, "frames": CORPUS_FRAMES.get(name),
                 "synthetic": False} for name in profile.corpus]
    return sources


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, log: Any = print) -> dict[str, Any]:
    results = []
    for src in _sources(profile, cache):
        path: Path = src["path"]
        name = path.stem
        ref_walls, pipe_walls, ref_runs, pipe_runs = [], [], [], []
        for rep in range(src["reps"]):
            ref_out = work / "overhead" / name / f"reference-{rep}.mp4"
            pipe_out = work / "overhead" / name / f"pipeline-{rep}.mp4"
            order = ("ref", "pipe") if rep % 2 == 0 else ("pipe", "ref")
            for which in order:
                if which == "ref":
                    timed = media.reference(path, ref_out)
                    ref_walls.append(timed.wall)
                    ref_runs.append({"wall": timed.wall, "cpu": timed.user + timed.system,
                                     "max_rss_kib": timed.max_rss_kib})
                else:
                    record = fleet.transcode(path, pipe_out, MP4_ONLY)  # each pair keeps its own output
                    pipe_walls.append(record["summary"]["wall_seconds"])
                    pipe_runs.append(record)
            log(f"  overhead {src['label']} pair {rep + 1}/{src['reps']}: reference {ref_walls[-1]:.2f} s, "
                f"pipeline {pipe_walls[-1]:.2f} s")
        ref_med, pipe_med = median(ref_walls), median(pipe_walls)
        _, plan = media.plan_for(path)
        mid = sorted(range(len(pipe_walls)), key=lambda i: pipe_walls[i])[len(pipe_walls) // 2]
        typical = pipe_runs[mid]
        results.append({
            "label": src["label"],
            "file": path.name,
            "synthetic": src["synthetic"],
            "bytes": path.stat().st_size,
            "reps": src["reps"],
            "reference_walls": [round(w, 3) for w in ref_walls],
            "pipeline_walls": [round(w, 3) for w in pipe_walls],
            "reference_median": round(ref_med, 3),
            "pipeline_median": round(pipe_med, 3),
            "ratio": round(pipe_med / ref_med, 3) if ref_med > 0 else None,
            "reference_runs": ref_runs,
            "typical_run": typical,
            "breakdown": breakdown(typical),
            "utilisation": utilisation(typical, profile.workers),
            "chunks": len(plan.chunks),
            "seek_preroll": media.seek_preroll(path, plan),
            "outputs": {"reference": str(work / "overhead" / name / f"reference-{src['reps'] - 1}.mp4"),
                        "pipeline": str(work / "overhead" / name / f"pipeline-{src['reps'] - 1}.mp4")},
            "exactness": {
                "reference": media.exactness(path, work / "overhead" / name / f"reference-{src['reps'] - 1}.mp4",
                                             src["frames"]),
                "pipeline": media.exactness(path, work / "overhead" / name / f"pipeline-{src['reps'] - 1}.mp4",
                                            src["frames"]),
            },
        })
    # Where the pipeline's extra CPU goes, on the first source: the same chunks encoded one after
    # another from the local file (no concurrency, no HTTP input) against the single pass.
    first = results[0]
    local = media.chunks_locally(_sources(profile, cache)[0]["path"], work / "overhead" / "local-chunks")
    ref_cpu = median([r["cpu"] for r in first["reference_runs"]])
    first["cpu_decomposition"] = {
        "reference_cpu": ref_cpu,
        "chunks_sequential_local_cpu": local["cpu"],
        "chunks_sequential_local_wall": local["wall"],
        "pipeline_ffmpeg_cpu": first["typical_run"]["cpu"].get("processor", {}).get("children", 0.0),
    }
    return {"sources": results, "stack_start_seconds": round(fleet.start_seconds, 3)}
