"""HDR classification, the plan's colour, and the ``hdr`` option (pure)."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from chalicelib.model.colour import (
    DEFAULT_PEAK,
    Colour,
    VideoRange,
    rendition_cicp,
    rendition_range,
    source_colour,
)
from chalicelib.model.errors import InvalidOptionsError
from chalicelib.model.facts import MasteringDisplay, ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from tests.support.probes import make_probe

# HDR10's usual grading display: P3-D65 primaries, 1000 cd/m² peak.
P3_1000 = MasteringDisplay(red=(0.68, 0.32), green=(0.265, 0.69), blue=(0.15, 0.06), white=(0.3127, 0.329),
                           max_luminance=1000.0, min_luminance=0.0001)
KEEP = EncodeOptions(codecs=("h264", "hevc", "av1"), hdr="keep")


def tagged(transfer: str, **video: Any) -> ProbeResult:
    probe = make_probe(tuple(i / 30 for i in range(120)))
    assert probe.video is not None
    defaults: dict[str, Any] = {"color_transfer": transfer, "color_primaries": "bt2020",
                                   "color_matrix": "bt2020nc", "color_range": "tv", "pix_fmt": "yuv420p10le",
                                   "bit_depth": 10}
    return dataclasses.replace(probe, video=dataclasses.replace(probe.video, **{**defaults, **video}))


@pytest.mark.parametrize(("transfer", "expected"), [
    ("smpte2084", VideoRange.PQ), ("arib-std-b67", VideoRange.HLG),
    ("bt709", None), ("", None), ("bt2020-10", None), ("smpte170m", None),
])
def test_only_pq_and_hlg_are_hdr(transfer: str, expected: VideoRange | None) -> None:
    probe = tagged(transfer)
    assert probe.video is not None
    colour = source_colour(probe.video, EncodeOptions())
    assert (colour.range if colour else None) == expected


def test_an_sdr_plan_has_no_colour_and_every_rung_is_sdr() -> None:
    plan = plan_chunks(make_probe(tuple(i / 30 for i in range(120))), KEEP)
    assert plan.colour is None
    assert {rendition_range(plan.colour, r.codec) for r in plan.rungs} == {VideoRange.SDR}


def test_pq_metadata_reaches_the_plan_and_survives_the_job_record() -> None:
    plan = plan_chunks(tagged("smpte2084", mastering=P3_1000, max_cll=1000, max_fall=400), KEEP)
    assert plan.colour == Colour(range="PQ", transfer="smpte2084", primaries="bt2020", matrix="bt2020nc",
                                 full_range=False, keep=True, mastering=P3_1000, max_cll=1000, max_fall=400)
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    ranges = {r.codec: rendition_range(plan.colour, r.codec) for r in plan.rungs}
    assert ranges == {"h264": VideoRange.SDR, "hevc": VideoRange.PQ, "av1": VideoRange.PQ}
    assert rendition_cicp(plan.colour, "hevc") == (9, 16, 9) and rendition_cicp(plan.colour, "h264") is None


def test_tonemap_makes_every_rung_sdr() -> None:
    plan = plan_chunks(tagged("arib-std-b67"), EncodeOptions(codecs=("h264", "hevc")))
    assert plan.colour is not None and not plan.colour.keep
    assert {rendition_range(plan.colour, r.codec) for r in plan.rungs} == {VideoRange.SDR}


def test_hlg_keeps_no_hdr10_metadata_and_untagged_parts_default_to_bt2020() -> None:
    probe = tagged("arib-std-b67", mastering=P3_1000, max_cll=1000, color_primaries="", color_matrix="")
    assert probe.video is not None
    colour = source_colour(probe.video, KEEP)
    assert colour is not None and colour.mastering is None and colour.max_cll == 0
    assert (colour.primaries, colour.matrix, colour.cicp) == ("bt2020", "bt2020nc", (9, 18, 9))
    assert rendition_cicp(colour, "av1") == (9, 18, 9)


@pytest.mark.parametrize(("max_cll", "mastering", "peak"), [
    (4000, P3_1000, 4000.0),  # the brightest pixel first
    (0, P3_1000, 1000.0),  # else the grading display's peak
    (0, None, DEFAULT_PEAK),
    (20, None, 100.0),  # never below SDR white
    (60_000, None, 10_000.0),  # nor above PQ's ceiling
])
def test_peak(max_cll: int, mastering: MasteringDisplay | None, peak: float) -> None:
    probe = tagged("smpte2084", max_cll=max_cll, mastering=mastering)
    assert probe.video is not None
    colour = source_colour(probe.video, EncodeOptions())
    assert colour is not None and colour.peak == peak


def test_implausible_metadata_is_dropped_or_bounded() -> None:
    wild = MasteringDisplay(red=(3.0, -1.0), green=(0.265, 0.69), blue=(0.15, 0.06), white=(0.3127, 0.329),
                            max_luminance=1e9, min_luminance=-5.0)
    probe = tagged("smpte2084", mastering=wild, max_cll=4_000_000_000, max_fall=-3)
    assert probe.video is not None
    colour = source_colour(probe.video, KEEP)
    assert colour is not None and colour.mastering is not None
    assert colour.mastering.red == () and colour.mastering.white == ()  # no primaries rather than wrong ones
    assert (colour.mastering.max_luminance, colour.mastering.min_luminance) == (10_000.0, 0.0)
    assert (colour.max_cll, colour.max_fall) == (65_535, 0)
    nothing = MasteringDisplay(red=(2.0, 2.0))
    probe = tagged("smpte2084", mastering=nothing)
    assert probe.video is not None
    assert source_colour(probe.video, KEEP).mastering is None  # type: ignore[union-attr]


@pytest.mark.parametrize("data", [
    {"hdr": "keep", "codecs": ["h264", "hevc"]},
    {"hdr": "keep", "codecs": ["h264", "av1"], "outputs": ["dash"]},
    {"hdr": "keep", "codecs": ["h264", "hevc"], "ladder": [{"height": 720}, {"height": 720, "codec": "hevc"}]},
    {"hdr": "tonemap"},
    {"hdr": "tonemap", "outputs": ["mp4"]},
])
def test_hdr_option_accepted(data: dict[str, object]) -> None:
    assert EncodeOptions.from_dict(data).hdr == data["hdr"]


@pytest.mark.parametrize(("data", "message"), [
    ({"hdr": "hdr10"}, "hdr must be one of tonemap, keep"),
    ({"hdr": True}, "hdr must be one of"),
    ({"hdr": "keep"}, 'hdr "keep" needs an HEVC or AV1 rendition'),
    ({"hdr": "keep", "codecs": ["h264", "hevc"], "outputs": ["mp4"]}, 'hdr "keep" needs'),  # the MP4 is H.264
    ({"hdr": "keep", "codecs": ["h264", "hevc"], "ladder": [{"height": 720}]}, 'hdr "keep" needs'),
])
def test_hdr_option_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOptionsError, match=message):
        EncodeOptions.from_dict(data)


def test_default_is_tonemap() -> None:
    assert EncodeOptions().hdr == "tonemap" and EncodeOptions.from_dict({}).to_dict()["hdr"] == "tonemap"
