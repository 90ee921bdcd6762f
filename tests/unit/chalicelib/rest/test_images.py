"""The thumbnail route's logic and the job view's image links, on fake stores (no decode: a request
that would need one fails loudly, so the cached path is proven to make none)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model import playback
from chalicelib.model.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.model.kinds import JobState
from chalicelib.model.limits import Principal
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from chalicelib.model.settings import Settings
from chalicelib.rest import images
from chalicelib.rest.views import image_view, signed_url
from tests.support.fakes import Fakes, fake_services
from tests.support.probes import make_probe

SECRET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
ALICE = Principal(owner="alice", key_id="k1")
SETTINGS = Settings(playback_base_url="https://play.test", playback_secret=SECRET)


def _fakes(settings: Settings = SETTINGS, state: str = JobState.DONE, **fields: Any) -> tuple[Fakes, str]:
    fakes = fake_services(settings)
    plan = plan_chunks(make_probe(tuple(i / 25 for i in range(250)), last_frame=0.04, size=(1280, 720)),
                       EncodeOptions())
    job_id = fakes.jobs.create({"owner": "alice", "options": EncodeOptions().to_dict(), "plan": plan.to_dict()})
    fakes.jobs.records[job_id].update(state=state, **fields)
    return fakes, job_id


def _cache(fakes: Fakes, job_id: str, name: str, tmp_path: Path) -> None:
    image = tmp_path / "cached.jpg"
    image.write_bytes(b"\xff\xd8 an image made earlier")
    fakes.storage.objects[(fakes.services.settings.output_bucket, playback.stream_prefix(job_id) + name)] = image


def test_a_cached_thumbnail_is_answered_with_its_token_url_and_no_decode(tmp_path: Path) -> None:
    fakes, job_id = _fakes(poster_time="4.267")
    _cache(fakes, job_id, "thumbs/t7300_w320.jpg", tmp_path)
    made = images.thumbnail(fakes.services, ALICE, job_id, "jpg", {"time": "7.3", "width": "320"})
    assert made["cached"] is True and (made["width"], made["height"], made["time"]) == (320, 180, 7.3)
    token = made["url"].split("/")[3]
    assert made["url"] == f"https://play.test/{token}/{job_id}/thumbs/t7300_w320.jpg"
    assert playback.resolve(SECRET.encode(), made["url"].removeprefix("https://play.test"), time.time()) == \
        f"outputs/{job_id}/stream/thumbs/t7300_w320.jpg"
    assert fakes.storage.blobs == {}  # nothing written


def test_the_defaults_are_the_poster_time_and_the_output_width(tmp_path: Path) -> None:
    fakes, job_id = _fakes(poster_time="4.267")
    _cache(fakes, job_id, "thumbs/t4267_w1280.webp", tmp_path)
    made = images.thumbnail(fakes.services, ALICE, job_id, "webp", {})
    assert (made["time"], made["width"], made["height"], made["format"]) == (4.267, 1280, 720, "webp")


def test_without_a_playback_base_the_url_is_a_presigned_get(tmp_path: Path) -> None:
    fakes, job_id = _fakes(Settings(), poster_time="0.0")
    _cache(fakes, job_id, "thumbs/t0_w1280.jpg", tmp_path)
    assert images.thumbnail(fakes.services, ALICE, job_id, "jpg", {})["url"] == str(tmp_path / "cached.jpg")
    assert signed_url(fakes.services, job_id, playback.POSTER) is None


def test_an_uncached_thumbnail_is_made_from_the_output_segments() -> None:
    fakes, job_id = _fakes()
    # No segment in the fake bucket: the only way to answer is to read one, and that fails.
    with pytest.raises(NotFoundError):
        images.thumbnail(fakes.services, ALICE, job_id, "jpg", {"time": "3"})


@pytest.mark.parametrize(("params", "message"), [
    ({"time": "-0.001"}, "'time'"), ({"time": "10"}, "'time'"), ({"time": "1e400"}, "'time'"),
    ({"time": "0x10"}, "'time'"), ({"width": "1921"}, "'width'"), ({"width": "١٢٨"}, "'width'"),
    ({"width": "+320"}, "'width'"), ({"size": "1"}, "unknown parameter 'size'"),
])
def test_bad_parameters_are_400_with_the_parameter_named(params: dict[str, str], message: str) -> None:
    fakes, job_id = _fakes()
    with pytest.raises(ValidationError, match=message):
        images.thumbnail(fakes.services, ALICE, job_id, "jpg", params)


def test_a_job_not_done_is_409_and_another_owners_404() -> None:
    fakes, job_id = _fakes(state=JobState.ENCODING)
    with pytest.raises(ConflictError, match="encoding"):
        images.thumbnail(fakes.services, ALICE, job_id, "jpg", {})
    with pytest.raises(NotFoundError):
        images.thumbnail(fakes.services, Principal(owner="bob", key_id="k2"), job_id, "jpg", {})
    with pytest.raises(ValidationError, match="jpg or webp"):
        images.thumbnail(fakes.services, ALICE, job_id, "png", {})


def test_the_view_links_the_poster_once_written_and_the_storyboard_once_done() -> None:
    fakes, job_id = _fakes(state=JobState.ENCODING)
    job = fakes.jobs.get(job_id)
    assert image_view(fakes.services, job) == {"poster_url": None, "storyboard_url": None}
    poster = image_view(fakes.services, {**job, "poster_time": "4.2"})
    assert poster["poster_url"].endswith(f"/{job_id}/poster.jpg") and poster["storyboard_url"] is None
    done = {**job, "state": JobState.DONE, "poster_time": "4.2", "output": {"storyboard": {"interval": 1}}}
    assert image_view(fakes.services, done)["storyboard_url"].endswith(f"/{job_id}/storyboard.vtt")
    failed = {**job, "state": JobState.FAILED, "poster_time": "4.2"}
    assert image_view(fakes.services, failed) == {"poster_url": None, "storyboard_url": None}
