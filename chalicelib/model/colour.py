"""HDR sources: which transfer is which dynamic range, what a plan keeps of a source's colour, and
what each rendition is (SDR, PQ or HLG). Pure.

A source is HDR when its transfer is PQ (SMPTE ST 2084: HDR10, HDR10+, Dolby Vision profile 8.1's
base layer) or HLG (ARIB STD-B67: broadcast HDR, Dolby Vision 8.4's base layer). Everything else,
untagged sources included, is SDR and encoded as it always was. Dolby Vision's dynamic metadata
(the RPU) is dropped: its compatible base layer is what gets tone-mapped or kept; profile 5 has no
compatible base layer and no transfer tag a decoder can use, so it is not recognised.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from chalicelib.model.facts import MasteringDisplay, Record, VideoInfo
from chalicelib.model.options import HDR_CODECS, EncodeOptions


class VideoRange(StrEnum):
    """A rendition's dynamic range, as HLS's ``VIDEO-RANGE`` names it."""

    SDR = "SDR"
    PQ = "PQ"
    HLG = "HLG"


HDR_TRANSFERS = {"smpte2084": VideoRange.PQ, "arib-std-b67": VideoRange.HLG}
# ISO/IEC 23091-2 (CICP) code points of ffmpeg's names, as DASH signals them. Only the names every
# stage (zscale, x265, SVT-AV1) knows; anything else in an HDR source is taken as BT.2020.
CICP_PRIMARIES = {"bt709": 1, "bt2020": 9, "smpte431": 11, "smpte432": 12}
CICP_TRANSFERS = {"bt709": 1, "smpte2084": 16, "arib-std-b67": 18}
CICP_MATRICES = {"bt709": 1, "bt2020nc": 9, "bt2020c": 10}
SDR_WHITE = 100.0  # cd/m²: the nominal peak of SDR, where tone mapping puts the source's diffuse white
# cd/m² assumed when a source states no peak: the usual HDR10 grading display, and the HLG
# reference display (BT.2100).
DEFAULT_PEAK = 1000.0
MAX_PEAK = 10_000.0  # PQ's ceiling
MAX_LIGHT_LEVEL = 65_535  # MaxCLL/MaxFALL are 16-bit in the SEI and the OBU


@dataclass(frozen=True)
class Colour(Record):
    """An HDR source's colour, as the encoders need it (a plan without one is SDR)."""

    range: str  # VideoRange.PQ | VideoRange.HLG
    transfer: str  # ffmpeg's names: smpte2084 | arib-std-b67
    primaries: str
    matrix: str
    full_range: bool  # the source's samples use the full range (rare); every output is limited
    keep: bool  # the job's ``hdr`` is ``keep``: its HEVC and AV1 rungs stay HDR
    mastering: MasteringDisplay | None = None
    max_cll: int = 0  # cd/m²; 0 = not given
    max_fall: int = 0

    @property
    def peak(self) -> float:
        """The source's brightest light, cd/m²: its MaxCLL, else its mastering display's peak,
        else ``DEFAULT_PEAK``; what tone mapping compresses to SDR white."""
        stated = self.max_cll or (self.mastering.max_luminance if self.mastering else 0.0)
        return min(MAX_PEAK, max(SDR_WHITE, stated or DEFAULT_PEAK))

    @property
    def cicp(self) -> tuple[int, int, int]:
        """(ColourPrimaries, TransferCharacteristics, MatrixCoefficients) of an HDR rendition."""
        return CICP_PRIMARIES[self.primaries], CICP_TRANSFERS[self.transfer], CICP_MATRICES[self.matrix]

    def hdr(self, codec: str) -> bool:
        """Whether rungs of ``codec`` stay HDR (10-bit, the source's transfer); else they are tone-mapped."""
        return self.keep and codec in HDR_CODECS


def source_colour(video: VideoInfo, options: EncodeOptions) -> Colour | None:
    """The plan's colour of ``video``: None for SDR and untagged sources (encoded as before)."""
    video_range = HDR_TRANSFERS.get(video.color_transfer)
    if video_range is None:
        return None
    return Colour(
        range=video_range,
        transfer=video.color_transfer,
        primaries=video.color_primaries if video.color_primaries in CICP_PRIMARIES else "bt2020",
        matrix=video.color_matrix if video.color_matrix in CICP_MATRICES else "bt2020nc",
        full_range=video.color_range == "pc",
        keep=options.hdr == "keep",
        mastering=_plausible(video.mastering) if video_range == VideoRange.PQ else None,
        max_cll=min(MAX_LIGHT_LEVEL, max(0, video.max_cll)) if video_range == VideoRange.PQ else 0,
        max_fall=min(MAX_LIGHT_LEVEL, max(0, video.max_fall)) if video_range == VideoRange.PQ else 0,
    )


def _plausible(mastering: MasteringDisplay | None) -> MasteringDisplay | None:
    """The source's mastering display as far as it can be true (it is untrusted and goes into encoder
    flags): chromaticities inside the unit square or none, luminance within PQ's range."""
    if mastering is None:
        return None
    points = (mastering.red, mastering.green, mastering.blue, mastering.white)
    valid = all(len(p) == 2 and all(0.0 <= v <= 1.0 for v in p) for p in points)
    peak = min(MAX_PEAK, max(0.0, mastering.max_luminance))
    black = min(peak, max(0.0, mastering.min_luminance))
    if not valid and peak == 0:
        return None
    return MasteringDisplay(*(points if valid else ((), (), (), ())), max_luminance=peak, min_luminance=black)


def rendition_range(colour: Colour | None, codec: str) -> VideoRange:
    """What a rung of ``codec`` is: the source's PQ or HLG where it stays HDR, else SDR."""
    if colour is None or not colour.hdr(codec):
        return VideoRange.SDR
    return VideoRange(colour.range)


def rendition_cicp(colour: Colour | None, codec: str) -> tuple[int, int, int] | None:
    """The CICP code points (primaries, transfer, matrix) of a kept HDR rung of ``codec``; None: SDR."""
    return colour.cicp if colour is not None and colour.hdr(codec) else None
