"""Two-pass EBU R128 loudness normalisation of the audio encode (the ``loudness`` option).

Pass 1 meters exactly the audio the encode uses (the same stream, the same alignment, the same
stereo downmix) with ``ebur128``; pass 2 is the audio encode itself, with ``loudnorm`` told
those measurements: one linear gain when the true-peak ceiling allows it, else loudnorm's dynamic
mode (a gain that follows the short-term loudness, and its true-peak limiter). Only in that case
pass 1 also runs loudnorm's dynamic mode dry, for the offset it misses the target by, which pass 2
then makes up for: that run costs ~5× the metering (loudnorm works at 192 kHz).

The loudness, its range, the gate and the true peak come from ``ebur128``, not from loudnorm's
own first pass: that one under-weights about its first 3 s (its look-ahead buffer), 0.4 LU low
on a 20 s clip 6 dB louder in its first half, 0.9 LU on a 5 s one.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, replace

from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import ProbeResult
from workers.media.binary import ffmpeg_binary
from workers.media.encode import AUDIO_RATE, audio_filter, audio_start_offset

# Below the -1 dBTP the output promises, since the AAC encode (128 kb/s) overshoots the true peak
# of what it is given: by up to ~0.7 dB after a linear gain (the ceiling that admits one), by up
# to ~1.7 dB after loudnorm's limiter clipped dense material (the limiter's ceiling; measured on
# a square wave and on camera audio pushed to -10 LUFS).
LINEAR_PEAK = -2.0  # dBTP
LIMITER_PEAK = -3.0  # dBTP
# Wide enough that only the true peak sends real programmes to dynamic mode (their loudness range
# is 5-15 LU, films' up to ~20); above it loudnorm compresses the range to it.
LOUDNESS_RANGE = 20.0  # LU
# Below R128's absolute gate there is nothing to normalise: the audio is left as it is.
SILENCE = -70.0  # LUFS
# loudnorm's look-ahead: a shorter track gets one gain that stops at the peak ceiling, never the
# dynamic mode (nor its limiter, so the linear gain's ceiling applies).
LOOKAHEAD = 3 * AUDIO_RATE  # samples
# The encode downmixes to stereo (-ac 2) after the filters: meter and normalise the downmix.
STEREO = "aformat=channel_layouts=stereo"
# The length loudnorm is given: its dynamic mode pads its output to whole 100 ms frames.
COUNT = "astats=measure_perchannel=none:measure_overall=Number_of_samples"
METER = "ebur128=peak=true:framelog=quiet"
# loudnorm's dynamic mode stamps its last frame apart from the others (a gap, or an overlap, the
# encode's resampler would fill or cut): its output is back to back from t=0 as its input was.
RESTAMP = "asetpts=N/SR/TB"

_NUMBER = r"(-?(?:inf|\d+(?:\.\d+)?))"
_SUMMARY = re.compile(r"Summary:\s*Integrated loudness:\s*I:\s*" + _NUMBER + r" LUFS\s*Threshold:\s*" + _NUMBER
                      + r" LUFS\s*Loudness range:\s*LRA:\s*" + _NUMBER + r" LU\s.*?True peak:\s*Peak:\s*" + _NUMBER
                      + r" dBFS", re.S)
_SAMPLES = re.compile(r"Number of samples: (\d+)")
_LOUDNORM = re.compile(r"\{[^{}]*\"target_offset\"[^{}]*\}")


@dataclass(frozen=True)
class Measurement:
    """What pass 1 found: the integrated loudness (LUFS), true peak (dBTP), loudness range (LU),
    gating threshold (LUFS) and length (samples at 48 kHz, per channel) of the audio loudnorm is
    given; and the offset (LU) its dynamic mode misses the target by (0 when it is not needed)."""

    integrated: float
    true_peak: float
    lra: float
    threshold: float
    samples: int
    offset: float = 0.0

    @property
    def audible(self) -> bool:
        """Whether there is anything above the silence gate to normalise."""
        return math.isfinite(self.integrated) and self.integrated > SILENCE

    @property
    def short(self) -> bool:
        """Whether loudnorm sees it all at once (one gain, at most up to the peak ceiling)."""
        return self.samples < LOOKAHEAD

    def linear(self, target: float) -> bool:
        """Whether pass 2 reaches ``target`` with one gain, not dynamically: loudnorm's own rule, with
        a margin that keeps its float arithmetic on the same side."""
        return (SILENCE < self.integrated < 0 and self.lra <= LOUDNESS_RANGE
                and self.true_peak + target - self.integrated <= LINEAR_PEAK - 0.01)


def _number(value: float) -> str:
    return f"{value:.2f}"


def _clamp(value: float, low: float, high: float) -> float:
    return low if math.isnan(value) else min(high, max(low, value))


def _loudnorm(target: float, measured: Measurement) -> str:
    """loudnorm's options: the target, the ceiling of a linear gain or of the limiter, pass 1's
    measurements (clamped to loudnorm's ranges)."""
    values = {
        "I": target,
        "TP": LINEAR_PEAK if measured.linear(target) or measured.short else LIMITER_PEAK,
        "LRA": LOUDNESS_RANGE,
        "measured_I": _clamp(measured.integrated, -99.0, 0.0),
        "measured_TP": _clamp(measured.true_peak, -99.0, 99.0),
        # loudnorm reads 0 LU (its default) as "not measured" and then refuses a linear gain; a
        # steady or short (< 3 s) track measures exactly that.
        "measured_LRA": _clamp(measured.lra, 0.01, 99.0),
        "measured_thresh": _clamp(measured.threshold, -99.0, 0.0),
        "offset": _clamp(measured.offset, -99.0, 99.0),
    }
    return "loudnorm=" + ":".join(f"{name}={_number(value)}" for name, value in values.items()) + ":linear=true"


def meter_filter() -> str:
    """Pass 1's filters (between the encode's resamplings): the downmix, its length, ebur128."""
    return f"{STEREO},{COUNT},{METER}"


def offset_filter(target: float, measured: Measurement) -> str:
    """The dry run's filters: pass 2's loudnorm (dynamic) without an offset, reporting its result."""
    return f"{STEREO},{_loudnorm(target, replace(measured, offset=0.0))}:print_format=json"


def apply_filter(target: float, measured: Measurement) -> str:
    """Pass 2's filters (between the encode's resamplings): the downmix, loudnorm, its timeline,
    back to 48 kHz and the length it was given; "" when the audio is silent (no gain makes silence
    ``target`` loud)."""
    if not measured.audible:
        return ""
    return f"{STEREO},{_loudnorm(target, measured)}:print_format=none,{RESTAMP},aresample={AUDIO_RATE}," \
           f"atrim=end_sample={measured.samples}"


def measure_argv(source: str, probe: ProbeResult, filters: str) -> list[str]:
    """ffmpeg argv: decode the audio track the encode maps through the encode's own chain with
    ``filters`` (meters) in it, into nothing; they print their summaries at the ``info`` level."""
    if probe.audio is None:
        raise MediaError("source has no audio stream")
    return [
        ffmpeg_binary(),
        *sandbox.GLOBAL_ARGS,
        "-loglevel", "info",  # the later -loglevel wins
        "-nostats",
        *sandbox.input_args(source),
        "-map", f"0:{probe.audio.index}",
        "-vn", "-sn", "-dn",
        "-af", audio_filter(audio_start_offset(probe), loudness=filters),
        "-f", "null", "-",
    ]


def parse_meters(stderr: str) -> Measurement:
    """The last ebur128 and astats summaries in ``stderr`` → Measurement. Raises MediaError."""
    summaries = _SUMMARY.findall(stderr)
    counts = _SAMPLES.findall(stderr)
    if not summaries or not counts:
        raise MediaError("measuring loudness failed: the meters printed no summary")
    integrated, threshold, lra, true_peak = (float(value) for value in summaries[-1])
    return Measurement(integrated=integrated, true_peak=true_peak, lra=lra, threshold=threshold,
                       samples=int(counts[-1]))


def parse_offset(stderr: str) -> float:
    """The ``target_offset`` of loudnorm's last JSON report in ``stderr``. Raises MediaError."""
    reports = _LOUDNORM.findall(stderr)
    if not reports:
        raise MediaError("measuring loudness failed: loudnorm printed no report")
    try:
        return float(json.loads(reports[-1])["target_offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MediaError(f"measuring loudness failed: unreadable loudnorm report ({exc})") from exc


def measure(source: str, probe: ProbeResult, target: float, *, timeout: float,
            cancel: threading.Event | None = None, workdir: str | None = None) -> Measurement:
    """Pass 1: meter the audio the encode will use [and run loudnorm dry when it must be dynamic].
    Raises MediaError."""
    def run(filters: str) -> str:
        return sandbox.run(measure_argv(source, probe, filters), timeout, what="measuring loudness", cancel=cancel,
                           network=sandbox.is_remote(source), workdir=workdir).stderr

    measured = parse_meters(run(meter_filter()))
    if not measured.audible or measured.linear(target) or measured.short:
        return measured
    return replace(measured, offset=parse_offset(run(offset_filter(target, measured))))


def normalisation(source: str, probe: ProbeResult, target: float, *, timeout: float,
                  cancel: threading.Event | None = None, workdir: str | None = None) -> tuple[str, Measurement]:
    """Pass 1, then the filters that make pass 2 (``encode_audio(loudness=…)``) ``target`` loud."""
    measured = measure(source, probe, target, timeout=timeout, cancel=cancel, workdir=workdir)
    return apply_filter(target, measured), measured
