"""Pure planner tests: chunk coverage properties and output geometry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.model.errors import InvalidMediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, chunk_starts, output_size, plan_chunks, seek_preroll
from tests.support.probes import make_probe

frame_gaps = st.lists(st.floats(min_value=0.001, max_value=0.2), min_size=1, max_size=400)


def times_from_gaps(gaps: list[float]) -> tuple[float, ...]:
    times = [0.0]
    for gap in gaps[:-1]:
        times.append(times[-1] + gap)
    return tuple(times)


@settings(max_examples=200, deadline=None)
@given(gaps=frame_gaps, chunk_seconds=st.floats(min_value=1.0, max_value=30.0))
def test_chunks_cover_every_frame_once_in_order(gaps: list[float], chunk_seconds: float) -> None:
    probe = make_probe(times_from_gaps(gaps), last_frame=gaps[-1])
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=chunk_seconds))
    covered = [f for c in plan.chunks for f in range(c.start_frame, c.start_frame + c.frame_count)]
    assert covered == list(range(probe.video.frame_count))
    assert [c.index for c in plan.chunks] == list(range(len(plan.chunks)))
    assert sum(c.duration for c in plan.chunks) == pytest.approx(probe.video.duration, abs=1e-9)
    assert all(c.duration > 0 for c in plan.chunks)
    # Every chunk but the last is a whole number of GOPs.
    assert all(c.frame_count % plan.gop_frames == 0 for c in plan.chunks[:-1])


@settings(max_examples=200, deadline=None)
@given(gaps=frame_gaps, offset=st.floats(min_value=0, max_value=5), preroll_format=st.booleans())
def test_seek_lands_between_previous_and_start_frame(gaps: list[float], offset: float, preroll_format: bool) -> None:
    times = times_from_gaps(gaps)
    probe = make_probe(
        times, format_name="mpegts" if preroll_format else "avi", start_time=1.0, first_pts=1.0 + offset
    )
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=1.0))
    for chunk in plan.chunks[1:]:
        position = chunk.seek + chunk.trim - offset  # relative to the first frame
        assert times[chunk.start_frame - 1] < position < times[chunk.start_frame]
        assert chunk.seek >= 0 and chunk.trim >= 0
    assert plan.chunks[0].seek == 0 and plan.chunks[0].trim == 0


@given(total=st.integers(1, 100_000), gop=st.integers(1, 300), per_chunk=st.integers(1, 20))
def test_chunk_starts_whole_gops_and_no_tiny_tail(total: int, gop: int, per_chunk: int) -> None:
    starts = chunk_starts(total, gop, per_chunk)
    size = gop * per_chunk
    assert starts[0] == 0 and all(s % size == 0 for s in starts)
    tail = total - starts[-1]
    if len(starts) > 1:
        assert size / 2 <= tail < size * 1.5


def test_chunk_sizes_for_regular_video() -> None:
    probe = make_probe(tuple(i / 30 for i in range(900)))  # 30 s at 30 fps
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10))
    assert plan.gop_frames == 60
    assert [c.frame_count for c in plan.chunks] == [300, 300, 300]
    assert plan.chunks[1].seek == pytest.approx((299 + 300) / 2 / 30)


def test_tiny_tail_is_merged() -> None:
    probe = make_probe(tuple(i / 30 for i in range(620)))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10))
    assert [c.frame_count for c in plan.chunks] == [300, 320]


def test_preroll_only_for_bisecting_demuxers() -> None:
    times = tuple(i / 30 for i in range(300))
    assert seek_preroll(make_probe(times)) == 0
    assert seek_preroll(make_probe(times, format_name="matroska,webm")) == 0
    assert seek_preroll(make_probe(times, format_name="mpegts")) >= 3.0


def test_plan_round_trips_through_json_dict() -> None:
    import json

    plan = plan_chunks(make_probe(tuple(i / 25 for i in range(100)), audio=True), EncodeOptions(chunk_seconds=1))
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert plan.has_audio


def test_probe_round_trips_and_summary_has_no_frame_times() -> None:
    import json

    probe = make_probe((0.0, 0.5, 1.0), audio=True)
    assert ProbeResult.from_dict(json.loads(json.dumps(probe.to_dict()))) == probe
    assert "frame_times" not in probe.summary()["video"]


def test_plan_requires_video() -> None:
    probe = make_probe((0.0,))
    with pytest.raises(InvalidMediaError, match="no video stream"):
        plan_chunks(ProbeResult(probe.format_name, 1, 1.0, 0.0, None, probe.audio), EncodeOptions())


@pytest.mark.parametrize(
    ("display", "box", "expected"),
    [
        ((1920, 1080), (1920, 1080), (1920, 1080)),
        ((3840, 2160), (1920, 1080), (1920, 1080)),
        ((1280, 720), (1920, 1080), (1280, 720)),  # never upscale
        ((1080, 1920), (1920, 1080), (608, 1080)),  # portrait (rotated phone video)
        ((1138, 640), (1920, 1080), (1138, 640)),  # 800x640 with SAR 64:45
        ((641, 361), (1920, 1080), (640, 360)),  # odd sizes become even (never larger)
        ((1920, 800), (426, 240), (426, 178)),
        ((2, 2000), (1920, 1080), (2, 1080)),
    ],
)
def test_output_size(display: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]) -> None:
    assert output_size(*display, *box) == expected


@given(w=st.integers(1, 8000), h=st.integers(1, 8000), max_height=st.integers(64, 2160))
def test_output_size_fits_box_even_and_keeps_aspect(w: int, h: int, max_height: int) -> None:
    options = EncodeOptions(max_height=max_height)
    out_w, out_h = output_size(w, h, options.max_width, options.max_height)
    assert out_w % 2 == 0 and out_h % 2 == 0
    assert out_w <= max(2, options.max_width) and out_h <= max(2, options.max_height)
    assert out_w <= w + 1 and out_h <= h + 1
    if min(out_w, out_h) >= 100:
        assert out_w / out_h == pytest.approx(w / h, rel=0.03)


def test_rotation_swaps_plan_size() -> None:
    probe = make_probe(tuple(i / 30 for i in range(30)))
    rotated = probe.video.__class__(**{**probe.video.to_dict(), "display_width": 1080, "display_height": 1920})
    plan = plan_chunks(ProbeResult(probe.format_name, 1, 1.0, 0.0, rotated, None), EncodeOptions(max_height=720))
    assert (plan.width, plan.height) == (404, 720)


def test_audio_duration_is_measured_from_first_video_frame() -> None:
    probe = make_probe(tuple(i / 30 for i in range(90)), first_pts=0.5, audio=True)  # audio 0 .. 3 s
    assert plan_chunks(probe, EncodeOptions()).audio_duration == pytest.approx(3.0 - 0.5)
    assert plan_chunks(make_probe((0.0, 0.1)), EncodeOptions()).audio_duration is None
