"""What a probe found in a source: container facts and the chosen video and audio streams.

Pure records with a JSON round trip (``to_dict`` / ``from_dict``); the probe that fills them
runs in ``chalicelib.media.probe``.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Self

MOV_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"


class Record:
    """Frozen-dataclass mixin: JSON round trip via ``to_dict()`` / ``from_dict()``."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # a mixin of dataclasses only

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples become lists once JSON-encoded)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild from ``to_dict()`` output (nested records and tuples restored)."""
        hints = typing.get_type_hints(cls)
        kwargs = {f.name: _revive(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
        return cls(**kwargs)


def _revive(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _revive(inner[0], value)
    if origin is tuple:
        return tuple(_revive(typing.get_args(hint)[0], item) for item in value)
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_dict(value)
    return value


@dataclass(frozen=True)
class MasteringDisplay(Record):
    """SMPTE ST 2086 mastering display colour volume (HDR10 metadata): CIE 1931 xy of the display's
    red, green and blue primaries and white point (empty when the source gives only luminance),
    its peak and black luminance in cd/m² (0: not given)."""

    red: tuple[float, ...] = ()
    green: tuple[float, ...] = ()
    blue: tuple[float, ...] = ()
    white: tuple[float, ...] = ()
    max_luminance: float = 0.0
    min_luminance: float = 0.0


@dataclass(frozen=True)
class VideoInfo(Record):
    """The selected video stream."""

    index: int
    codec: str
    width: int
    height: int
    rotation: int  # clockwise degrees to display upright: 0/90/180/270
    display_width: int
    display_height: int
    pix_fmt: str
    bit_depth: int
    avg_fps: float
    frame_count: int
    duration: float  # first frame pts .. last frame end
    first_pts: float  # absolute seconds
    frame_times: tuple[float, ...] = field(repr=False)  # sorted, relative to first_pts
    profile: str = ""
    keyframe_interval: float = 0.0  # longest gap between flagged keyframes, seconds
    color_transfer: str = ""  # ffmpeg's name (smpte2084 = PQ, arib-std-b67 = HLG); "" = unspecified
    color_primaries: str = ""
    # Frame indices (presentation order) of the source's keyframes: where a decoder can start.
    # Empty when unknown (then every chunk is assumed to start decoding near its first frame).
    keyframes: tuple[int, ...] = field(default=(), repr=False)
    time_base_den: int = 0  # denominator of the stream's time base: output timescales are multiples
    color_matrix: str = ""  # ffmpeg's name of the YUV matrix (bt709, bt2020nc…); "" = unspecified
    color_range: str = ""  # tv (limited) | pc (full); "" = unspecified
    mastering: MasteringDisplay | None = None  # HDR10 static metadata, from the first frame's side data
    max_cll: int = 0  # content light level (CTA-861.3), cd/m²: brightest pixel; 0 = not given
    max_fall: int = 0  # brightest frame average, cd/m²; 0 = not given


@dataclass(frozen=True)
class AudioInfo(Record):
    """The first audio stream."""

    index: int
    codec: str
    channels: int
    sample_rate: int
    start: float  # absolute seconds
    duration: float


class TrackKind(StrEnum):
    """What a source stream beside the picture carries."""

    AUDIO = "audio"
    SUBTITLE = "subtitle"


# Subtitle codecs that are pictures, not text: they cannot become WebVTT or mov_text.
BITMAP_SUBTITLES = frozenset({"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub", "dvb_teletext"})


@dataclass(frozen=True)
class TrackInfo(Record):
    """An audio or subtitle stream of the source, as tagged (every one, the main audio included)."""

    index: int
    kind: str  # TrackKind
    codec: str
    language: str = ""  # ISO 639-2 as tagged; "" when untagged or "und"
    title: str = ""
    default: bool = False
    forced: bool = False
    channels: int = 0
    sample_rate: int = 0
    start: float = 0.0  # audio: first decoded sample (absolute seconds)
    duration: float = 0.0  # audio: decoded length

    @property
    def bitmap(self) -> bool:
        """A picture-based subtitle (PGS, VobSub, DVB): it cannot be turned into text."""
        return self.kind == TrackKind.SUBTITLE and self.codec in BITMAP_SUBTITLES


@dataclass(frozen=True)
class ProbeResult(Record):
    """Container-level facts plus the chosen video/audio streams."""

    format_name: str
    size: int
    duration: float
    start_time: float
    video: VideoInfo | None
    audio: AudioInfo | None
    tracks: tuple[TrackInfo, ...] = ()  # every audio and subtitle stream, in stream order

    def summary(self) -> dict[str, Any]:
        """Small dict for the job record (no per-frame data)."""
        video = None
        if self.video is not None:
            video = {k: v for k, v in self.video.to_dict().items() if k not in ("frame_times", "keyframes")}
        audio = self.audio.to_dict() if self.audio else None
        return {
            "format_name": self.format_name,
            "size": self.size,
            "duration": self.duration,
            "start_time": self.start_time,
            "video": video,
            "audio": audio,
            "tracks": [t.to_dict() for t in self.tracks],
        }


