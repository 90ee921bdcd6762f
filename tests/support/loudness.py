"""Loudness test clips and an independent meter (ffmpeg's ebur128, run by the test itself)."""
from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np

from tests.support.media import ffmpeg_cmd

# Pink noise at about -34 LUFS, 6 dB down after 2.5 s (a loudness range of ~2 LU), with a 0.5 ms
# click every 1.25 s peaking near -3.6 dBTP: quiet, but too peaky for a linear gain to -16 or -23.
QUIET = ("anoisesrc=color=pink:amplitude=0.1:duration={s}:sample_rate=48000:seed=1,"
         "volume='if(lt(t,2.5),1,0.4)':eval=frame[n];"
         "aevalsrc='0.9*sin(2*PI*2000*t)*lt(mod(t,1.25),0.0005)':s=48000:d={s}[c];[n][c]amix=inputs=2:normalize=0")
# Pink noise driven 24-30 dB into a limiter: about -7 LUFS, peaks near 0 dBFS (above it once AAC).
LOUD = ("anoisesrc=color=pink:amplitude=1:duration={s}:sample_rate=48000:seed=1,"
        "volume='if(lt(t,2.5),30,15)':eval=frame,alimiter=limit=0.97:level=false:attack=1:release=20")
_SUMMARY = re.compile(r"Summary:\s*Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS.*?True peak:\s*Peak:\s*"
                      r"(-?[\d.]+|-inf) dBFS", re.S)


def make_clip(path: Path, audio: str, seconds: float = 5.0) -> Path:
    """A small H.264 + AAC (192 kb/s, stereo) MP4 of ``seconds`` whose sound is ``audio`` (lavfi)."""
    proc = ffmpeg_cmd("-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=gray:s=160x90:r=10:d={seconds}",
                      "-f", "lavfi", "-i", audio.format(s=seconds), "-c:v", "libx264", "-preset", "ultrafast",
                      "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-shortest", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def loudness_of(path: Path, track: int = 0) -> tuple[float, float]:
    """The integrated loudness (LUFS) and true peak (dBTP) of ``path``'s ``track``-th audio track."""
    proc = ffmpeg_cmd("-nostats", "-i", str(path), "-map", f"0:a:{track}", "-af", "ebur128=peak=true:framelog=quiet",
                      "-f", "null", "-")
    found = _SUMMARY.findall(proc.stderr)
    assert proc.returncode == 0 and found, proc.stderr[-2000:]
    integrated, peak = found[-1]
    return float(integrated), float(peak)


def samples_of(path: Path) -> np.ndarray:
    """The first audio track decoded: (channels, samples), float."""
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def lag_of(a: np.ndarray, b: np.ndarray, window: int = 4800) -> int:
    """The shift (samples) that lines ``b``'s envelope up best with ``a``'s, within ± ``window``."""
    x, y = np.abs(a.mean(axis=0)), np.abs(b.mean(axis=0))
    n = min(len(x), len(y))
    x, y = x[:n] - x[:n].mean(), y[:n] - y[:n].mean()
    size = 1 << (2 * n).bit_length()
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(y, size)), size)
    lags = np.concatenate([corr[-window:], corr[:window + 1]])
    return int(np.argmax(lags)) - window
