"""Audio parts: where the audio splits, what each part's encoder is given and which files it keeps."""
from __future__ import annotations

import math

import pytest

from chalicelib.model.audioparts import (
    AAC_FRAME,
    AUDIO_RATE,
    END_MARGIN,
    POSTROLL_FRAMES,
    PREROLL_FRAMES,
    audio_parts,
    frame_cut,
    split_segments,
)
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.probes import make_probe

TWO_SECONDS = [2.0 * i for i in range(300)]  # 10 min of 2 s segments


def test_a_long_audio_splits_about_every_part_length_on_segment_boundaries() -> None:
    splits = split_segments(TWO_SECONDS, 600.0, 60.0)
    assert splits == tuple(range(30, 300, 30))


def test_no_split_near_the_end_and_no_short_last_part() -> None:
    # 100 s: a split at 60 s would leave a 40 s last part (≥ half a part): kept; at 95 s: none.
    assert split_segments(TWO_SECONDS[:50], 100.0, 60.0) == (30,)
    assert split_segments(TWO_SECONDS[:45], 89.0, 60.0) == ()
    assert split_segments(TWO_SECONDS, 600.0, 0) == ()
    for end in (61.0, 100.0, 239.0):
        splits = split_segments(TWO_SECONDS, end, 60.0)
        assert all(TWO_SECONDS[n] <= end - max(END_MARGIN, 30.0) for n in splits)


def test_frame_cut_is_the_first_aac_frame_at_or_after_the_boundary() -> None:
    for boundary in (0.0, 2.0, 2.002, 10.0, 1001 / 30000 * 60, 59.94):
        cut = frame_cut(boundary)
        assert cut % AAC_FRAME == 0 and cut >= boundary * AUDIO_RATE - 1e-6 > cut - AAC_FRAME
    assert frame_cut(2.0) == math.ceil(2.0 * AUDIO_RATE / AAC_FRAME) * AAC_FRAME


def test_parts_meet_end_to_end_with_a_pre_roll_and_a_post_roll() -> None:
    parts = audio_parts(TWO_SECONDS, (30, 60))
    assert [(p.first_segment, p.end_segment) for p in parts] == [(0, 30), (30, 60), (60, None)]
    assert parts[0].start == 0 and parts[0].input_start == 0
    for before, after in zip(parts, parts[1:]):
        assert before.end == after.start == frame_cut(TWO_SECONDS[after.first_segment])
        assert after.input_start == after.start - AAC_FRAME - PREROLL_FRAMES * AAC_FRAME
        assert before.input_end == before.end + POSTROLL_FRAMES * AAC_FRAME
    assert parts[-1].end is None and parts[-1].input_end is None and parts[-1].segments is None


def test_each_part_keeps_its_own_files_only() -> None:
    first, middle, last = audio_parts(TWO_SECONDS, (30, 60))
    files = [f"{n:05d}.mp4" for n in range(32)]
    assert first.kept(files) == files[:30]  # not the post-roll
    assert middle.kept(files) == files[1:31]  # not the pre-roll, not the post-roll
    assert last.kept(files) == files[1:]
    assert middle.kept(files[:5]) == files[1:5]  # while it runs: what is closed so far


def test_cut_times_are_half_a_frame_before_each_cut_from_the_first_packet() -> None:
    first, middle, _ = audio_parts(TWO_SECONDS, (30, 60))
    times = middle.cut_times(TWO_SECONDS)
    assert len(times) == 31  # its first boundary (after the pre-roll) … its end (before the post-roll)
    for time, boundary in zip(times, TWO_SECONDS[30:61]):
        assert time * AUDIO_RATE + middle.input_start == pytest.approx(frame_cut(boundary) - AAC_FRAME / 2)
    assert len(first.cut_times(TWO_SECONDS)) == 30  # no boundary at 0


def test_the_planner_splits_the_audio_unless_loudness_needs_the_whole_track() -> None:
    probe = make_probe(tuple(i / 30 for i in range(30 * 300)), size=(640, 360), audio=True)
    plan = plan_chunks(probe, EncodeOptions())
    assert len(plan.audio_parts) == 5 and plan.audio_splits == tuple(range(30, 150, 30))
    assert len(plan_chunks(probe, EncodeOptions(loudness=-16)).audio_parts) == 1
    assert len(plan_chunks(probe, EncodeOptions(), audio_part_seconds=0).audio_parts) == 1
    assert plan_chunks(make_probe(tuple(i / 30 for i in range(300))), EncodeOptions()).audio_parts == ()
