"""Concatenate encoded chunks (stream copy), mux the audio, and verify the final MP4."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

from chalicelib import ffmpeg
from chalicelib.errors import MediaError, VerificationError
from chalicelib.plan import Chunk, Plan
from chalicelib.probe import ProbeResult, probe, top_level_boxes

AUDIO_TOLERANCE = 0.05  # seconds


def _quote(path: str) -> str:
    # ffconcat strings are single-quoted; a quote is written as '\'' like in sh.
    return "'" + path.replace("'", "'\\''") + "'"


def concat_list(chunk_paths: Sequence[str], chunks: Sequence[Chunk]) -> str:
    """ffconcat script: each chunk file with its exact source duration (keeps VFR timing)."""
    if len(chunk_paths) != len(chunks) or not chunks:
        raise MediaError("chunk files and chunk plan do not match")
    lines = ["ffconcat version 1.0"]
    for path, chunk in zip(chunk_paths, chunks):
        lines += [f"file {_quote(os.path.abspath(path))}", f"duration {chunk.duration:.6f}"]
    return "\n".join(lines) + "\n"


def assemble_argv(list_path: str, audio_path: str | None, out_path: str) -> list[str]:
    """ffmpeg argv: concat chunks + optional audio with stream copy into a faststart MP4."""
    # Inputs are our own local intermediates: absolute paths need `-safe 0`, but nothing beyond
    # plain files may be opened.
    own_file = ["-protocol_whitelist", "file"]
    argv = [
        ffmpeg.ffmpeg_binary(),
        *ffmpeg.GLOBAL_ARGS,
        *own_file, "-f", "concat", "-safe", "0", "-i", list_path,
    ]
    maps = ["-map", "0:v:0"]
    if audio_path is not None:
        argv += [*own_file, "-i", audio_path]
        maps += ["-map", "1:a:0"]
    return [
        *argv,
        *maps,
        "-c", "copy",
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-f", "mp4",
        out_path,
    ]


def assemble(
    chunk_paths: list[str],
    chunks: Sequence[Chunk],
    audio_path: str | None,
    out_path: str,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
) -> None:
    """Write the final MP4 at ``out_path``. Raises MediaError with a reason."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    with tempfile.NamedTemporaryFile("w", suffix=".ffconcat", dir=out_dir, delete=False) as handle:
        handle.write(concat_list(chunk_paths, chunks))
    try:
        argv = assemble_argv(handle.name, audio_path, out_path)
        ffmpeg.run(argv, timeout, what="assembling output", cancel=cancel)
    finally:
        os.unlink(handle.name)


def atom_order(path: str) -> list[str]:
    """Top-level MP4 box types of a local file, in file order."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return [box.type for box in top_level_boxes(lambda offset, n: os.pread(handle.fileno(), n, offset), size)]


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise VerificationError(f"output verification failed: {reason}")


def _check_audio(result: ProbeResult, expected_duration: float | None) -> dict[str, Any] | None:
    audio = result.audio
    if expected_duration is None:
        _check(audio is None, "unexpected audio track")
        return None
    _check(audio is not None, "audio track missing")
    assert audio is not None
    _check(audio.codec == "aac", f"audio codec is {audio.codec}, expected aac")
    _check(audio.sample_rate == 48_000, f"audio sample rate is {audio.sample_rate}, expected 48000")
    _check(audio.channels == 2, f"audio has {audio.channels} channels, expected 2")
    _check(
        abs(audio.duration - expected_duration) <= AUDIO_TOLERANCE,
        f"audio lasts {audio.duration:.3f}s, expected {expected_duration:.3f}s",
    )
    return {"codec": audio.codec, "channels": audio.channels, "sample_rate": audio.sample_rate, "duration": audio.duration}


def verify_output(path: str, plan: Plan, audio_expected_duration: float | None) -> dict[str, Any]:
    """Check the assembled MP4 against the plan; return its metadata. Raises VerificationError."""
    atoms = atom_order(path)
    _check("moov" in atoms and "mdat" in atoms, "not an MP4 file")
    _check(atoms.index("moov") < atoms.index("mdat"), "moov atom after mdat (not faststart)")
    try:
        result = probe(path)
    except MediaError as exc:
        raise VerificationError(f"output verification failed: {exc}") from None
    video = result.video
    _check(video is not None, "no video track")
    assert video is not None
    _check(video.codec == "h264", f"video codec is {video.codec}, expected h264")
    _check(video.profile == "High", f"H.264 profile is {video.profile or 'unknown'}, expected High")
    _check(video.pix_fmt == "yuv420p", f"pixel format is {video.pix_fmt}, expected yuv420p")
    _check(video.rotation == 0, f"output still carries a {video.rotation} degree rotation")
    _check((video.width, video.height) == (plan.width, plan.height), f"size {video.width}x{video.height}")
    _check(
        video.frame_count == plan.total_frames,
        f"{video.frame_count} frames, expected {plan.total_frames}",
    )
    frame = 1 / plan.fps
    _check(
        abs(video.duration - plan.video_duration) <= frame + 1e-3,
        f"video lasts {video.duration:.3f}s, expected {plan.video_duration:.3f}s",
    )
    audio = _check_audio(result, audio_expected_duration)
    return {
        "width": video.width,
        "height": video.height,
        "frames": video.frame_count,
        "fps": video.avg_fps,
        "video_codec": video.codec,
        "profile": video.profile,
        "pix_fmt": video.pix_fmt,
        "duration": video.duration,
        "size": result.size,
        "bitrate": int(result.size * 8 / result.duration) if result.duration > 0 else 0,
        "audio": audio,
    }
