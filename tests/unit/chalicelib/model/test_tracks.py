"""Which audio and subtitle tracks the output keeps, in what order, with what labels; pure."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.model.facts import ProbeResult, TrackInfo, TrackKind
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from chalicelib.model.tracks import MAX_AUDIO_TRACKS, audio_tracks, subtitle_tracks
from tests.support.probes import make_probe


def _probe(*tracks: TrackInfo, main: int = 1) -> ProbeResult:
    probe = make_probe(tuple(i / 30 for i in range(90)), audio=True)
    assert probe.audio is not None
    return replace(probe, audio=replace(probe.audio, index=main), tracks=tracks)


def _audio(index: int, language: str = "", start: float = 0.0, duration: float = 3.0, **kw: object) -> TrackInfo:
    return TrackInfo(index, TrackKind.AUDIO, "aac", language, start=start, duration=duration, **kw)  # type: ignore[arg-type]


def _subtitle(index: int, codec: str, language: str = "", **kw: object) -> TrackInfo:
    return TrackInfo(index, TrackKind.SUBTITLE, codec, language, **kw)  # type: ignore[arg-type]


def test_the_main_audio_comes_first_and_is_the_default_whatever_its_position() -> None:
    probe = _probe(_audio(1, "fra", title="Commentaire"), _audio(2, "eng", duration=2.5), main=2)
    tracks = audio_tracks(probe, 0.0)
    assert [(t.id, t.index, t.language, t.default) for t in tracks] == [("audio", 2, "eng", True),
                                                                         ("audio-2", 1, "fra", False)]
    assert [t.name for t in tracks] == ["English", "Commentaire"]
    assert tracks[1].duration == pytest.approx(3.0)


def test_an_other_track_that_starts_earlier_moves_the_timeline_start() -> None:
    probe = _probe(_audio(1, "eng", start=0.0), _audio(2, "deu", start=-0.25, duration=3.25))
    plan = plan_chunks(probe, EncodeOptions())
    assert plan.lead == pytest.approx(0.25)
    assert [t.duration for t in plan.audio_tracks] == [pytest.approx(3.25), pytest.approx(3.25)]


def test_text_subtitles_are_kept_and_bitmap_ones_are_named_in_a_note() -> None:
    probe = _probe(_audio(1), _subtitle(2, "subrip", "deu", default=True),
                   _subtitle(3, "hdmv_pgs_subtitle", "eng"), _subtitle(4, "ass"), _subtitle(5, "dvd_subtitle", "fra"),
                   _subtitle(6, "mov_text", "spa", forced=True))
    kept, notes = subtitle_tracks(probe)
    assert [(s.id, s.index, s.codec, s.default, s.forced) for s in kept] == [
        ("text-1", 2, "subrip", True, False), ("text-2", 4, "ass", False, False),
        ("text-3", 6, "mov_text", False, True)]
    assert [s.name for s in kept] == ["Deutsch", "Subtitles 2", "Español"]
    assert notes == ("subtitle track 3 (hdmv_pgs_subtitle, eng) left out: picture-based subtitles cannot be "
                     "converted to text",
                     "subtitle track 5 (dvd_subtitle, fra) left out: picture-based subtitles cannot be converted "
                     "to text")
    assert plan_chunks(probe, EncodeOptions()).notes == notes


def test_audio_tracks_beyond_the_limit_are_left_out_with_a_note() -> None:
    probe = _probe(*(_audio(i) for i in range(1, MAX_AUDIO_TRACKS + 3)))
    assert len(audio_tracks(probe, 0.0)) == MAX_AUDIO_TRACKS
    _, notes = subtitle_tracks(probe)
    assert len(notes) == 2 and all("at most 8 audio tracks" in n for n in notes)


def test_a_probe_without_a_track_list_keeps_its_main_audio() -> None:
    probe = _probe()
    (main,) = audio_tracks(probe, 0.0)
    assert (main.id, main.index, main.default) == ("audio", 1, True)
