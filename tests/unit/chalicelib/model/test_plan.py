"""Pure planner tests: chunk coverage properties and output geometry."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.model.errors import InvalidMediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import (
    MAX_CHUNKS,
    MAX_DECODE_RATIO,
    Plan,
    chunk_starts,
    decode_start,
    decoded_frames,
    output_size,
    plan_chunks,
    seek_preroll,
)
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
        # The cut: by source timestamp after a pre-roll seek, else the seek itself.
        position = chunk.keep_from - (1.0 + offset) if chunk.keep_from else chunk.seek - offset
        assert times[chunk.start_frame - 1] < position < times[chunk.start_frame]
        assert chunk.seek >= 0 and chunk.keep_from >= 0
        assert chunk.keep_from == 0 or chunk.seek <= chunk.keep_from - 1.0
    assert plan.chunks[0].seek == 0 and plan.chunks[0].keep_from == 0


@given(total=st.integers(1, 100_000), gop=st.integers(1, 300), per_chunk=st.integers(1, 20))
def test_chunk_starts_whole_gops_and_no_tiny_tail(total: int, gop: int, per_chunk: int) -> None:
    starts = chunk_starts(total, gop, per_chunk)
    size = gop * per_chunk
    assert starts[0] == 0 and all(s % size == 0 for s in starts)
    tail = total - starts[-1]
    if len(starts) > 1:
        assert size / 2 <= tail < size * 1.5


MP4 = ("mp4",)  # no streaming ramp: the chunk sizes alone


def test_chunk_sizes_for_regular_video() -> None:
    probe = make_probe(tuple(i / 30 for i in range(900)))  # 30 s at 30 fps
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10, outputs=MP4))
    assert plan.gop_frames == 60
    assert [c.frame_count for c in plan.chunks] == [300, 300, 300]
    assert plan.chunks[1].seek == pytest.approx((299 + 300) / 2 / 30)


def test_a_stream_starts_with_one_segment_then_two() -> None:
    probe = make_probe(tuple(i / 30 for i in range(900)))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10))
    assert [c.frame_count for c in plan.chunks] == [60, 120, 120, 300, 300]
    assert [len(plan.segment_range(c)) for c in plan.chunks] == [1, 2, 2, 5, 5]
    short = plan_chunks(make_probe(tuple(i / 30 for i in range(150))), EncodeOptions(chunk_seconds=10))
    assert [c.frame_count for c in short.chunks] == [60, 90]  # no cut that would leave less than a GOP


def test_the_ramp_spends_no_decode_budget_it_does_not_have() -> None:
    # One keyframe only: a cut at frame c decodes c frames more. The 1-segment cut fits in the
    # budget (60 frames), the 2-segment one (180 more) does not, and nothing else does either.
    probe = _with_keyframes(make_probe(tuple(i / 30 for i in range(900))), (0,))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10))
    assert [c.start_frame for c in plan.chunks] == [0, 60]
    assert _decode_ratio(plan, probe) <= 1.25


def test_tiny_tail_is_merged() -> None:
    probe = make_probe(tuple(i / 30 for i in range(620)))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10, outputs=MP4))
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


def test_audio_that_leads_the_video_starts_the_timeline_and_the_first_frame_is_held() -> None:
    # Video frames 0.5 .. 3.5 s (an edit list delaying it), audio 0 .. 3 s: no audio is cut.
    probe = make_probe(tuple(i / 30 for i in range(90)), first_pts=0.5, audio=True)
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=1, segment_seconds=1))
    assert plan.audio_duration == pytest.approx(3.0)
    assert plan.lead == pytest.approx(0.5)
    assert plan.video_duration == pytest.approx(3.5)
    assert plan.total_frames == 90  # the first frame lasts 0.5 s longer; none is added
    first, second = plan.chunks[:2]
    assert (first.start, first.duration) == (0.0, pytest.approx(1.5))
    assert second.start == pytest.approx(1.5)  # its own time (1 s after the first frame) + the lead
    assert second.seek == pytest.approx(0.5 + 1.0 - 1 / 60)  # seeks stay on the source's timeline
    assert plan.segment_times[:2] == (0.0, pytest.approx(1.5))
    assert plan_chunks(make_probe((0.0, 0.1)), EncodeOptions()).audio_duration is None


def test_audio_that_starts_after_the_video_is_measured_from_the_first_frame() -> None:
    probe = make_probe(tuple(i / 30 for i in range(90)), audio=True)
    assert probe.audio is not None
    late = replace(probe, audio=replace(probe.audio, start=0.25, duration=2.75))
    plan = plan_chunks(late, EncodeOptions())
    assert (plan.lead, plan.video_duration) == (0.0, pytest.approx(3.0))
    assert plan.audio_duration == pytest.approx(3.0)  # silence pads its first 0.25 s


def _decode_ratio(plan: Plan, probe: ProbeResult) -> float:
    video = probe.video
    assert video is not None
    preroll = seek_preroll(probe)
    starts = [c.start_frame for c in plan.chunks]
    spent = decoded_frames(starts, plan.total_frames,
                           lambda s: s - decode_start(s, video.frame_times, video.keyframes, preroll))
    return spent / plan.total_frames


def _with_keyframes(probe: ProbeResult, keyframes: tuple[int, ...]) -> ProbeResult:
    assert probe.video is not None
    return replace(probe, video=replace(probe.video, keyframes=keyframes))


def _assert_covering(plan: Plan) -> None:
    assert plan.chunks[0].start_frame == 0
    for a, b in zip(plan.chunks, plan.chunks[1:]):
        assert a.start_frame + a.frame_count == b.start_frame and b.start_frame % plan.gop_frames == 0
    assert sum(c.frame_count for c in plan.chunks) == plan.total_frames


@pytest.mark.parametrize("fmt", ["mov,mp4,m4a,3gp,3g2,mj2", "mpegts"])
def test_a_single_keyframe_source_is_not_decoded_once_per_chunk(fmt: str) -> None:
    """5 minutes with one keyframe in 2 s chunks: every chunk would decode from frame 0."""
    probe = _with_keyframes(make_probe(tuple(i / 30 for i in range(9000)), format_name=fmt), (0,))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=2))
    _assert_covering(plan)
    assert _decode_ratio(plan, probe) <= MAX_DECODE_RATIO
    # Only boundaries near the start are cheap enough to keep; the rest is one chunk.
    assert max(c.frame_count for c in plan.chunks) >= 0.9 * plan.total_frames


def test_sparse_keyframes_keep_chunks_next_to_them() -> None:
    """Keyframes every 10 s, 2 s chunks asked for: boundaries move next to keyframes, the work stays
    bounded and the job still runs in parallel."""
    probe = _with_keyframes(make_probe(tuple(i / 30 for i in range(9000))), tuple(range(0, 9000, 300)))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=2))
    _assert_covering(plan)
    assert _decode_ratio(plan, probe) <= MAX_DECODE_RATIO
    assert len(plan.chunks) >= 25


def test_aligned_keyframes_leave_a_normal_plan_alone() -> None:
    probe = _with_keyframes(make_probe(tuple(i / 30 for i in range(1800))), tuple(range(0, 1800, 60)))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=10, outputs=MP4))
    assert [c.start_frame for c in plan.chunks] == [0, 300, 600, 900, 1200, 1500]
    assert _decode_ratio(plan, probe) <= 1.21


def test_chunk_count_is_capped() -> None:
    probe = make_probe(tuple(i / 30 for i in range(30 * 3600 * 4)))  # 4 hours at 30 fps
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=1))
    assert len(plan.chunks) <= MAX_CHUNKS
    _assert_covering(plan)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=30, max_value=3000), chunk_seconds=st.floats(min_value=1.0, max_value=20.0),
       keyframes=st.sets(st.integers(min_value=1, max_value=2999), max_size=60),
       fmt=st.sampled_from(["mov,mp4,m4a,3gp,3g2,mj2", "mpegts"]))
def test_decode_work_is_bounded_for_any_gop_structure(n: int, chunk_seconds: float, keyframes: set[int],
                                                      fmt: str) -> None:
    kf = tuple(sorted({0, *(k for k in keyframes if k < n)}))
    probe = _with_keyframes(make_probe(tuple(i / 30 for i in range(n)), format_name=fmt), kf)
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=chunk_seconds))
    _assert_covering(plan)
    assert _decode_ratio(plan, probe) <= MAX_DECODE_RATIO


def test_over_budget_cuts_are_dropped_evenly_and_the_first_chunks_stay_short() -> None:
    # Every cut costs the same GOP of decoding: the budget keeps some, spread over the video.
    probe = _with_keyframes(make_probe(tuple(i / 30 for i in range(1800))), tuple(range(0, 1800, 60)))
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=2))
    sizes = [c.frame_count for c in plan.chunks]
    assert sizes[0] == 60 and _decode_ratio(plan, probe) <= 1.25
    assert max(sizes) <= 4 * 60 * 2, sizes  # merged two or four at a time, not into one long chunk
