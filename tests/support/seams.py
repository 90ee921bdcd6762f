"""Parallel audio under measurement: clips with a test tone and programme-like sound, and the
seams of their audio, encoded in parts, measured against the source (SNR, length, the peak of the
difference) and against the same audio encoded at once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from chalicelib.model.audioparts import AAC_FRAME
from chalicelib.model.facts import ProbeResult
from chalicelib.model.plan import Plan
from tests.support.media import ffmpeg_cmd
from workers.media.encode import AUDIO_CHANNELS, AUDIO_RATE, audio_filter, audio_start_offset

# A 1 kHz tone (a click at a seam stands out of its difference from the source) and a
# programme-like mix: chords with a beat, a vibrato, a gated high tone and noise (all well inside
# the band AAC keeps at 128 kb/s), changing every few seconds, its onsets off the segment grid (an
# onset is a transient, whose pre-echo an encoder in another rate-control state handles differently:
# on the grid it would measure onsets, not seams).
TONE = "sine=frequency=1000:sample_rate={rate}:duration={s},volume=0.5"
PROGRAMME = ("aevalsrc='0.25*sin(2*PI*220*t)*(1+0.5*sin(2*PI*2*t))+0.2*sin(2*PI*523*t+4*sin(2*PI*0.5*t))"
             "+0.15*sin(2*PI*1760*t)*gt(mod(t+0.37,3),1.5)|0.25*sin(2*PI*330*t)+0.2*sin(2*PI*880*t)*lt(mod(t+0.61,2),1)'"
             ":s={rate}:d={s}[m];anoisesrc=color=pink:amplitude=0.05:sample_rate={rate}:duration={s}:seed=3[n];"
             "[m][n]amix=inputs=2:normalize=0")
WINDOW = AAC_FRAME  # samples per SNR window


def make_clip(path: Path, audio: str, seconds: float, rate: int = 44_100, channels: int = 2) -> Path:
    """A small H.264 + AAC (256 kb/s) MP4 whose sound is ``audio`` (lavfi, ``{s}`` and ``{rate}`` filled in)."""
    proc = ffmpeg_cmd("-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=gray:s=160x90:r=10:d={seconds}",
                      "-f", "lavfi", "-i", audio.format(s=seconds, rate=rate), "-c:v", "libx264", "-preset",
                      "ultrafast", "-g", "20", "-c:a", "aac", "-b:a", "256k", "-ac", str(channels), "-ar", str(rate),
                      "-shortest", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def decoded(path: Path, *, priming: bool = False) -> np.ndarray:
    """The first audio track of ``path`` decoded: (channels, samples) float, from the output's t=0
    (``priming``: a joined stream's priming frame is dropped here, as DASH's presentation offset
    does; the MP4's edit list already hides it from the decoder).)"""
    pcm = _pcm(path)
    return pcm[:, AAC_FRAME:] if priming else pcm


def reference(source: Path, probe: ProbeResult, path: Path) -> np.ndarray:
    """What the encoder is given: the source through the same alignment, resampler and downmix."""
    proc = ffmpeg_cmd("-v", "error", "-y", "-i", str(source), "-map", f"0:{probe.audio.index if probe.audio else 1}",
                      "-af", audio_filter(audio_start_offset(probe)), "-ac", str(AUDIO_CHANNELS), "-c:a", "pcm_f32le",
                      str(path))
    assert proc.returncode == 0, proc.stderr
    return _pcm(path)


def _pcm(path: Path) -> np.ndarray:
    """The first audio track decoded: (channels, samples), float (packed formats unpacked)."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            data = frame.to_ndarray()
            frames.append(data if frame.format.is_planar else data.reshape(-1, len(frame.layout.channels)).T)
    return np.concatenate(frames, axis=1)


@dataclass(frozen=True)
class Seams:
    """How the joined audio compares with the source at its seams and elsewhere."""

    samples: int                 # decoded (priming dropped)
    seam_snr_db: float           # the worst window touching a seam
    elsewhere_snr_db: float      # the median window away from the seams
    elsewhere_p5_snr_db: float   # the 5th percentile away from the seams
    seam_peak: float             # the largest |decoded - source| near a seam
    elsewhere_peak: float        # ... away from them

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 3) for k, v in self.__dict__.items()}


def measure(out: np.ndarray, ref: np.ndarray, seams: list[int], reach: int = 2 * WINDOW) -> Seams:
    """SNR per ``WINDOW`` and the peak of the difference, near ``seams`` (first samples of a part,
    on the output's timeline; within ``reach``) against away from them; the first and last
    second (the encoder's start and flush) left out of both."""
    n = min(out.shape[1], ref.shape[1])
    diff = out[:, :n] - ref[:, :n]
    near = np.zeros(n, dtype=bool)
    for seam in seams:
        near[max(0, seam - reach):seam + reach] = True
    edge = AUDIO_RATE
    snrs_near, snrs_away = [], []
    for start in range(edge, n - edge - WINDOW, WINDOW):
        signal = float(np.sum(ref[:, start:start + WINDOW] ** 2))
        noise = float(np.sum(diff[:, start:start + WINDOW] ** 2)) or 1e-20
        snr = 10 * np.log10(max(signal, 1e-20) / noise)
        (snrs_near if near[start:start + WINDOW].any() else snrs_away).append(snr)
    middle = np.zeros(n, dtype=bool)
    middle[edge:n - edge] = True
    peak = np.max(np.abs(diff), axis=0)
    return Seams(samples=out.shape[1], seam_snr_db=min(snrs_near), elsewhere_snr_db=float(np.median(snrs_away)),
                 elsewhere_p5_snr_db=float(np.percentile(snrs_away, 5)),
                 seam_peak=float(peak[near & middle].max()), elsewhere_peak=float(peak[~near & middle].max()))


def seam_samples(plan: Plan) -> list[int]:
    """Where each part after the first starts decoding, on the output's timeline (samples): its
    first packet's (tfdt - the priming frame)."""
    return [part.start - AAC_FRAME for part in plan.audio_parts[1:]]
