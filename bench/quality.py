"""Bench 2: quality and size of chunked outputs against the single-pass reference, at the seams.

For every chunk length, the pipeline's real output (through the local stack) and the plain
ffmpeg single pass are scored against the source with libvmaf (VMAF, PSNR-Y, SSIM per frame).
Outputs of the overhead bench are reused when it encoded the same source with the same options.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import media
from bench.common import MP4_ONLY, Profile, clip_path
from bench.fleet import Fleet
from chalicelib.model.options import EncodeOptions

DEFAULT_CHUNK = EncodeOptions().chunk_seconds


def _reusable(overhead: dict[str, Any] | None, source: Path) -> dict[str, Any] | None:
    entries: list[dict[str, Any]] = (overhead or {}).get("sources", [])
    for entry in entries:
        if entry["file"] == source.name and Path(entry["outputs"]["pipeline"]).exists():
            return entry
    return None


def chunk_records(run: dict[str, Any], plan_frames: list[int]) -> list[dict[str, Any]]:
    """(frames, encode seconds, bytes) of every chunk of a pipeline run, for the fleet model."""
    out = []
    for index, frames in enumerate(plan_frames):
        part = run["parts"].get(f"v{index:05d}")
        if part and part.get("state") == "done":
            out.append({"frames": frames, "seconds": float(part["seconds"]), "bytes": int(part["bytes"])})
    return out


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, overhead: dict[str, Any] | None = None,
        log: Any = print) -> dict[str, Any]:
    clip = profile.quality_clip
    source = clip_path(cache, clip)
    reused = _reusable(overhead, source)
    outputs: list[dict[str, Any]] = []
    if reused:
        single = Path(reused["outputs"]["reference"])
    else:
        single = work / "quality" / "single-pass.mp4"
        media.reference(source, single)
    outputs.append({"label": "single pass", "chunk_seconds": None, "path": single, "run": None})
    for length in profile.chunk_lengths:
        if reused and length == DEFAULT_CHUNK:
            run_record = reused["typical_run"]
            path = Path(run_record["output_path"])
        else:
            path = work / "quality" / f"chunked-{length:g}s.mp4"
            run_record = fleet.transcode(source, path, {**MP4_ONLY, "chunk_seconds": length})
        outputs.append({"label": f"{length:g} s chunks", "chunk_seconds": length, "path": path, "run": run_record})

    rows = []
    for entry in outputs:
        log(f"  quality: scoring {entry['label']}")
        scores = media.quality(entry["path"], source, work / "quality" / f"{entry['path'].stem}.vmaf.json",
                               threads=profile.workers)
        row: dict[str, Any] = {"label": entry["label"], "chunk_seconds": entry["chunk_seconds"],
                               "file": str(entry["path"]), **media.video_bitrate(entry["path"]),
                               "frames": scores["frames"], "mean": scores["mean"], "series": scores["series"],
                               "score_seconds": scores["seconds"]}
        if entry["chunk_seconds"] is not None:
            _, plan = media.plan_for(source, EncodeOptions(chunk_seconds=entry["chunk_seconds"], outputs=("mp4",)))
            seams = [c.start_frame for c in plan.chunks[1:]]
            row["chunks"] = len(plan.chunks)
            row["seams"] = seams
            row["seam_vmaf"] = media.seam_stats(scores["series"]["vmaf"], seams)
            row["chunk_times"] = chunk_records(entry["run"], [c.frame_count for c in plan.chunks])
            row["audio_seconds"] = float(entry["run"]["parts"].get("audio", {}).get("seconds", 0.0))
            row["exactness"] = media.exactness(source, entry["path"], round(clip.seconds * clip.fps))
        rows.append(row)
    single_row = rows[0]
    for row in rows[1:]:
        # The same frame positions in the single pass: what the source itself does around them.
        row["single_pass_at_seams"] = media.seam_stats(single_row["series"]["vmaf"], row["seams"])
        row["delta"] = {
            "bitrate_pct": 100 * (row["video_bps"] / single_row["video_bps"] - 1),
            "vmaf": row["mean"]["vmaf"] - single_row["mean"]["vmaf"],
            "psnr_y": row["mean"]["psnr_y"] - single_row["mean"]["psnr_y"],
            "ssim": row["mean"]["ssim"] - single_row["mean"]["ssim"],
        }
    return {"source": {"label": clip.label, "file": source.name, "frames": round(clip.seconds * clip.fps)},
            "rows": rows, "default_chunk_seconds": DEFAULT_CHUNK}
