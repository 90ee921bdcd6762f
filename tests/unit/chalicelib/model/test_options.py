"""EncodeOptions validation."""

from __future__ import annotations

import pytest

from chalicelib.model.errors import InvalidOptionsError
from chalicelib.model.options import EncodeOptions


def test_defaults() -> None:
    options = EncodeOptions.from_dict({})
    assert options == EncodeOptions()
    assert (options.preset, options.crf, options.x264_preset, options.max_height) == ("web", 23, "veryfast", 1080)
    assert options.max_width == 1920 and options.gop_seconds == 2.0
    assert EncodeOptions.from_dict(None) == options
    assert EncodeOptions.from_dict(options.to_dict()) == options


def test_small_chunks_shrink_gop() -> None:
    assert EncodeOptions(chunk_seconds=1).gop_seconds == 1
    assert EncodeOptions(max_height=720).max_width == 1280


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"crf": 52}, "crf must be between 0 and 51"),
        ({"crf": -1}, "crf must be between"),
        ({"crf": 23.5}, "crf must be an integer"),
        ({"crf": True}, "crf must be an integer"),
        ({"crf": "23"}, "crf must be an integer"),
        ({"preset": "archive"}, "preset must be one of web"),
        ({"x264_preset": "placebo"}, "x264_preset must be one of"),
        ({"max_height": 10}, "max_height must be between 64 and 2160"),
        ({"max_height": 4320}, "max_height must be between"),
        ({"chunk_seconds": 0.5}, "chunk_seconds must be between 1 and 600"),
        ({"chunk_seconds": float("nan")}, "chunk_seconds must be a number"),
        ({"chunk_seconds": "10"}, "chunk_seconds must be a number"),
        ({"bitrate": "5M"}, "unknown option(s): bitrate"),
    ],
)
def test_invalid_options(data: dict, message: str) -> None:
    with pytest.raises(InvalidOptionsError) as info:
        EncodeOptions.from_dict(data)
    assert message in str(info.value)


def test_not_a_dict() -> None:
    with pytest.raises(InvalidOptionsError, match="JSON object"):
        EncodeOptions.from_dict(["crf", 23])


def test_loudness_is_off_or_a_target_in_lufs() -> None:
    assert EncodeOptions().loudness == "off" and EncodeOptions().loudness_target is None
    assert EncodeOptions().to_dict()["loudness"] == "off"
    for value in (-16, -23, -24, -14, -36, -10, -16.5):
        options = EncodeOptions.from_dict({"loudness": value})
        assert options.loudness_target == float(value)
        assert EncodeOptions.from_dict(options.to_dict()) == options
        assert options.to_dict()["loudness"] == value  # as sent: a JSON number stays one


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-9, "loudness must be between -36 and -10"),
        (-37, "loudness must be between -36 and -10"),
        (0, "loudness must be between"),
        ("-16", 'loudness must be "off" or a number'),  # a number, not a string of one
        ("on", 'loudness must be "off" or a number'),
        ("OFF", 'loudness must be "off" or a number'),
        (None, 'loudness must be "off" or a number'),
        (True, 'loudness must be "off" or a number'),
        (float("nan"), 'loudness must be "off" or a number'),
        (float("-inf"), "loudness must be between"),
    ],
)
def test_invalid_loudness(value: object, message: str) -> None:
    with pytest.raises(InvalidOptionsError) as info:
        EncodeOptions.from_dict({"loudness": value})
    assert message in str(info.value)
