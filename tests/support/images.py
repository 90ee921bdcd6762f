"""Helpers for the image tests: a clip that fades in from black, pictures as numbers, the
storyboard's WebVTT, and the output's frame displayed at an instant to compare them against."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.media import ffmpeg_cmd

Picture = np.ndarray  # 2-D float luma, full range 0-255


def fade_in_clip(path: Path, *, black: float = 2.0, fade: float = 2.0, seconds: float = 10.0,
                 size: str = "640x360", rate: int = 25) -> Path:
    """``black`` s of black, then testsrc2 fading in over ``fade`` s, up to ``seconds``, with a tone."""
    rest = seconds - black
    proc = ffmpeg_cmd("-v", "error", "-f", "lavfi", "-i", f"color=black:size={size}:rate={rate}:duration={black}",
                      "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={rest},fade=in:st=0:d={fade}",
                      "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                      "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-map", "2:a",
                      "-c:v", "libx264", "-g", str(rate), "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def picture(data: bytes | Path, box: tuple[int, int, int, int] | None = None) -> Picture:
    """The luma of an image (JPEG, WebP, …), full range, optionally only ``box`` = (x, y, w, h)."""
    import io

    import av

    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(source) as container:
        frame = next(container.decode(video=0))
    # JPEG is full range already; a WebP decodes to limited-range YUV.
    full = frame.reformat(format="gray", dst_color_range="JPEG").to_ndarray().astype(float)
    if box is None:
        return full
    x, y, w, h = box
    return full[y:y + h, x:x + w]


def output_frames(video: Path, width: int, height: int) -> list[tuple[float, Picture]]:
    """Every frame of ``video`` (time from its first frame, luma at ``width`` x ``height``, scaled
    as the images are: bicubic, from limited to full range)."""
    import av

    frames = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        first = None
        for frame in container.decode(stream):
            if frame.pts is None or stream.time_base is None:
                continue
            first = frame.pts if first is None else first
            small = frame.reformat(width=width, height=height, format="gray", interpolation="BICUBIC",
                                   src_color_range="MPEG", dst_color_range="JPEG")
            frames.append((float((frame.pts - first) * stream.time_base), small.to_ndarray().astype(float)))
    return frames


def displayed_index(frames: list[tuple[float, Picture]], seconds: float) -> int:
    """Index of the frame displayed at ``seconds`` (the last one at or before it, to the millisecond)."""
    at = round(seconds * 1000)
    return max(i for i, (t, _) in enumerate(frames) if round(t * 1000) <= at)


def mse(a: Picture, b: Picture) -> float:
    """Mean squared difference of two pictures of one size."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.mean((a - b) ** 2))


def best_match(image: Picture, frames: list[tuple[float, Picture]], around: int, reach: int = 3) -> int:
    """Of the frames within ``reach`` of index ``around``, the one ``image`` is closest to (the
    earliest of equals: identical black frames)."""
    near = range(max(0, around - reach), min(len(frames), around + reach + 1))
    scores = {i: round(mse(image, frames[i][1]), 1) for i in near}
    best = min(scores.values())
    return around if scores[around] == best else min(i for i, s in scores.items() if s == best)


@dataclass(frozen=True)
class Cue:
    """One storyboard tile: when it shows, and where in which sheet."""

    start: float
    end: float
    sheet: str
    box: tuple[int, int, int, int]


_CUE = re.compile(r"(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a storyboard WebVTT (every block after the header must be one)."""
    assert text.startswith("WEBVTT\n\n"), text[:40]
    blocks = [b for b in text[len("WEBVTT\n\n"):].split("\n\n") if b.strip()]
    cues = []
    for block in blocks:
        found = _CUE.fullmatch(block.strip())
        assert found, block
        g = found.groups()
        box = (int(g[9]), int(g[10]), int(g[11]), int(g[12]))
        cues.append(Cue(_seconds(*g[0:4]), _seconds(*g[4:8]), g[8], box))
    return cues
