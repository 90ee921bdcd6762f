"""User-facing encode options and their validation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from chalicelib.model.errors import InvalidOptionsError

PRESETS = ("web",)
X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow",
)
CRF_RANGE = (0, 51)
MAX_HEIGHT_RANGE = (64, 2160)
CHUNK_SECONDS_RANGE = (1.0, 600.0)
SEGMENT_SECONDS_RANGE = (1.0, 10.0)
OUTPUTS = ("hls", "dash", "mp4")
CODECS = ("h264", "hevc", "av1")
MAX_RUNGS = 8
RUNG_HEIGHT_RANGE = (120, 2160)
RUNG_KEYS = frozenset({"height", "codec", "crf", "maxrate"})
MAXRATE_RANGE = (100, 100_000)  # kb/s
HDR_MODES = ("tonemap", "keep")
HDR_CODECS = ("hevc", "av1")  # the codecs whose rungs can stay HDR (10-bit); H.264 is always SDR
LOUDNESS_OFF = "off"
LOUDNESS_RANGE = (-36, -10)  # LUFS: from quiet broadcast (-31 to -24) to loud streaming (-14 to -11)


@dataclass(frozen=True)
class EncodeOptions:
    """How to encode.

    ``x264_preset`` defaults to ``veryfast``: on per-millisecond serverless billing it costs about
    a third of ``medium`` for a few percent more bitrate at the same CRF. ``chunk_seconds`` of 10
    keeps per-chunk process start-up and seek overhead small (<5%) while giving minute-long videos
    ~6-way parallelism.
    """

    preset: str = "web"
    crf: int = 23
    x264_preset: str = "veryfast"
    max_height: int = 1080
    chunk_seconds: float = 10.0
    # Streaming: which outputs, the ladder (``"auto"`` or explicit rungs), its codecs, and the
    # segment length (= the GOP: one media segment per closed GOP).
    outputs: tuple[str, ...] = OUTPUTS
    ladder: str | tuple[dict[str, Any], ...] = "auto"
    codecs: tuple[str, ...] = ("h264",)
    segment_seconds: float = 2.0
    # ``"off"``, or the integrated loudness (LUFS, a JSON number) the audio is normalised to.
    loudness: str | float = LOUDNESS_OFF
    # An HDR (PQ/HLG) source: ``"tonemap"`` makes every rung SDR (BT.709); ``"keep"`` keeps the HEVC
    # and AV1 rungs HDR (10-bit, the source's transfer and metadata). SDR sources ignore it.
    hdr: str = "tonemap"

    def __post_init__(self) -> None:
        _choice("preset", self.preset, PRESETS)
        _choice("x264_preset", self.x264_preset, X264_PRESETS)
        _number("crf", self.crf, CRF_RANGE, integer=True)
        _number("max_height", self.max_height, MAX_HEIGHT_RANGE, integer=True)
        _number("chunk_seconds", self.chunk_seconds, CHUNK_SECONDS_RANGE, integer=False)
        _number("segment_seconds", self.segment_seconds, SEGMENT_SECONDS_RANGE, integer=False)
        # JSON gives lists; the record keeps tuples (hashable, frozen).
        object.__setattr__(self, "outputs", _subset("outputs", self.outputs, OUTPUTS))
        object.__setattr__(self, "codecs", _subset("codecs", self.codecs, CODECS))
        if "h264" not in self.codecs:
            raise InvalidOptionsError("codecs must include h264 (the rung every player can play, and the MP4's)")
        object.__setattr__(self, "ladder", _ladder(self.ladder, self.codecs))
        if self.loudness != LOUDNESS_OFF:
            _number("loudness", self.loudness, LOUDNESS_RANGE, integer=False, also='"off" or ')
        _choice("hdr", self.hdr, HDR_MODES)
        if self.hdr == "keep" and not set(self.video_codecs) & set(HDR_CODECS):
            raise InvalidOptionsError('hdr "keep" needs an HEVC or AV1 rendition in the stream (codecs or the ladder, '
                                      'and outputs hls or dash): H.264 renditions and the MP4 are always SDR')

    @property
    def max_width(self) -> int:
        """Width of the fit box: the 16:9 box whose height is ``max_height`` (1920 for 1080)."""
        return round(self.max_height * 16 / 9 / 2) * 2

    @property
    def gop_seconds(self) -> float:
        """Fixed GOP length = the segment length; never longer than a chunk (chunks are whole GOPs)."""
        return min(self.segment_seconds, self.chunk_seconds)

    @property
    def loudness_target(self) -> float | None:
        """The integrated loudness (LUFS) to normalise the audio to; None: leave it as it is."""
        return None if self.loudness == LOUDNESS_OFF else float(self.loudness)

    @property
    def video_codecs(self) -> tuple[str, ...]:
        """The codecs the ladder encodes: H.264 alone for an MP4-only job."""
        if not self.streaming:
            return ("h264",)
        if isinstance(self.ladder, str):  # "auto"
            return self.codecs
        return tuple(c for c in CODECS if c == "h264" or any(r["codec"] == c for r in self.ladder))

    @property
    def streaming(self) -> bool:
        """Whether the job publishes an adaptive stream (HLS and/or DASH), not just the MP4."""
        return "hls" in self.outputs or "dash" in self.outputs

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, JSON-ready."""
        data = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> EncodeOptions:
        """Validate a user-supplied dict (missing keys take defaults) → InvalidOptionsError."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise InvalidOptionsError("options must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidOptionsError(f"unknown option(s): {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
        return cls(**data)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidOptionsError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")


def _subset(name: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise InvalidOptionsError(f"{name} must be a non-empty list of {', '.join(allowed)} (got {value!r})")
    for item in value:
        _choice(name, item, allowed)
    return tuple(a for a in allowed if a in value)  # canonical order, no repeats


def _ladder(value: Any, codecs: tuple[str, ...]) -> str | tuple[dict[str, Any], ...]:
    """``"auto"``, or 1-8 explicit rungs ``{height, codec?, crf?, maxrate? (kb/s)}``."""
    if value == "auto":
        return "auto"
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_RUNGS:
        raise InvalidOptionsError(f'ladder must be "auto" or a list of 1 to {MAX_RUNGS} rungs (got {value!r})')
    rungs = []
    for rung in value:
        if not isinstance(rung, dict) or "height" not in rung:
            raise InvalidOptionsError(f"a ladder rung must be an object with a height (got {rung!r})")
        unknown = sorted(set(rung) - RUNG_KEYS)
        if unknown:
            raise InvalidOptionsError(f"unknown rung key(s): {', '.join(unknown)}; "
                                      f"allowed: {', '.join(sorted(RUNG_KEYS))}")
        _number("ladder height", rung["height"], RUNG_HEIGHT_RANGE, integer=True)
        codec = rung.get("codec", "h264")
        _choice("ladder codec", codec, codecs)
        if "crf" in rung:
            _number("ladder crf", rung["crf"], CRF_RANGE if codec != "av1" else (0, 63), integer=True)
        if "maxrate" in rung:
            _number("ladder maxrate (kb/s)", rung["maxrate"], MAXRATE_RANGE, integer=True)
        rungs.append({**rung, "codec": codec})
    if len({(r["codec"], r["height"]) for r in rungs}) != len(rungs):
        raise InvalidOptionsError("ladder has the same codec and height twice")
    return tuple(rungs)


def _number(name: str, value: Any, bounds: tuple[float, float], *, integer: bool, also: str = "") -> None:
    kinds = (int,) if integer else (int, float)
    # bool is an int subclass; "crf": true must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value:
        kind = "an integer" if integer else "a number"
        raise InvalidOptionsError(f"{name} must be {also}{kind} (got {value!r})")
    low, high = bounds
    if not low <= value <= high:
        raise InvalidOptionsError(f"{name} must be between {low:g} and {high:g} (got {value!r})")
