"""Playlists and manifest from part records alone: progressive, cut to what plays together, exact."""
from __future__ import annotations

from typing import Any

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from chalicelib.model.errors import VerificationError
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from tests.support.probes import make_probe
from workers.media import dash, hls
from workers.media.stream import collect, target_duration

OPTIONS = EncodeOptions(chunk_seconds=2, segment_seconds=1)  # chunks of 1, 1, 1, 1, 2, 2 segments


def plan_of(audio: bool = True) -> Plan:
    return plan_chunks(make_probe(tuple(i / 30 for i in range(240)), size=(1280, 720), audio=audio), OPTIONS)


def chunk_record(plan: Plan, index: int, init: str = "same", size: int = 10_000) -> dict[str, Any]:
    chunk = plan.chunks[index]
    count = len(plan.segment_range(chunk))
    tracks = {r.id: {"codecs": "avc1.64001F", "init": init, "durations": [30_000] * count,
                     "sizes": [size // (i + 1)] * count, "frames": [30] * count} for i, r in enumerate(plan.rungs)}
    return {"state": "done", "tracks": tracks}


def audio_record(segments: int, done: bool) -> dict[str, Any]:
    track = {"codecs": "mp4a.40.2", "init": "a", "durations": [48_128] * segments, "sizes": [16_000] * segments}
    return {"state": "done" if done else "running", "tracks": {"audio": track}}


def test_progress_lists_the_chunks_done_in_order_up_to_the_first_gap() -> None:
    plan = plan_of()
    assert [len(plan.segment_range(c)) for c in plan.chunks] == [1, 1, 1, 1, 2, 2]
    parts = {"v00000": chunk_record(plan, 0), "v00001": chunk_record(plan, 1), "v00003": chunk_record(plan, 3),
             "audio": audio_record(8, done=True)}
    index = collect(plan, parts)
    assert not index.complete and index.segments == 2  # chunks 0 and 1, not 3 after the gap
    playlist = m3u8.loads(hls.media_playlist(index.video[0], index))
    assert playlist.playlist_type == "event" and not playlist.is_endlist
    assert [s.uri for s in playlist.segments] == ["0.m4s", "1.m4s"]
    assert playlist.target_duration == target_duration(plan) == 1
    audio = m3u8.loads(hls.media_playlist(index.audio, index))  # type: ignore[arg-type]
    assert len(audio.segments) == 2  # never ahead of the video it plays with


def test_video_waits_for_the_audio_beside_it() -> None:
    plan = plan_of()
    parts = {f"v{i:05d}": chunk_record(plan, i) for i in range(len(plan.chunks))}
    parts["audio"] = audio_record(3, done=False)
    index = collect(plan, parts)
    assert index.segments == 3 and len(index.audio.durations) == 3  # type: ignore[union-attr]
    assert not index.complete


def test_complete_stream_is_vod_with_measured_bandwidths() -> None:
    plan = plan_of()
    parts = {f"v{i:05d}": chunk_record(plan, i) for i in range(len(plan.chunks))}
    parts["audio"] = audio_record(8, done=True)
    index = collect(plan, parts)
    assert index.complete and index.segments == 8
    master = m3u8.loads(hls.master_playlist(index))
    assert master.version == 7 and len(master.playlists) == len(plan.rungs)
    top = master.playlists[0].stream_info
    video_peak = 10_000 * 8  # bytes per 1 s segment
    audio_peak = -(-16_000 * 8 * 48_000 // 48_128)
    assert top.bandwidth == video_peak + audio_peak and top.resolution == (1280, 720)
    assert top.codecs == "avc1.64001F,mp4a.40.2" and top.frame_rate == 30.0
    (group,) = master.media
    assert group.type == "AUDIO" and group.uri == "audio/index.m3u8" and group.default == "YES"
    vod = m3u8.loads(hls.media_playlist(index.video[0], index))
    assert vod.playlist_type == "vod" and vod.is_endlist and len(vod.segments) == 8
    assert set(hls.playlists(index)) == {"master.m3u8", "audio/index.m3u8", *(f"{r.id}/index.m3u8" for r in plan.rungs)}


def test_manifest_timeline_and_offsets(tmp_path: Any) -> None:
    plan = plan_of()
    parts = {f"v{i:05d}": chunk_record(plan, i) for i in range(len(plan.chunks))}
    parts["audio"] = audio_record(8, done=True)
    path = tmp_path / "manifest.mpd"
    path.write_text(dash.manifest(collect(plan, parts)))
    mpd = MPEGDASHParser.parse(str(path))
    video, audio = mpd.periods[0].adaptation_sets
    template = video.segment_templates[0]
    assert int(template.timescale) == plan.timescale == 30_000
    assert int(template.presentation_time_offset) == plan.origin_ticks == 640  # the AAC priming frame
    (s,) = template.segment_timelines[0].Ss
    assert (s.t, s.d, s.r) == (640, 30_000, 7)
    assert [r.id for r in video.representations] == [r.id for r in plan.rungs]
    assert int(audio.segment_templates[0].presentation_time_offset) == 1024
    assert mpd.media_presentation_duration == "PT8.000S"


def test_chunks_with_different_init_segments_fail_the_job() -> None:
    plan = plan_of(audio=False)
    parts = {f"v{i:05d}": chunk_record(plan, i, init="x" if i == 2 else "same") for i in range(len(plan.chunks))}
    with pytest.raises(VerificationError, match="different init segments"):
        collect(plan, parts)


def test_no_audio_means_no_audio_group() -> None:
    plan = plan_of(audio=False)
    index = collect(plan, {f"v{i:05d}": chunk_record(plan, i) for i in range(len(plan.chunks))})
    assert index.complete and index.audio is None
    master = m3u8.loads(hls.master_playlist(index))
    assert not master.media and master.playlists[0].stream_info.codecs == "avc1.64001F"


def test_other_audio_tracks_and_subtitles_are_renditions_of_their_own() -> None:
    from dataclasses import replace

    from chalicelib.model.tracks import AudioTrack, SubtitleTrack

    plan = replace(plan_of(), audio_tracks=(AudioTrack("audio", 1, "eng", "English", True, 8.0),
                                            AudioTrack("audio-2", 2, "fra", 'Le "commentaire"', False, 8.0)),
                   subtitles=(SubtitleTrack("text-1", 3, "deu", "Deutsch", False, True, "subrip"),))
    parts = {f"v{i:05d}": chunk_record(plan, i) for i in range(len(plan.chunks))}
    parts["audio"] = audio_record(8, done=False)
    parts["audio"]["tracks"]["audio-2"] = {**parts["audio"]["tracks"]["audio"], "durations": [48_128] * 5}
    growing = collect(plan, parts)
    assert growing.segments == 5 and [len(a.durations) for a in growing.audios] == [5, 5]  # all play together
    assert growing.subtitles == ()  # written when the audio task ends
    parts["audio"] = audio_record(8, done=True)
    parts["audio"]["tracks"]["audio-2"] = dict(parts["audio"]["tracks"]["audio"])
    index = collect(plan, parts)
    master = m3u8.loads(hls.master_playlist(index))
    audio = [m for m in master.media if m.type == "AUDIO"]
    assert [(m.language, m.default, m.uri) for m in audio] == [("eng", "YES", "audio/index.m3u8"),
                                                               ("fra", "NO", "audio-2/index.m3u8")]
    assert audio[1].name == "Le commentaire"  # no quote inside a quoted string
    (subs,) = [m for m in master.media if m.type == "SUBTITLES"]
    assert (subs.language, subs.forced, subs.uri, subs.group_id) == ("deu", "YES", "text-1/index.m3u8", "subs")
    assert all(p.stream_info.subtitles == "subs" for p in master.playlists)
    files = hls.playlists(index)
    vtt = m3u8.loads(files["text-1/index.m3u8"])
    assert [s.uri for s in vtt.segments] == ["subtitles.vtt"] and vtt.is_endlist
    assert vtt.segments[0].duration == pytest.approx(index.video[0].total_seconds)
    mpd = MPEGDASHParser.parse(dash.manifest(index))
    sets = mpd.periods[0].adaptation_sets
    assert [(s.content_type, s.lang) for s in sets if s.content_type != "video"] == [
        ("audio", "eng"), ("audio", "fra"), ("text", "deu")]
    text = sets[-1]
    assert text.mime_type == "text/vtt"
    assert text.representations[0].base_urls[0].base_url_value == "text-1/subtitles.vtt"
    assert [s.roles[0].value for s in sets if s.content_type != "video"] == ["main", "alternate", "forced-subtitle"]


def test_audio_parts_join_in_order_and_list_as_far_as_they_go_without_a_gap() -> None:
    plan = plan_chunks(make_probe(tuple(i / 30 for i in range(240)), size=(1280, 720), audio=True), OPTIONS,
                       audio_part_seconds=3)
    assert [p.first_segment for p in plan.audio_parts] == [0, 3, 6]
    parts = {f"v{i:05d}": chunk_record(plan, i) for i in range(len(plan.chunks))}
    parts["a00001"] = audio_record(3, done=True)  # the later parts, done before the first
    parts["a00002"] = audio_record(2, done=True)
    parts["audio"] = audio_record(2, done=False)
    growing = collect(plan, parts)
    assert growing.segments == 2 and not growing.complete  # not the second part's, after the gap
    parts["audio"] = audio_record(3, done=True)
    index = collect(plan, parts)
    assert index.complete and index.audio is not None and len(index.audio.durations) == 8
    parts["a00001"]["tracks"]["audio"]["init"] = "another"
    with pytest.raises(VerificationError, match="audio parts of audio have different init segments"):
        collect(plan, parts)
