"""ffmpeg filters and encoder flags of an HDR source's rungs (pure): tone-mapped SDR (BT.709) or
kept HDR (10-bit PQ/HLG with its metadata). An SDR source (no ``Colour``) gets none of them.

No libplacebo: it needs a Vulkan device, and the workers have no GPU. zscale scales, linearises
(the source's white at ``SDR_WHITE``) and converts the primaries to BT.709 in linear light;
``tonemap`` compresses the highlights (Möbius: linear below a knee, so SDR-range colours, skin and
diffuse white keep their values; no desaturation, and Hable would darken all of them); zscale
encodes BT.709 limited range.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from chalicelib.model.colour import SDR_WHITE, Colour, VideoRange
from chalicelib.model.facts import MasteringDisplay
from chalicelib.model.ladder import Rung

TONEMAP = "mobius"
HDR_PIX_FMT = "yuv420p10le"
SDR_PIX_FMT = "yuv420p"
# Frame side data ffmpeg would hand from a chunk's first frame to its encoders and to the MP4 (mdcv,
# clli boxes): a tone-mapped rung would claim HDR10, and a chunk starting on a frame without the
# SEI would write another init segment. The kept rungs get the plan's metadata instead, the same
# in every chunk; no rung carries a Dolby Vision RPU.
STRIPPED_SIDE_DATA = ("MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL", "DYNAMIC_HDR_PLUS", "DOVI_METADATA",
                      "DOVI_RPU_BUFFER")
# x265's and SVT-AV1's units of the mastering display: x265 chromaticity in 0.00002, luminance
# in 0.0001 cd/m²; SVT-AV1 takes decimals.
X265_CHROMA, X265_LUMA = 50_000, 10_000


def strip_side_data() -> str:
    """Filters deleting the frame side data of ``STRIPPED_SIDE_DATA``."""
    return ",".join(f"sidedata=mode=delete:type={kind}" for kind in STRIPPED_SIDE_DATA)


def tonemap_filter(colour: Colour, width: int, height: int) -> str:
    """HDR → SDR: scale (bicubic, in linear light) and tone-map to 8-bit 4:2:0 BT.709 limited range."""
    source = (f"tin={colour.transfer}:pin={colour.primaries}:min={colour.matrix}:"
              f"rin={'pc' if colour.full_range else 'tv'}")
    return ",".join([
        # Linear light in BT.709 primaries (tagged BT.709 too: tonemap takes its luma weights
        # from the matrix tag), SDR white at 1.0.
        f"zscale=w={width}:h={height}:filter=bicubic:{source}:t=linear:p=bt709:m=bt709:r=tv:npl={SDR_WHITE:g}",
        "format=gbrpf32le",
        f"tonemap=tonemap={TONEMAP}:desat=0:peak={colour.peak / SDR_WHITE:g}",
        "zscale=t=bt709:m=bt709:r=tv",
        f"format={SDR_PIX_FMT}",
    ])


def hdr_filter(width: int, height: int) -> str:
    """A kept HDR rung: its size (bicubic, limited range), square pixels, 10-bit 4:2:0, the
    source's colour untouched."""
    return ",".join([f"scale={width}:{height}:flags=bicubic:out_range=tv", "setsar=1", f"format={HDR_PIX_FMT}"])


def ladder_graph(colour: Colour, rungs: Sequence[Rung], top: tuple[int, int], sdr_filter: Callable[[Rung], str],
                 images: str = "") -> str:
    """An HDR source's branches, continuing the decoded chunk's chain: rung ``i`` ends in ``[v{i}]``.

    Tone mapping (float, per pixel) costs far more than scaling, so it runs once, at ``top`` (the
    top rung's size: no rung is larger), and every SDR rung [and the ``images`` label: posters and
    storyboards] is cut from that picture as an SDR source's would be (``sdr_filter``). Kept HDR
    rungs branch off before it.
    """
    kept = [i for i, rung in enumerate(rungs) if colour.hdr(rung.codec)]
    mapped = [i for i, rung in enumerate(rungs) if not colour.hdr(rung.codec)]
    targets = [f"[t{i}]" for i in mapped] + ([f"[{images}]"] if images else [])
    first = [f"[h{i}]" for i in kept] + (["[sdr]"] if targets else [])
    chains = [f"{strip_side_data()},split={len(first)}{''.join(first)}"]
    if targets:
        chains.append(f"[sdr]{tonemap_filter(colour, *top)},split={len(targets)}{''.join(targets)}")
    chains += [f"[t{i}]{sdr_filter(rungs[i])}[v{i}]" for i in mapped]
    chains += [f"[h{i}]{hdr_filter(rungs[i].width, rungs[i].height)}[v{i}]" for i in kept]
    return ";".join(chains)


def pix_fmt(colour: Colour | None, codec: str) -> str:
    """The encoder's pixel format: 10-bit for a kept HDR rung, else 8-bit."""
    return HDR_PIX_FMT if colour is not None and colour.hdr(codec) else SDR_PIX_FMT


def colour_tags(colour: Colour | None, codec: str) -> list[str]:
    """Encoder colour tags (the bitstream's VUI / sequence header, the MP4's ``colr``): BT.709 for
    a tone-mapped rung, the source's for a kept one; none for an SDR source (as before)."""
    if colour is None:
        return []
    if colour.hdr(codec):
        primaries, transfer, matrix = colour.primaries, colour.transfer, colour.matrix
    else:
        primaries = transfer = matrix = "bt709"
    return ["-color_primaries", primaries, "-color_trc", transfer, "-colorspace", matrix, "-color_range", "tv"]


def encoder_args(colour: Colour | None, codec: str) -> list[str]:
    """Colour tags, and for an HDR source's HEVC/AV1 rungs no Dolby Vision RPU of their own."""
    no_rpu = ["-dolbyvision", "0"] if colour is not None and codec in ("hevc", "av1") else []
    return [*colour_tags(colour, codec), *no_rpu]


def x265_master_display(mastering: MasteringDisplay) -> str:
    """x265's ``master-display``: G(x,y)B(x,y)R(x,y)WP(x,y)L(max,min), in its integer units."""
    def xy(point: tuple[float, ...]) -> str:
        return f"({round(point[0] * X265_CHROMA)},{round(point[1] * X265_CHROMA)})"

    return (f"G{xy(mastering.green)}B{xy(mastering.blue)}R{xy(mastering.red)}WP{xy(mastering.white)}"
            f"L({round(mastering.max_luminance * X265_LUMA)},{round(mastering.min_luminance * X265_LUMA)})")


def svt_master_display(mastering: MasteringDisplay) -> str:
    """SVT-AV1's ``mastering-display``: the same order, in decimals (cd/m² for luminance)."""
    def xy(point: tuple[float, ...]) -> str:
        return f"({point[0]:.5f},{point[1]:.5f})"

    return (f"G{xy(mastering.green)}B{xy(mastering.blue)}R{xy(mastering.red)}WP{xy(mastering.white)}"
            f"L({mastering.max_luminance:.4f},{mastering.min_luminance:.4f})")


def _complete(mastering: MasteringDisplay | None) -> MasteringDisplay | None:
    """The mastering display, if it has every primary and its peak (what an encoder can write)."""
    if mastering is None or not (mastering.red and mastering.green and mastering.blue and mastering.white):
        return None
    return mastering if mastering.max_luminance > 0 else None


def x265_params(colour: Colour | None, codec: str = "hevc") -> list[str]:
    """``-x265-params`` entries of a kept PQ rung: HDR10 signalling and its static metadata."""
    if colour is None or not colour.hdr(codec) or colour.range != VideoRange.PQ:
        return []
    mastering = _complete(colour.mastering)
    light = [f"max-cll={colour.max_cll},{colour.max_fall}"] if colour.max_cll or colour.max_fall else []
    return ["hdr10=1", "hdr10-opt=1", *([f"master-display={x265_master_display(mastering)}"] if mastering else []),
            *light]


def svtav1_params(colour: Colour | None, codec: str = "av1") -> list[str]:
    """``-svtav1-params`` entries of a kept PQ rung: its static metadata (metadata OBUs)."""
    if colour is None or not colour.hdr(codec) or colour.range != VideoRange.PQ:
        return []
    mastering = _complete(colour.mastering)
    light = [f"content-light={colour.max_cll},{colour.max_fall}"] if colour.max_cll or colour.max_fall else []
    return [*([f"mastering-display={svt_master_display(mastering)}"] if mastering else []), *light]


def x265_profile(colour: Colour | None, codec: str = "hevc") -> list[str]:
    """Main10 for a kept HDR HEVC rung (x265 would infer it from the pixel format; said anyway)."""
    return ["-profile:v", "main10"] if colour is not None and colour.hdr(codec) else []
