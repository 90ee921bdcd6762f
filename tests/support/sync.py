"""A/V sync test media: clips whose picture flashes white exactly when a tone starts, and the
measurement of both in a decoded output (PyAV), independent of the pipeline's own bookkeeping."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from tests.support.media import ffmpeg_cmd

FPS = 30
FLASH_SECONDS = 1 / FPS  # one frame
BEEP_SECONDS = 0.05
SAMPLE_RATE = 48_000
ONSET_LEVEL = 0.05
QUIET_GAP = 0.02  # seconds


@dataclass(frozen=True)
class SyncClip:
    """A source whose audio starts ``lead`` seconds before its first frame."""

    path: Path
    lead: float
    video_seconds: float
    audio_seconds: float
    flashes: tuple[float, ...]  # source timeline (audio's first sample = 0) of each flash and beep
    first_beep: float  # a beep before the first frame when the audio leads: must survive


def _enable(times: tuple[float, ...], length: float) -> str:
    return "+".join(f"between(t,{t:.6f},{t + length - 1e-6:.6f})" for t in times)


def sync_clip(folder: Path, container: str, lead: float, *, video_seconds: float = 4.0,
              audio_short: float = 0.0, codec: str = "libx264", gop: int = 30) -> SyncClip:
    """Video of ``video_seconds`` at 30 fps delayed by ``lead`` after its audio (an edit list in
    MP4/MOV, later timestamps in MPEG-TS and Matroska); the audio ``audio_short`` seconds shorter
    than the video's end. Flashes at 1 s into the video and 1 s before its end, each with a beep."""
    flashes = (lead + 1.0, lead + video_seconds - 1.0)
    audio_seconds = lead + video_seconds - audio_short
    first_beep = lead / 2 if lead > 0.1 else 0.0
    beeps = (*((first_beep,) if first_beep else ()), *flashes)
    video = folder / f"v-{container}.mkv"
    audio = folder / f"a-{container}.mka"
    out = folder / f"lead-{lead:g}-{codec}.{container}"
    video_enable = _enable(tuple(t - lead for t in flashes), FLASH_SECONDS)
    steps = [
        ("-f", "lavfi", "-i", f"color=c=black:s=320x180:r={FPS}:d={video_seconds}",
         "-vf", f"drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{video_enable}'",
         "-c:v", codec, "-g", str(gop), "-pix_fmt", "yuv420p", "-preset", "ultrafast",
         *(("-x265-params", f"keyint={gop}:min-keyint={gop}:log-level=error") if codec == "libx265" else ()),
         str(video)),
        # Gated per sample (a filter's enable= works per audio frame, ~21 ms).
        ("-f", "lavfi", "-i", f"aevalsrc='0.5*sin(2*PI*1000*t)*({_enable(beeps, BEEP_SECONDS)})'"
         f":s={SAMPLE_RATE}:d={audio_seconds}", "-c:a", "pcm_s16le", str(audio)),
        ("-itsoffset", f"{lead:.6f}", "-i", str(video), "-i", str(audio), "-map", "0:v", "-map", "1:a",
         "-c:v", "copy", "-c:a", "aac" if container in ("mp4", "mov") else "mp2" if container == "ts" else "libopus",
         "-b:a", "128k", *(("-f", "mpegts") if container == "ts" else ()), str(out)),
    ]
    for step in steps:
        proc = ffmpeg_cmd("-v", "error", "-y", *step)
        assert proc.returncode == 0, proc.stderr
    return SyncClip(out, lead, video_seconds, audio_seconds, flashes, first_beep)


@dataclass(frozen=True)
class Decoded:
    """What an output decodes to: its frames' times, flash frames and beep onsets (seconds)."""

    frame_times: list[float]
    flashes: list[float]
    beeps: list[float]
    audio_start: float
    audio_seconds: float


def decode(path: Path) -> Decoded:
    """Decode ``path``'s first video and audio stream: white frames, tone onsets, audio span."""
    frame_times, flashes = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            t = float(frame.pts * frame.time_base)
            frame_times.append(t)
            if frame.to_ndarray(format="gray").mean() > 128:
                flashes.append(t)
    start: float | None = None
    pcm: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            start = float(frame.pts * frame.time_base) if start is None else start
            samples = frame.to_ndarray()
            scale = float(np.iinfo(samples.dtype).max) if np.issubdtype(samples.dtype, np.integer) else 1.0
            pcm.append(np.abs(samples / scale).max(axis=0))
    assert start is not None, "no audio decoded"
    level = np.concatenate(pcm)
    loud = np.flatnonzero(level > ONSET_LEVEL)
    # An onset: a loud sample after at least QUIET_GAP of quiet (the tone crosses zero often).
    onsets = loud[np.concatenate(([True], np.diff(loud) > QUIET_GAP * SAMPLE_RATE))] if loud.size else loud
    beeps = [start + float(i) / SAMPLE_RATE for i in onsets]
    count = int(level.size)
    return Decoded(frame_times, flashes, beeps, start, count / SAMPLE_RATE)


def sync_errors(decoded: Decoded) -> list[float]:
    """Per flash, the beep onset nearest to it minus the flash time (seconds)."""
    return [min(decoded.beeps, key=lambda b: abs(b - f)) - f for f in decoded.flashes]
