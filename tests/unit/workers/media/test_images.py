"""The pure image builders: tile grid and sheets, the chunk's image branches, the poster's choice,
the storyboard's WebVTT."""
from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.media import sandbox
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from tests.support.probes import make_probe
from workers.media.encode import ladder_argv, ladder_filter
from workers.media.images import (
    FADE_RATIO,
    MAX_TILES,
    MIN_CONTRAST,
    MIN_LUMA,
    POSTER_WINDOW,
    Candidate,
    ChunkImages,
    Layout,
    candidates,
    chunk_tiles,
    contenders,
    in_poster_window,
    pick_poster,
    storyboard_vtt,
    tile_count,
    tile_interval,
    webp_argv,
)


@pytest.mark.parametrize(("duration", "interval", "tiles"), [
    (0.04, 1, 1), (10.0, 1, 10), (10.04, 1, 11), (200.0, 1, 200), (200.5, 2, 101), (600.0, 5, 120),
    (1800.0, 10, 180), (3600.0, 30, 120), (4 * 3600.0, 120, 120),
])
def test_the_tile_interval_bounds_the_number_of_tiles(duration: float, interval: int, tiles: int) -> None:
    assert tile_interval(duration) == interval
    assert tile_count(duration, interval) == tiles


@given(st.floats(min_value=0.001, max_value=40 * 3600))
def test_every_duration_gets_at_most_max_tiles_and_tiles_only_before_its_end(duration: float) -> None:
    interval = tile_interval(duration)
    count = tile_count(duration, interval)
    assert 1 <= count <= MAX_TILES
    assert (count - 1) * interval < duration  # the last tile's instant is inside the video


@settings(max_examples=100, deadline=None)
@given(frames=st.integers(min_value=1, max_value=3000), fps=st.sampled_from([23.976, 25.0, 30.0, 60.0]),
       chunk_seconds=st.floats(min_value=1, max_value=30), streaming=st.booleans())
def test_the_chunks_draw_every_tile_once_each_where_its_frame_is(frames: int, fps: float, chunk_seconds: float,
                                                                  streaming: bool) -> None:
    probe = make_probe(tuple(i / fps for i in range(frames)), last_frame=1 / fps)
    outputs = ("hls", "mp4") if streaming else ("mp4",)
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=chunk_seconds, outputs=outputs))
    interval = tile_interval(plan.video_duration)
    drawn = [t for c in plan.chunks for t in chunk_tiles(plan, c)]
    assert drawn == list(range(tile_count(plan.video_duration, interval)))
    for chunk in plan.chunks:
        end = chunk.start + chunk.duration
        assert all(chunk.start - 1e-6 <= t * interval < end + 1e-6 for t in chunk_tiles(plan, chunk))


def test_only_the_chunks_of_the_first_seconds_make_poster_candidates() -> None:
    probe = make_probe(tuple(i / 25 for i in range(25 * 30)), last_frame=1 / 25)
    plan = plan_chunks(probe, EncodeOptions(chunk_seconds=4, segment_seconds=1))
    window = [c.index for c in plan.chunks if in_poster_window(c)]
    assert window == [c.index for c in plan.chunks if c.start < POSTER_WINDOW] and window[0] == 0
    assert all(ChunkImages.of(plan, c).poster is None for c in plan.chunks if c.index not in window)


@pytest.mark.parametrize(("count", "columns", "rows"), [(1, 1, 1), (3, 3, 1), (10, 10, 1), (11, 10, 2),
                                                        (100, 10, 10), (150, 10, 10)])
def test_sheets_are_as_wide_as_needed_and_at_most_ten_by_ten(count: int, columns: int, rows: int) -> None:
    layout = Layout.of(count, (256, 144))
    assert (layout.columns, layout.rows) == (columns, rows)
    places = [layout.place(i) for i in range(count)]
    assert len(set(places)) == count  # no two tiles in one place
    assert layout.place(count - 1)[0] == (count - 1) // (columns * rows)
    assert all(0 <= x <= (columns - 1) * 256 and 0 <= y <= (rows - 1) * 144 for _, x, y in places)


def _plan(seconds: float = 12.0, fps: float = 25.0, size: tuple[int, int] = (1920, 1080)) -> Plan:
    probe = make_probe(tuple(i / fps for i in range(int(seconds * fps))), last_frame=1 / fps, size=size)
    return plan_chunks(probe, EncodeOptions(chunk_seconds=4, segment_seconds=1, max_height=720))


def test_one_decode_feeds_the_rungs_and_the_image_branches() -> None:
    plan = _plan()
    chunk = plan.chunks[1]
    images = ChunkImages.of(plan, chunk)
    graph = ladder_filter(chunk, plan, plan.rungs, images)
    rungs = len(plan.rungs)
    assert graph.count("[0:0]") == 1 and f"split={rungs + 1}" in graph
    assert f"trim=end_frame={chunk.frame_count},setpts=PTS+{chunk.start!r}/TB+0.5" in graph
    # 25 fps: every 5th frame a candidate, one pick of each 5 (a second).
    assert (images.step, images.batch) == (5, 5)
    assert f"trim=end={POSTER_WINDOW},select=not(mod(n\\,5)),scale=1280:720" in graph
    assert "thumbnail=n=5,signalstats,metadata=mode=print:file=poster.txt[poster]" in graph
    assert f"fps=fps=1/1:round=up,trim=end_frame={len(images.tiles)}" in graph
    assert f"tile=layout={len(images.tiles)}x1[sheets]" in graph
    argv = ladder_argv("/in.mp4", chunk, plan, EncodeOptions(), "/out", images=images)
    assert argv.count("-map") == rungs + 2 and argv[-1] == "/out/sheet-%03d.jpg"
    assert "/out/poster-%03d.jpg" in argv and argv.count("mjpeg") == 2
    assert argv.index("-filter_complex") > argv.index("-i")  # one input, read once


def test_a_chunk_past_the_window_makes_only_its_tiles_and_one_without_tiles_nothing() -> None:
    plan = _plan(seconds=40.0)
    late = ChunkImages.of(plan, plan.chunks[-1])
    assert late.poster is None and late.tiles and "thumbnail" not in late.filter("img")
    assert "split=1[sheets-in]" in late.filter("img")
    empty = ChunkImages(0.0, 10, None, 2, 12, range(0), 1, Layout(1, 1, 256, 144))
    assert empty.empty
    chunk = plan.chunks[-1]
    assert ladder_filter(chunk, plan, plan.rungs, empty) == ladder_filter(chunk, plan, plan.rungs)


def test_images_keep_the_output_aspect_ratio_and_never_upscale() -> None:
    small = ChunkImages.of(_plan(size=(320, 240)), _plan(size=(320, 240)).chunks[0])
    assert small.poster == (320, 240) and (small.layout.width, small.layout.height) == (256, 192)
    wide = ChunkImages.of(_plan(), _plan().chunks[0])
    assert wide.poster == (1280, 720) and (wide.layout.width, wide.layout.height) == (256, 144)


STATS = """frame:0    pts:0       pts_time:0
timecode=00:00:02:03
lavfi.signalstats.YMIN=0
lavfi.signalstats.YLOW=0
lavfi.signalstats.YAVG=0.5
lavfi.signalstats.YHIGH=1
frame:1    pts:3433    pts_time:3.433
lavfi.signalstats.YLOW=21
lavfi.signalstats.YAVG=91.3627
lavfi.signalstats.YHIGH=162
"""


def test_the_candidates_are_read_from_the_metadata_print_whatever_else_the_frames_carry() -> None:
    assert candidates(STATS) == [Candidate(0.0, 0.5, 1.0, "poster-000.jpg"),
                                 Candidate(3.433, 91.36, 141.0, "poster-001.jpg")]


def _c(time: float, luma: float, contrast: float) -> Candidate:
    return Candidate(time, luma, contrast, f"poster-{round(time * 1000)}.jpg")


def test_a_fade_in_from_black_gives_the_first_frame_at_full_strength() -> None:
    fade = [_c(0, 0, 0), _c(1, 0, 0), _c(2, 16, 30), _c(3, 91, 141), _c(4, 127, 196), _c(5, 128, 199)]
    assert pick_poster(fade) == fade[4]


def test_a_dark_video_still_gets_its_best_frame_and_no_candidates_none() -> None:
    dark = [_c(0, 10, 5), _c(1, 20, 12), _c(2, 12, 12)]
    assert all(not c.usable for c in dark) and pick_poster(dark) == dark[1]
    assert pick_poster([]) is None
    assert _c(0, MIN_LUMA, MIN_CONTRAST).usable and not _c(0, MIN_LUMA - 1, 200).usable


candidate = st.builds(_c, st.floats(0, 6, allow_nan=False), st.floats(0, 255), st.floats(0, 255))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(candidate, max_size=8), min_size=1, max_size=5))
def test_the_poster_of_the_contenders_is_the_poster_of_all_candidates(chunks: list[list[Candidate]]) -> None:
    """Each chunk keeps (and uploads) only its contenders: the choice must not change."""
    ordered = [sorted(c, key=lambda x: x.time) for c in chunks]
    everything = [c for chunk in ordered for c in chunk]
    kept = [c for chunk in ordered for c in contenders(chunk)]
    chosen = pick_poster(everything)
    assert (chosen is None) == (not everything)
    if chosen is not None:
        best = pick_poster(kept)
        assert best is not None and (best.time, best.luma, best.contrast) == (chosen.time, chosen.luma,
                                                                              chosen.contrast)
        usable = [c for c in everything if c.usable]
        if usable:
            assert chosen.usable and chosen.contrast >= FADE_RATIO * max(c.contrast for c in usable)


BOARDS = {"v00000": {"first": 0, "count": 2, "columns": 2, "rows": 1, "width": 256, "height": 144},
          "v00001": {"first": 2, "count": 12, "columns": 10, "rows": 2, "width": 256, "height": 144}}


def test_the_storyboard_vtt_has_a_cue_per_tile_pointing_into_its_chunk_sheet() -> None:
    text = storyboard_vtt(13.5, BOARDS)
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard/v00000-0.jpg#xywh=0,0,256,144\n\n"
                           "00:00:01.000 --> 00:00:02.000\nstoryboard/v00000-0.jpg#xywh=256,0,256,144\n\n"
                           "00:00:02.000 --> 00:00:03.000\nstoryboard/v00001-0.jpg#xywh=0,0,256,144\n\n")
    assert text.endswith("00:00:13.000 --> 00:00:13.500\nstoryboard/v00001-0.jpg#xywh=256,144,256,144\n\n")
    cues = re.findall(r"(\S+) --> (\S+)\n", text)
    assert len(cues) == 14 and all(a[1] == b[0] for a, b in zip(cues, cues[1:]))


def test_vtt_timestamps_hold_hours() -> None:
    board = {"v00000": {"first": 0, "count": 2, "columns": 2, "rows": 1, "width": 256, "height": 144}}
    assert "00:00:00.000 --> 00:02:00.000" in storyboard_vtt(4 * 3600 + 1.25, board)
    assert "01:00:00.000 --> 01:02:00.000" in storyboard_vtt(
        4 * 3600 + 1.25, {"v00009": {**board["v00000"], "first": 30}})
    assert math.isclose(tile_interval(4 * 3600 + 1.25), 120)


def test_the_webp_is_made_from_our_own_jpeg_only() -> None:
    argv = webp_argv("/w/poster.jpg", "/w/poster.webp")
    assert argv[argv.index("-protocol_whitelist") + 1] == "file" and argv[argv.index("-f") + 1] == "image2"
    assert argv[argv.index("-pattern_type") + 1] == "none" and argv[-1] == "/w/poster.webp"
    assert all(a in argv for a in sandbox.GLOBAL_ARGS)
