"""Real-world media classes through the whole local stack: audio that leads the video, streams cut
before their first keyframe, trims by edit list, several video streams. Each output is decoded
and measured (frames, audio span, sync) independently of the pipeline's own verification."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devstack.client import Client
from tests.support.edits import trim_with_edit_list
from tests.support.realworld import cut_before_keyframe, decoded_video, several_videos, with_cover_art
from tests.support.stack import run_job
from tests.support.sync import decode, sync_clip, sync_errors

FAST = {"x264_preset": "ultrafast", "chunk_seconds": 1.0, "segment_seconds": 1.0}
SYNC_TOLERANCE = 0.020  # seconds, at the start and at the end
AAC_FRAME = 1024 / 48_000


@pytest.fixture(scope="module")
def client(stack: Any) -> Client:
    return Client(stack.api_url)


def _output(client: Client, source: Path, tmp_path: Path, options: dict[str, Any] | None = None) -> Path:
    status = run_job(client, source, {**FAST, **(options or {})})
    assert status["state"] == "done", status.get("error")
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    return out


@pytest.mark.parametrize(("container", "lead"), [("mp4", 0.5), ("ts", 0.1), ("mkv", 0.3)])
def test_audio_that_starts_before_the_first_frame_is_kept_in_sync(client: Client, tmp_path: Path, container: str,
                                                                  lead: float) -> None:
    clip = sync_clip(tmp_path, container, lead)
    source = decode(clip.path)
    out = decode(_output(client, clip.path, tmp_path))
    # Every frame, the first one shown from the audio's first sample on.
    assert len(out.frame_times) == len(source.frame_times)
    assert out.frame_times[0] == 0.0 and out.audio_start == pytest.approx(0.0, abs=1e-3)
    # The audio from its first sample: its length (± the AAC frame the encoder rounds up to), and
    # the beep before the first frame, where it was.
    assert out.audio_seconds == pytest.approx(source.audio_seconds, abs=AAC_FRAME)
    offset = source.audio_start  # the source's timeline starts with its audio
    if clip.first_beep:
        assert out.beeps[0] == pytest.approx(clip.first_beep, abs=2e-3)
    # The later frames exactly where they were relative to the audio: in sync at start and end.
    assert [t - offset for t in source.frame_times[1:]] == pytest.approx(out.frame_times[1:], abs=1e-3)
    assert len(out.flashes) == len(clip.flashes)
    assert max(abs(e) for e in sync_errors(out)) <= SYNC_TOLERANCE, sync_errors(out)


def test_video_cut_before_its_first_keyframe_with_shorter_audio(client: Client, tmp_path: Path) -> None:
    # HEVC whose first ~0.8 s cannot be decoded (no sync sample before them), audio 2 s of 3.5.
    source = cut_before_keyframe(tmp_path, audio_seconds=2.0)
    frames, _ = decoded_video(source)
    src = decode(source)
    assert src.frame_times[0] > 0.5 > src.audio_start  # the class: audio from 0, pictures later
    out = decode(_output(client, source, tmp_path))
    assert len(out.frame_times) == frames  # every decodable frame, none invented
    assert out.audio_seconds == pytest.approx(src.audio_seconds, abs=AAC_FRAME)  # all of the audio
    assert [t - src.audio_start for t in src.frame_times[1:]] == pytest.approx(out.frame_times[1:], abs=1e-3)


def test_trim_by_edit_list_into_a_gop(client: Client, tmp_path: Path) -> None:
    # A phone-style trim: the edit lists start 1.3 s into the media, between keyframes 3 s apart;
    # the audio ends 0.1 s before the video.
    long = sync_clip(tmp_path, "mp4", 0.0, video_seconds=6.0, codec="libx265", gop=90)
    source = trim_with_edit_list(long.path, tmp_path / "trimmed.mp4", 1.3, {"vide": 4.0, "soun": 3.9})
    frames, _ = decoded_video(source)
    src = decode(source)
    out = decode(_output(client, source, tmp_path))
    assert len(out.frame_times) == frames == 120
    assert out.audio_seconds == pytest.approx(src.audio_seconds, abs=AAC_FRAME)
    assert src.flashes and len(out.flashes) == len(src.flashes)
    assert max(abs(e) for e in sync_errors(out)) <= SYNC_TOLERANCE, sync_errors(out)


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_several_video_streams_encode_the_default_one(client: Client, tmp_path: Path, container: str) -> None:
    source = several_videos(tmp_path, container)
    frames, size = decoded_video(source, 1)
    out = _output(client, source, tmp_path)
    assert decoded_video(out) == (frames, size) == (75, (320, 180))  # not the preview, not the still


def test_cover_art_is_never_the_video(client: Client, tmp_path: Path) -> None:
    source = with_cover_art(tmp_path)
    out = _output(client, source, tmp_path)
    assert decoded_video(out) == (60, (320, 180))
