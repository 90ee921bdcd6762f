"""Every audio track and every text subtitle track through the whole local stack: alternate audio
renditions and WebVTT subtitle renditions in the stream, extra tracks in the MP4."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import m3u8
import pytest
import requests

from devstack.client import Client
from tests.support.realworld import SUBTITLE_CUES, subtitles_without_audio, with_tracks
from tests.support.stack import run_job

FAST = {"x264_preset": "ultrafast", "chunk_seconds": 1.0, "segment_seconds": 1.0}
AAC_FRAME = 1024 / 48_000


@pytest.fixture(scope="module")
def client(stack: Any) -> Client:
    return Client(stack.api_url)


def _vtt(srt_stamp: str) -> str:
    """An SRT time (under an hour) as ffmpeg's WebVTT writes it: ``MM:SS.mmm``."""
    return srt_stamp[3:].replace(",", ".")


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_every_audio_and_subtitle_track_is_kept(client: Client, tmp_path: Path, container: str) -> None:
    source = with_tracks(tmp_path, container)
    status = run_job(client, source, FAST)
    assert status["state"] == "done", status.get("error")
    assert status["output"]["notes"] == []

    # The MP4: both audio tracks (English the default) at their own lengths, both subtitles as mov_text.
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    with av.open(str(out)) as mp4:
        audio = [(s.metadata.get("language"), bool(s.disposition & 1), float(s.duration * s.time_base))
                 for s in mp4.streams.audio]
        subtitles = [(s.codec_context.name, s.metadata.get("language")) for s in mp4.streams.subtitles]
    assert [(lang, default) for lang, default, _ in audio] == [("eng", True), ("fra", False)]
    assert audio[0][2] == pytest.approx(4.0, abs=2 * AAC_FRAME) and audio[1][2] == pytest.approx(3.5, abs=2 * AAC_FRAME)
    assert subtitles == [("mov_text", "deu"), ("mov_text", "spa")]
    with av.open(str(out)) as mp4:
        texts = [bytes(p).decode("utf-8", "replace") for p in mp4.demux(mp4.streams.subtitles[0]) if p.size]
    assert [t for t in texts if t.strip("\x00 \n")][:2] and any("Hello" in t for t in texts)

    # The stream: an audio group of both tracks, a subtitles group of both, WebVTT with the cues.
    base = status["playback_url"].rsplit("/", 1)[0]
    master = m3u8.loads(requests.get(status["playback_url"], timeout=10).text)
    media = {(m.type, m.language): m for m in master.media}
    assert media[("AUDIO", "eng")].default == "YES" and media[("AUDIO", "fra")].default == "NO"
    # Its title where the container keeps one (Matroska), else its language's name.
    assert media[("AUDIO", "fra")].name == ("Commentaire" if container == "mkv" else "Français")
    assert {k for k in media if k[0] == "SUBTITLES"} == {("SUBTITLES", "deu"), ("SUBTITLES", "spa")}
    assert all(p.stream_info.subtitles == "subs" and p.stream_info.audio == "audio" for p in master.playlists)
    for language in ("deu", "spa"):
        playlist = m3u8.loads(requests.get(f"{base}/{media[('SUBTITLES', language)].uri}", timeout=10).text)
        folder = media[("SUBTITLES", language)].uri.rsplit("/", 1)[0]
        vtt = requests.get(f"{base}/{folder}/{playlist.segments[0].uri}", timeout=10)
        assert vtt.status_code == 200 and vtt.headers["Content-Type"].startswith("text/vtt")
        assert vtt.text.startswith("WEBVTT")
        for start, end, text in SUBTITLE_CUES:  # each cue at its own time, to the millisecond
            assert f"{_vtt(start)} --> {_vtt(end)}\n{text}" in vtt.text, vtt.text
    french = m3u8.loads(requests.get(f"{base}/{media[('AUDIO', 'fra')].uri}", timeout=10).text)
    assert sum(s.duration for s in french.segments) == pytest.approx(3.5 + AAC_FRAME, abs=2 * AAC_FRAME)
    mpd = requests.get(status["dash_url"], timeout=10).text
    assert mpd.count('contentType="audio"') == 2 and mpd.count('contentType="text"') == 2
    assert 'lang="fra"' in mpd and 'mimeType="text/vtt"' in mpd


def test_subtitles_of_a_silent_video_are_kept(client: Client, tmp_path: Path) -> None:
    status = run_job(client, subtitles_without_audio(tmp_path), FAST)
    assert status["state"] == "done", status.get("error")
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    with av.open(str(out)) as mp4:
        assert not mp4.streams.audio
        assert [(s.codec_context.name, s.metadata.get("language")) for s in mp4.streams.subtitles] == [("mov_text",
                                                                                                       "eng")]
    master = m3u8.loads(requests.get(status["playback_url"], timeout=10).text)
    assert [(m.type, m.language) for m in master.media] == [("SUBTITLES", "eng")]
