"""The adaptive-bitrate ladder: which renditions (rungs) a job encodes, from the source and options."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.model.facts import Record
from chalicelib.model.options import EncodeOptions

AUTO_HEIGHTS = (1080, 720, 540, 360, 240)
# Capped CRF per codec: each codec's own CRF scale at a similar quality to x264's 23.
DEFAULT_CRF = {"h264": 23, "hevc": 26, "av1": 34}
# Peak (-maxrate) at 1080p30 per codec, kb/s: the top of Apple's HLS authoring ladder for H.264,
# about 30 % (HEVC) and 40 % (AV1) less for the same picture.
PEAK_1080P30 = {"h264": 6000, "hevc": 4200, "av1": 3600}
BUFFER_SECONDS = 2.0  # -bufsize = this × -maxrate: bounds each 2 s segment's peak


@dataclass(frozen=True)
class Rung(Record):
    """One video rendition: codec, size and rate control."""

    id: str  # folder name and DASH Representation id: "h264-720"
    codec: str
    width: int
    height: int
    crf: int
    maxrate: int  # kb/s; 0 = uncapped (the plain MP4 of an mp4-only job, as before streaming)
    bufsize: int  # kb/s


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def default_maxrate(codec: str, width: int, height: int, fps: float) -> int:
    """A peak that scales with pixels^0.75 and gently with frame rate (kb/s)."""
    pixels = width * height / (1920 * 1080)
    motion = max(1.0, fps / 30) ** 0.5
    return max(200, int(round(PEAK_1080P30[codec] * pixels**0.75 * motion / 50) * 50))


def rung(codec: str, width: int, height: int, fps: float, spec: dict[str, Any] | None = None,
         capped: bool = True) -> Rung:
    """A rung of ``codec`` at ``width``x``height`` with ``spec``'s overrides (crf, maxrate)."""
    spec = spec or {}
    maxrate = int(spec.get("maxrate") or (default_maxrate(codec, width, height, fps) if capped else 0))
    return Rung(id=f"{codec}-{height}", codec=codec, width=width, height=height,
                crf=int(spec.get("crf", DEFAULT_CRF[codec])), maxrate=maxrate,
                bufsize=int(maxrate * BUFFER_SECONDS))


def build_ladder(options: EncodeOptions, top_width: int, top_height: int, fps: float) -> tuple[Rung, ...]:
    """The rungs to encode, top H.264 rung first (the MP4 is remuxed from it).

    ``top_width`` x ``top_height`` is the source's display size fitted in the options' box. Rungs
    are never taller than it; ``auto`` takes 1080/720/540/360/240 up to it, and the source's own
    size when it is smaller than 1080 and not one of them. An mp4-only job encodes just the top
    H.264 rung at the options' CRF, uncapped, as framefleet did before it streamed.
    """
    aspect = top_width / top_height

    def size(height: int) -> tuple[int, int]:
        return (top_width, top_height) if height >= top_height else (_even(height * aspect), height)

    if not options.streaming:
        return (rung("h264", top_width, top_height, fps, {"crf": options.crf}, capped=False),)
    if options.ladder == "auto":
        heights = [h for h in AUTO_HEIGHTS if h < top_height]
        heights.insert(0, top_height)
        specs: list[dict[str, Any]] = [{"height": h, "codec": c} for c in options.codecs for h in heights]
    else:
        assert isinstance(options.ladder, tuple)
        specs = [dict(r) for r in options.ladder]
        if not any(r["codec"] == "h264" for r in specs):
            specs.insert(0, {"height": top_height, "codec": "h264"})
    rungs: dict[str, Rung] = {}
    for spec in specs:
        width, height = size(min(int(spec["height"]), top_height))
        if spec["codec"] == "h264" and "crf" not in spec and height == top_height:
            spec = {**spec, "crf": options.crf}
        made = rung(spec["codec"], width, height, fps, spec)
        rungs.setdefault(made.id, made)  # two rungs above the source collapse into one
    ordered = sorted(rungs.values(), key=lambda r: (r.codec != "h264", -r.height, r.codec))
    return tuple(ordered)


def pixel_seconds(rungs: tuple[Rung, ...], seconds: float) -> float:
    """What encoding ``rungs`` for ``seconds`` costs against the daily quota: pixels × seconds."""
    return float(sum(r.width * r.height for r in rungs) * seconds)
