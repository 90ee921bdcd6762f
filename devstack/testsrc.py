"""Reproducible synthetic source clips (ffmpeg test sources with grain and sound).

Used by ``make demo``, the tests and the benchmarks, so every number comes from the same input.
"""
from __future__ import annotations

from chalicelib.media.sandbox import GLOBAL_ARGS, run
from workers.media.binary import ffmpeg_binary


def synthetic_clip_argv(out_path: str, seconds: float, width: int = 1920, height: int = 1080, fps: int = 30,
                        grain: int = 4, audio: bool = True, gop: int | None = None) -> list[str]:
    """ffmpeg argv that renders a moving test pattern with temporal film-grain noise and a tone.

    Encoded like a good camera file (CRF 20, ~8 Mb/s at 1080p30 with the default grain): grain
    makes it realistic to compress, and the result is a source the web preset can shrink.
    """
    video = f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"
    argv = [ffmpeg_binary(), *GLOBAL_ARGS, "-f", "lavfi", "-i", video]
    if audio:
        tone = f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={seconds}"
        argv += ["-f", "lavfi", "-i", tone]
    # A 2 s keyframe interval, as cameras and phones write: a chunk's seek decodes at most 2 s.
    # ``gop``: another interval, fixed (a one-keyframe source: more frames than the clip has).
    keyframes = ["-g", str(2 * fps)] if gop is None else ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    argv += ["-vf", f"noise=alls={grain}:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
             *keyframes, "-pix_fmt", "yuv420p"]
    if audio:
        argv += ["-c:a", "aac", "-b:a", "192k", "-ac", "2"]
    return argv + ["-movflags", "+faststart", out_path]


def make_synthetic_clip(out_path: str, seconds: float, **kwargs: int | bool) -> None:
    """Render :func:`synthetic_clip_argv` (trusted input: no sandbox beyond ffmpeg.run's limits)."""
    run(synthetic_clip_argv(out_path, seconds, **kwargs), timeout=600 + seconds * 20, what="test clip render")
