"""Posters, storyboards and on-demand thumbnails through the real local stack (workers' ffmpeg, the
API's sandboxed decoder, moto S3, the /play token path), checked against the output's own frames."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from devstack.client import Client
from devstack.stack import Stack
from tests.support.images import (
    best_match,
    displayed_index,
    fade_in_clip,
    mse,
    output_frames,
    parse_vtt,
    picture,
)
from tests.support.stack import run_job

# 1 s segments: chunks of 1 s, 2 s (the stream's ramp), then 2 s each: 6 chunks, tiles across all.
STREAM = {"x264_preset": "ultrafast", "max_height": 360, "chunk_seconds": 2, "segment_seconds": 1}
SECONDS, FADE, FADE_END = 10.0, 2.0, 4.0  # black to 2 s, fading in to 4 s


def _services() -> Any:
    from chalicelib.stores.services import get_services

    return get_services()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fade_in_clip(tmp_path_factory.mktemp("images") / "fade.mp4", black=FADE_END - FADE, fade=FADE,
                        seconds=SECONDS)


@dataclass(frozen=True)
class Done:
    """A finished job's view and its MP4, downloaded."""

    job: dict[str, Any]
    video: Path


def _done(stack: Stack, clip: Path, options: dict[str, Any], tmp: Path) -> Done:
    client = Client(stack.api_url, stack.api_key)
    status = run_job(client, clip, options)
    assert status["state"] == "done", status.get("error")
    client.download(status["output"]["url"], tmp / "output.mp4")
    return Done(status, tmp / "output.mp4")


@pytest.fixture(scope="module")
def stream_job(stack: Stack, clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Done:
    return _done(stack, clip, STREAM, tmp_path_factory.mktemp("stream"))


@pytest.fixture(scope="module")
def mp4_job(stack: Stack, clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Done:
    return _done(stack, clip, {**STREAM, "outputs": ["mp4"]}, tmp_path_factory.mktemp("mp4"))


def _get(url: str, content_type: str) -> bytes:
    resp = requests.get(url, timeout=30)  # no API key: the token in the path is the authorization
    assert resp.status_code == 200, (url, resp.status_code, resp.text[:200])
    assert resp.headers["Content-Type"] == content_type, resp.headers
    return resp.content


@pytest.mark.parametrize("job_name", ["stream_job", "mp4_job"])
def test_the_poster_is_a_faded_in_frame_of_the_first_seconds(job_name: str, request: pytest.FixtureRequest) -> None:
    done: Done = request.getfixturevalue(job_name)
    job = done.job
    jpeg = picture(_get(job["poster_url"], "image/jpeg"))
    webp = picture(_get(job["poster_url"].replace("poster.jpg", "poster.webp"), "image/webp"))
    assert jpeg.shape == webp.shape == (360, 640)  # the output's size (under the 1280 cap)
    frames = output_frames(done.video, 640, 360)
    content = frames[-1][1]  # long after the fade: the pattern at full strength
    assert jpeg.mean() > 0.95 * content.mean() and jpeg.std() > 0.95 * content.std(), (jpeg.mean(), content.mean())
    # It is the output's frame at the poster's time: in the window, the fade at least 95 % through.
    at = _services().jobs.get(job["job_id"])["poster_time"]
    assert FADE_END - 0.05 * FADE <= float(at) < 6.0
    index = displayed_index(frames, float(at))
    assert best_match(jpeg, frames, index) == index and mse(jpeg, frames[index][1]) < 30
    assert mse(webp, frames[index][1]) < 30


@pytest.mark.parametrize("job_name", ["stream_job", "mp4_job"])
def test_the_storyboard_covers_the_video_with_the_frames_of_each_instant(
        job_name: str, request: pytest.FixtureRequest) -> None:
    done: Done = request.getfixturevalue(job_name)
    vtt_url = done.job["storyboard_url"]
    resp = requests.get(vtt_url, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/vtt"
    cues = parse_vtt(resp.text)
    # Every second (a 10 s video), back to back from 0 to the end, in sheets of several chunks.
    assert [c.start for c in cues] == [float(s) for s in range(10)]
    assert all(a.end == b.start for a, b in zip(cues, cues[1:])) and cues[-1].end == pytest.approx(SECONDS, abs=0.05)
    # One sheet per chunk (each holds at least one instant): each chunk drew its own tiles.
    chunks = [name for name in done.job["parts"] if name.startswith("v")]
    assert len(chunks) >= 3 and {c.sheet for c in cues} == {f"storyboard/{name}-0.jpg" for name in chunks}
    sheets = {name: _get(urljoin(vtt_url, name), "image/jpeg") for name in {c.sheet for c in cues}}
    width, height = cues[0].box[2:]
    assert (width, height) == (256, 144)
    frames = output_frames(done.video, width, height)
    for cue in cues:
        tile = picture(sheets[cue.sheet], cue.box)
        index = displayed_index(frames, cue.start)
        assert best_match(tile, frames, index) == index, cue
        assert mse(tile, frames[index][1]) < 40, cue


def _thumbnail(stack: Stack, job_id: str, fmt: str = "jpg", **params: Any) -> requests.Response:
    return requests.get(f"{stack.api_url}/jobs/{job_id}/thumbnail.{fmt}", params=params,
                        headers={"X-Api-Key": stack.api_key}, allow_redirects=False, timeout=60)


@pytest.mark.parametrize(("job_name", "fmt", "content_type"), [
    ("stream_job", "jpg", "image/jpeg"), ("stream_job", "webp", "image/webp"), ("mp4_job", "jpg", "image/jpeg")])
def test_a_thumbnail_is_the_frame_at_the_time_asked_at_the_width_asked_and_is_cached(
        stack: Stack, job_name: str, fmt: str, content_type: str, request: pytest.FixtureRequest) -> None:
    done: Done = request.getfixturevalue(job_name)
    job = done.job
    first = _thumbnail(stack, job["job_id"], fmt, time="7.3", width="320")
    assert first.status_code == 302, first.text
    location = first.headers["Location"]
    assert "/play/" in location and location.endswith(f"/thumbs/t7300_w320.{fmt}")
    assert first.json()["cached"] is False and first.json()["height"] == 180
    image = picture(_get(location, content_type))
    assert image.shape == (180, 320)
    frames = output_frames(done.video, 320, 180)
    index = displayed_index(frames, 7.3)
    assert best_match(image, frames, index) == index and mse(image, frames[index][1]) < 30
    # The second request decodes nothing: the object made by the first is there, unchanged.
    key = location.split("/play/", 1)[1].split("/", 2)[2]
    stored = _services().storage.head(stack.settings.output_bucket, f"outputs/{job['job_id']}/stream/{key}")
    again = _thumbnail(stack, job["job_id"], fmt, time="7.3", width="320")
    assert again.status_code == 302 and again.json()["cached"] is True
    assert again.headers["Location"].endswith(location.rsplit("/", 2)[-2] + "/" + location.rsplit("/", 1)[-1])
    later = _services().storage.head(stack.settings.output_bucket, f"outputs/{job['job_id']}/stream/{key}")
    assert later["LastModified"] == stored["LastModified"] and later["ETag"] == stored["ETag"]


def test_a_thumbnail_defaults_to_the_poster_at_the_output_width_and_answers_json_when_asked(
        stack: Stack, stream_job: Done) -> None:
    job = stream_job.job
    resp = requests.get(f"{stack.api_url}/jobs/{job['job_id']}/thumbnail.jpg", timeout=60,
                        headers={"X-Api-Key": stack.api_key, "Accept": "application/json"})
    assert resp.status_code == 200, resp.text
    facts = resp.json()
    poster = float(_services().jobs.get(job["job_id"])["poster_time"])
    assert facts["time"] == round(poster, 3) and (facts["width"], facts["height"]) == (640, 360)
    thumb, poster_image = picture(_get(facts["url"], "image/jpeg")), picture(_get(job["poster_url"], "image/jpeg"))
    assert mse(thumb, poster_image) < 10  # the same frame, made twice (two JPEG encodes)


@pytest.mark.parametrize(("params", "message"), [
    ({"time": "-1"}, "'time'"), ({"time": "10.5"}, "'time'"), ({"time": str(SECONDS)}, "'time'"),
    ({"time": "abc"}, "'time'"), ({"time": "nan"}, "'time'"), ({"time": "inf"}, "'time'"),
    ({"width": "0"}, "'width'"), ({"width": "15"}, "'width'"), ({"width": "1921"}, "'width'"),
    ({"width": "320.5"}, "'width'"), ({"width": "-320"}, "'width'"), ({"t": "5"}, "unknown parameter 't'"),
])
def test_bad_thumbnail_requests_get_a_clear_400(stack: Stack, stream_job: Done, params: dict[str, str],
                                                message: str) -> None:
    resp = _thumbnail(stack, stream_job.job["job_id"], **params)
    assert resp.status_code == 400 and message in resp.json()["error"], resp.text


def test_a_thumbnail_of_a_job_not_done_is_409_and_of_someone_elses_404(stack: Stack, clip: Path) -> None:
    client = Client(stack.api_url, stack.api_key)
    waiting = client.create_job(clip, STREAM)  # never uploaded: awaiting_upload
    resp = _thumbnail(stack, waiting["job_id"], time="1")
    assert resp.status_code == 409 and "awaiting_upload" in resp.json()["error"]
    other = _services().keys.create("someone-else")
    resp = requests.get(f"{stack.api_url}/jobs/{waiting['job_id']}/thumbnail.jpg", headers={"X-Api-Key": other},
                        timeout=10)
    assert resp.status_code == 404


def test_the_job_view_has_no_poster_or_storyboard_before_they_exist(stack: Stack, clip: Path) -> None:
    client = Client(stack.api_url, stack.api_key)
    waiting = client.create_job(clip, STREAM)
    view = client.job(waiting["job_id"])
    assert view["poster_url"] is None and view["storyboard_url"] is None
