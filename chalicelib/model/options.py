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
GOP_SECONDS = 2.0


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

    def __post_init__(self) -> None:
        _choice("preset", self.preset, PRESETS)
        _choice("x264_preset", self.x264_preset, X264_PRESETS)
        _number("crf", self.crf, CRF_RANGE, integer=True)
        _number("max_height", self.max_height, MAX_HEIGHT_RANGE, integer=True)
        _number("chunk_seconds", self.chunk_seconds, CHUNK_SECONDS_RANGE, integer=False)

    @property
    def max_width(self) -> int:
        """Width of the fit box: the 16:9 box whose height is ``max_height`` (1920 for 1080)."""
        return round(self.max_height * 16 / 9 / 2) * 2

    @property
    def gop_seconds(self) -> float:
        """Fixed GOP length; never longer than a chunk (chunks are whole GOPs)."""
        return min(GOP_SECONDS, self.chunk_seconds)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, JSON-ready."""
        return dataclasses.asdict(self)

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


def _number(name: str, value: Any, bounds: tuple[float, float], *, integer: bool) -> None:
    kinds = (int,) if integer else (int, float)
    # bool is an int subclass; "crf": true must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value:
        kind = "an integer" if integer else "a number"
        raise InvalidOptionsError(f"{name} must be {kind} (got {value!r})")
    low, high = bounds
    if not low <= value <= high:
        raise InvalidOptionsError(f"{name} must be between {low:g} and {high:g} (got {value!r})")
