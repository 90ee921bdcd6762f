"""Streams through the real local stack: private playback links, progressive EVENT playlists, the CLI."""
from __future__ import annotations

import time
from pathlib import Path

import m3u8
import pytest
import requests

from chalicelib.model import playback
from devstack.cli import main as framefleet
from devstack.client import Client
from devstack.stack import Stack
from tests.support.media import ffmpeg_cmd
from tests.support.stack import run_job, submit, wait_for
from tests.support.streams import check_package

OPTIONS = {"x264_preset": "ultrafast", "max_height": 360, "chunk_seconds": 1, "segment_seconds": 1}


def _clip(path: Path, seconds: int, size: str = "640x360") -> Path:
    proc = ffmpeg_cmd("-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
                      "-f", "lavfi", "-i", f"sine=frequency=500:duration={seconds}", "-c:v", "libx264", "-g", "50",
                      "-c:a", "aac", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture(scope="module")
def done_job(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict:
    clip = _clip(tmp_path_factory.mktemp("play") / "clip.mp4", 5)
    status = run_job(Client(stack.api_url, stack.api_key), clip, OPTIONS)
    assert status["state"] == "done", status.get("error")
    return status


def test_a_done_job_plays_without_the_api_key(done_job: dict, tmp_path: Path) -> None:
    url, dash_url = done_job["playback_url"], done_job["dash_url"]
    assert url.endswith("/master.m3u8") and dash_url.endswith("/manifest.mpd")
    assert done_job["playable_at"] and done_job["playback_expires_at"] > time.time() + 5 * 3600
    resp = requests.get(url, timeout=10)  # no X-Api-Key, no cookie: the token in the path is all
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert m3u8.loads(resp.text).is_variant
    # The whole package, fetched as a player would, is what the issue promises.
    Client(url.split("/play/")[0]).download_package(url, dash_url, tmp_path)
    check_package(tmp_path, 125, 5.0, decode_segments=False)
    renditions = {r["id"]: r for r in done_job["output"]["renditions"]}
    assert set(renditions) == {"h264-360", "h264-240", "audio"}
    assert done_job["output"]["url"] and done_job["output"]["frames"] == 125  # and the MP4


def test_a_link_is_refused_for_another_job_after_expiry_or_tampering(stack: Stack, done_job: dict) -> None:
    url = done_job["playback_url"]
    base, token, job_id, _ = url.rsplit("/", 3)
    secret = stack.settings.playback_secret.encode()
    expired = playback.sign(secret, job_id, int(time.time()) - 1)
    expires, signature = token.split(".")
    other_job = playback.sign(secret, "0" * 32, int(expires))
    for bad in (f"{base}/{expired}/{job_id}/master.m3u8",
                f"{base}/{int(expires) + 600}.{signature}/{job_id}/master.m3u8",  # a later expiry, same signature
                f"{base}/{other_job}/{job_id}/master.m3u8",  # a token of another job
                f"{base}/{token}/{job_id}/%2E%2E/{job_id}/master.m3u8",  # not normalised away by the client
                f"{base}/{playback.sign(b'another secret', job_id, int(expires))}/{job_id}/master.m3u8"):
        resp = requests.get(bad, timeout=10)
        assert resp.status_code == 403, bad
    assert requests.get(f"{base}/{token}/{job_id}/nothing.m3u8", timeout=10).status_code == 404
    preflight = requests.options(url, headers={"Origin": "https://embed.example",
                                               "Access-Control-Request-Method": "GET"}, timeout=10)
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_playback_starts_while_the_job_still_encodes(stack: Stack, tmp_path: Path) -> None:
    client = Client(stack.api_url, stack.api_key)
    job_id = submit(client, _clip(tmp_path / "long.mp4", 30), OPTIONS)
    status = wait_for(lambda: (s := client.job(job_id))["playable_at"] and s, "playable", timeout=120)
    if status["state"] == "encoding":  # seen while it grows (a fast machine could finish first)
        media = requests.get(status["playback_url"].replace("master.m3u8", "h264-360/index.m3u8"), timeout=10)
        live = m3u8.loads(media.text)
        assert live.playlist_type == "event" and not live.is_endlist
        assert 0 < len(live.segments) < 30
        first = requests.get(status["playback_url"].replace("master.m3u8", "h264-360/0.m4s"), timeout=10)
        assert first.status_code == 200 and first.content[4:8] == b"styp"
        assert status["dash_url"] is None  # the MPD is written once the stream is complete
    done = client.wait(job_id, timeout=300)
    assert done["state"] == "done" and done["playable_at"] <= done["updated_at"]
    final = m3u8.loads(requests.get(done["playback_url"].replace("master.m3u8", "h264-360/index.m3u8"),
                                    timeout=10).text)
    assert final.playlist_type == "vod" and final.is_endlist and len(final.segments) == 30


def test_a_cancelled_job_takes_its_stream_down(stack: Stack, tmp_path: Path) -> None:
    client = Client(stack.api_url, stack.api_key)
    job_id = submit(client, _clip(tmp_path / "cancel.mp4", 30), OPTIONS)
    status = wait_for(lambda: (s := client.job(job_id))["playable_at"] and s, "playable", timeout=120)
    url = status["playback_url"]
    client.cancel(job_id)
    wait_for(lambda: requests.get(url, timeout=10).status_code == 404, "stream removed", timeout=30)
    assert client.job(job_id)["playback_url"] is None


def test_cli_writes_a_package_playable_from_disk(stack: Stack, tmp_path: Path) -> None:
    clip = _clip(tmp_path / "cli.mp4", 3, "320x240")
    out = tmp_path / "package"
    code = framefleet(["transcode", str(clip), "-o", str(out), "--api", stack.api_url, "--api-key", stack.api_key,
                       "--outputs", "hls,dash,mp4", "--segment-seconds", "1", "--ladder", "240,144",
                       "--x264-preset", "ultrafast"])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"master.m3u8", "manifest.mpd", "cli.mp4", "h264-240", "h264-144", "audio"} <= names
    check_package(out, 75, 3.0, decode_segments=False)
    mp4_only = tmp_path / "plain.mp4"
    assert framefleet(["transcode", str(clip), "-o", str(mp4_only), "--api", stack.api_url,
                       "--api-key", stack.api_key]) == 0
    assert mp4_only.is_file() and mp4_only.stat().st_size > 1000
