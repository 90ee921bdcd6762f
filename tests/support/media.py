"""Shared helpers for media tests: corpus location, full local pipeline, frame counting."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.media.probe import probe
from chalicelib.model.facts import ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from workers.media.binary import ffmpeg_binary
from workers.media.encode import encode_audio, encode_chunk
from workers.media.mux import assemble
from workers.media.verify import verify_output

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"  # ../shared/media from the repo root
TIMEOUT = 120.0

# Decoded frame counts from the corpus README (ffprobe -count_frames): the ground truth.
CORPUS_FRAMES = {
    "sample_with_increasing_timestamps_360p.mp4": 512,
    "sample_with_increasing_timestamps_320w_240h.mp4": 932,
    "bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4": 120,
    "long_1080p_lowbitrate.mp4": 10883,
    "bbb_1920x1080_60fps_vp8.webm": 60,
    "sample.avi": 96,
    "bbb_2500ms.ts": 58,
    "sample_video_only.mp4": 30,
    "internal_emulator_transformer_output_180_rotated.mp4": 149,
    "sowt-with-video.mov": 100,
    "sample.mp4": 30,
}


@dataclass
class Transcode:
    """Result of running the whole media pipeline locally."""

    probe: ProbeResult
    plan: Plan
    output: Path
    metadata: dict[str, Any]
    chunk_paths: list[Path]


def transcode(source: str, options: EncodeOptions, workdir: Path, *,
              max_decode_ratio: float = float("inf")) -> Transcode:
    """probe → plan → encode every chunk + audio → assemble → verify, all on local files.

    Chunks of exactly ``chunk_seconds`` by default, whatever the decode cost: these tests are
    about seams, and want many of them (the stack plans within the budget)."""
    probed = probe(source)
    plan = plan_chunks(probed, options, max_decode_ratio=max_decode_ratio)
    chunk_paths = [workdir / f"chunk{c.index:05d}.mp4" for c in plan.chunks]
    for chunk, path in zip(plan.chunks, chunk_paths):
        encode_chunk(source, chunk, plan, options, str(path), timeout=TIMEOUT)
    audio_path = None
    if plan.has_audio:
        audio_path = str(workdir / "audio.m4a")
        encode_audio(source, probed, options, audio_path, timeout=TIMEOUT)
    output = workdir / "out.mp4"
    assemble([str(p) for p in chunk_paths], plan.chunks, audio_path, str(output), timeout=TIMEOUT)
    metadata = verify_output(str(output), plan, plan.audio_duration)
    return Transcode(probed, plan, output, metadata, chunk_paths)


def ffmpeg_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the test's own ffmpeg command (trusted arguments) and capture text output."""
    return subprocess.run(
        [ffmpeg_binary(), "-nostdin", "-hide_banner", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def decode_report(path: Path) -> tuple[int, str]:
    """Decode every frame of ``path``: (video frames decoded, error output of `-v error`)."""
    proc = ffmpeg_cmd("-v", "error", "-i", str(path), "-f", "null", "-progress", "pipe:1", "-")
    progress = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return int(progress.get("frame", "0")), proc.stderr.strip()


def gray_thumbnails(path: Path, size: tuple[int, int] = (64, 48)) -> list[bytes]:
    """Every decoded video frame of ``path`` as a small grayscale image (row padding stripped)."""
    import av

    thumbs = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            plane = frame.reformat(width=size[0], height=size[1], format="gray").planes[0]
            raw = bytes(plane)
            rows = (raw[row * plane.line_size : row * plane.line_size + size[0]] for row in range(size[1]))
            thumbs.append(b"".join(rows))
    return thumbs


def mse(a: bytes, b: bytes) -> float:
    """Mean squared difference of two equally sized 8-bit images."""
    return sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)
