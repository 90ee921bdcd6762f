"""Bench 6: a source whose GOP structure would amplify work — one keyframe in the whole file.

A chunk decodes from the keyframe its seek lands on: planned naively, every chunk of such a
file decodes from its start (work growing with the square of the length). The planner keeps the
frames decoded across all chunks within 1.25× the source's. Measured: the pipeline against one
plain ffmpeg command, interleaved, with the chunk length asked for; the planned decode ratio
against what fixed-length chunks would have decoded.
"""
from __future__ import annotations

from pathlib import Path
from statistics import median
from typing import Any

from bench import media
from bench.common import MP4_ONLY, Profile, clip_path
from bench.fleet import Fleet
from chalicelib.media.probe import probe
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import decode_start, decoded_frames, plan_chunks, seek_preroll

PAIRS = 2


def decode_ratio(source: Path, chunk_seconds: float, max_decode_ratio: float | None = None) -> tuple[float, int]:
    """(frames decoded / frames, chunks) of the plan for ``source``; ``max_decode_ratio=inf``:
    fixed-length chunks, as planned before the bound."""
    found = probe(str(source))
    assert found.video is not None
    video, preroll = found.video, seek_preroll(found)
    options = EncodeOptions(chunk_seconds=chunk_seconds, outputs=("mp4",))  # what the pipeline runs get
    plan = plan_chunks(found, options) if max_decode_ratio is None else plan_chunks(
        found, options, max_decode_ratio=max_decode_ratio)
    spent = decoded_frames([c.start_frame for c in plan.chunks], plan.total_frames,
                           lambda s: s - decode_start(s, video.frame_times, video.keyframes, preroll))
    return spent / plan.total_frames, len(plan.chunks)


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, log: Any = print) -> dict[str, Any]:
    rows = []
    for clip, chunk_seconds in profile.long_gop:
        source = clip_path(cache, clip)
        refs, pipes = [], []
        for pair in range(PAIRS):
            for which in (("ref", "pipe") if pair % 2 == 0 else ("pipe", "ref")):
                if which == "ref":
                    refs.append(media.reference(source, work / "gop" / f"reference-{pair}.mp4").wall)
                else:
                    record = fleet.transcode(source, work / "gop" / f"pipeline-{pair}.mp4",
                                             {**MP4_ONLY, "chunk_seconds": chunk_seconds})
                    pipes.append(record["summary"]["wall_seconds"])
            log(f"  gop {clip.label} pair {pair + 1}: reference {refs[-1]:.2f} s, pipeline {pipes[-1]:.2f} s")
        bounded, chunks = decode_ratio(source, chunk_seconds)
        naive, naive_chunks = decode_ratio(source, chunk_seconds, float("inf"))
        rows.append({"label": clip.label, "chunk_seconds": chunk_seconds, "reference_walls": refs,
                     "pipeline_walls": pipes, "ratio": round(median(pipes) / median(refs), 3),
                     "decode_ratio": round(bounded, 3), "chunks": chunks,
                     "naive_decode_ratio": round(naive, 1), "naive_chunks": naive_chunks,
                     "frames": round(clip.seconds * clip.fps)})
    return {"sources": rows, "pairs": PAIRS}
