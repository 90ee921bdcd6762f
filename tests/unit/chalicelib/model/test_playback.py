"""Playback tokens: what opens a job's stream, and what does not."""
from __future__ import annotations

import pytest

from chalicelib.model import playback

SECRET = b"k" * 32
JOB = "a" * 32
NOW = 1_800_000_000.0


def test_a_signed_path_resolves_to_the_jobs_stream_key() -> None:
    token = playback.sign(SECRET, JOB, int(NOW) + 60)
    url = playback.playback_url("https://cdn.example/", token, JOB)
    assert url == f"https://cdn.example/{token}/{JOB}/master.m3u8"
    path = url.removeprefix("https://cdn.example")
    assert playback.resolve(SECRET, path, NOW) == f"outputs/{JOB}/stream/master.m3u8"
    for rest in ("h264-720/index.m3u8", "h264-720/12.m4s", "audio/init.mp4", "manifest.mpd"):
        assert playback.resolve(SECRET, f"/{token}/{JOB}/{rest}", NOW) == f"outputs/{JOB}/stream/{rest}"


@pytest.mark.parametrize("path", [
    f"/{playback.sign(SECRET, JOB, int(NOW))}/{JOB}/master.m3u8",  # expires now
    f"/{playback.sign(SECRET, JOB, int(NOW) - 1)}/{JOB}/master.m3u8",  # expired
    f"/{playback.sign(SECRET, 'b' * 32, int(NOW) + 60)}/{JOB}/master.m3u8",  # another job's token
    f"/{playback.sign(b'other', JOB, int(NOW) + 60)}/{JOB}/master.m3u8",  # another secret
    f"/{int(NOW) + 9999}.{playback.sign(SECRET, JOB, int(NOW) + 60).split('.')[1]}/{JOB}/master.m3u8",
    f"/{playback.sign(SECRET, JOB, int(NOW) + 60)}/{JOB}/../x/master.m3u8",
    f"/{playback.sign(SECRET, JOB, int(NOW) + 60)}/{JOB}/a/b/c.m4s",  # deeper than a rung folder
    f"/{playback.sign(SECRET, JOB, int(NOW) + 60)}/{JOB}/",
    f"/{playback.sign(SECRET, JOB, int(NOW) + 60)}/{JOB}/..",
    f"/{playback.sign(SECRET, JOB, int(NOW) + 60)}/{JOB}/x%2F..%2Fy.m3u8",
    f"/nonsense/{JOB}/master.m3u8",
    f"/-5.abc/{JOB}/master.m3u8",
    "/",
    "",
])
def test_everything_else_is_refused(path: str) -> None:
    assert playback.resolve(SECRET, path, NOW) is None


def test_no_secret_refuses_everything() -> None:
    token = playback.sign(b"", JOB, int(NOW) + 60)
    assert playback.resolve(b"", f"/{token}/{JOB}/master.m3u8", NOW) is None
