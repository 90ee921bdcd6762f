"""The ABR ladder: rungs from the source size and the options."""
from __future__ import annotations

import pytest

from chalicelib.model.errors import InvalidOptionsError
from chalicelib.model.ladder import build_ladder, default_maxrate
from chalicelib.model.options import EncodeOptions


def heights(options: EncodeOptions, width: int, height: int, fps: float = 30.0) -> list[str]:
    return [r.id for r in build_ladder(options, width, height, fps)]


def test_auto_ladder_from_1080p_and_never_upscaled() -> None:
    assert heights(EncodeOptions(), 1920, 1080) == ["h264-1080", "h264-720", "h264-540", "h264-360", "h264-240"]
    assert heights(EncodeOptions(), 1280, 720) == ["h264-720", "h264-540", "h264-360", "h264-240"]
    # A source between rungs gets its own size on top; a tiny one a single rung.
    assert heights(EncodeOptions(), 854, 480) == ["h264-480", "h264-360", "h264-240"]
    assert heights(EncodeOptions(), 160, 120) == ["h264-120"]


def test_rungs_keep_the_display_aspect_and_even_sizes() -> None:
    rungs = build_ladder(EncodeOptions(), 1440, 1080, 30.0)  # 4:3
    assert [(r.width, r.height) for r in rungs][:2] == [(1440, 1080), (960, 720)]
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in rungs)
    portrait = build_ladder(EncodeOptions(), 608, 1080, 30.0)
    assert portrait[1].width == 406 and portrait[1].height == 720


def test_capped_crf_scales_with_pixels_fps_and_codec() -> None:
    top, *_, low = build_ladder(EncodeOptions(), 1920, 1080, 30.0)
    assert top.maxrate == 6000 and top.bufsize == 12000 and top.crf == 23
    assert 400 <= low.maxrate <= 800
    assert default_maxrate("h264", 1920, 1080, 60.0) > top.maxrate > default_maxrate("hevc", 1920, 1080, 30.0)
    assert default_maxrate("av1", 1920, 1080, 30.0) < default_maxrate("hevc", 1920, 1080, 30.0)


def test_codecs_add_whole_ladders_h264_first() -> None:
    ids = heights(EncodeOptions(codecs=["av1", "h264", "hevc"]), 1280, 720)
    assert ids[:4] == ["h264-720", "h264-540", "h264-360", "h264-240"]
    assert {i.split("-")[0] for i in ids[4:]} == {"hevc", "av1"} and len(ids) == 12


def test_explicit_ladder_overrides_and_caps_at_the_source() -> None:
    options = EncodeOptions(ladder=[{"height": 2160}, {"height": 720, "crf": 28, "maxrate": 2500},
                                    {"height": 360, "codec": "h264"}])
    rungs = build_ladder(options, 1920, 1080, 30.0)
    assert [r.id for r in rungs] == ["h264-1080", "h264-720", "h264-360"]  # 2160 is the source's 1080
    assert (rungs[1].crf, rungs[1].maxrate, rungs[1].bufsize) == (28, 2500, 5000)


def test_mp4_only_is_one_uncapped_rung_at_the_options_crf() -> None:
    (rung,) = build_ladder(EncodeOptions(outputs=["mp4"], crf=20), 1920, 1080, 30.0)
    assert (rung.id, rung.crf, rung.maxrate) == ("h264-1080", 20, 0)


@pytest.mark.parametrize(("options", "message"), [
    ({"outputs": []}, "outputs must be a non-empty list"),
    ({"outputs": "hls"}, "outputs must be a non-empty list"),
    ({"outputs": ["hls", "webm"]}, "outputs must be one of"),
    ({"codecs": ["hevc"]}, "must include h264"),
    ({"codecs": ["vp9", "h264"]}, "codecs must be one of"),
    ({"segment_seconds": 0.5}, "segment_seconds must be between 1 and 10"),
    ({"segment_seconds": 11}, "segment_seconds must be between 1 and 10"),
    ({"ladder": "best"}, 'ladder must be "auto"'),
    ({"ladder": []}, 'ladder must be "auto"'),
    ({"ladder": [{"height": 720}] * 9}, 'ladder must be "auto"'),
    ({"ladder": [{"width": 720}]}, "must be an object with a height"),
    ({"ladder": [{"height": 720, "bitrate": 1}]}, "unknown rung key"),
    ({"ladder": [{"height": 100}]}, "ladder height must be between 120 and 2160"),
    ({"ladder": [{"height": 720, "codec": "hevc"}]}, "ladder codec must be one of h264"),
    ({"ladder": [{"height": 720, "maxrate": 50}]}, "maxrate"),
    ({"ladder": [{"height": 720}, {"height": 720}]}, "same codec and height twice"),
])
def test_bad_streaming_options_say_what_is_wrong(options: dict, message: str) -> None:
    with pytest.raises(InvalidOptionsError, match=message):
        EncodeOptions.from_dict(options)


def test_options_round_trip_as_json_lists() -> None:
    options = EncodeOptions(outputs=["mp4", "hls"], codecs=["hevc", "h264"], ladder=[{"height": 720}])
    data = options.to_dict()
    assert data["outputs"] == ["hls", "mp4"] and data["codecs"] == ["h264", "hevc"]
    assert data["ladder"] == [{"height": 720, "codec": "h264"}]
    assert EncodeOptions.from_dict(data) == options
