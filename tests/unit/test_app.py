"""The Chalice app in process (``chalice.test.Client``) on fake stores: routes, status codes,
authentication and the upload-event handler. The same routes run against real servers in
tests/integration."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.model.errors import StorageError, StorageRejectedError
from chalicelib.model.kinds import JobState, TaskKind
from tests.support.fakes import Fakes
from tests.support.media import MEDIA


def call(client: Client, fakes: Fakes, method: str, path: str, body: Any = None, owner: str = "alice",
         key: str | None = None) -> tuple[int, Any]:
    token = key if key is not None else fakes.keys.create(owner)
    headers = {"X-Api-Key": token, "Content-Type": "application/json"}
    payload = json.dumps(body).encode() if body is not None else b""
    resp = client.http.request(method, path, headers=headers, body=payload)
    return resp.status_code, (json.loads(resp.body) if resp.body else None)


def new_job(client: Client, fakes: Fakes, owner: str = "alice", name: str = "clip.mp4", size: int = 100) -> str:
    status, body = call(client, fakes, "POST", "/jobs", {"filename": name, "size": size, "content_type": "video/mp4"},
                        owner=owner)
    assert status == 201, body
    return str(body["job_id"])


def test_every_route_but_health_needs_a_key(client: Client, fakes: Fakes) -> None:
    for method, path in (("GET", "/jobs"), ("POST", "/jobs"), ("GET", "/jobs/abc"), ("POST", "/jobs/delete")):
        status, body = call(client, fakes, method, path, {}, key="ffk_nope_nope")
        assert status == 401 and "API key" in body["error"]
    assert client.http.get("/health").status_code == 200


def test_create_validates_and_presigns_exactly_the_declared_size(client: Client, fakes: Fakes) -> None:
    status, body = call(client, fakes, "POST", "/jobs", {"filename": "a.mp4", "size": 5, "content_type": "video/mp4",
                                                         "options": {"crf": 30}})
    assert status == 201 and body["state"] == "awaiting_upload" and body["options"]["crf"] == 30
    assert body["upload"]["fields"]["x-size-range"] == "5-5" and body["job_id"] in body["key"]
    for bad, words in (({"filename": "a.txt", "size": 5, "content_type": "video/mp4"}, "not a video file type"),
                       ({"filename": "a.mp4", "size": 0, "content_type": "video/mp4"}, "size must be"),
                       ({"filename": "a.mp4", "size": 5, "content_type": "video/mp4", "options": {"crf": 99}},
                        "crf must be between"),
                       ({"size": 5}, "'filename' is required")):
        status, body = call(client, fakes, "POST", "/jobs", bad)
        assert status == 400 and words in body["error"], body
    resp = client.http.post("/jobs", headers={"X-Api-Key": fakes.keys.create("alice"),
                                              "Content-Type": "application/json"}, body=b"{nope")
    assert resp.status_code == 400 and "JSON" in json.loads(resp.body)["error"]


def test_another_owners_job_is_not_found_on_every_route(client: Client, fakes: Fakes) -> None:
    job_id = new_job(client, fakes, owner="alice")
    for method, path in (("GET", f"/jobs/{job_id}"), ("DELETE", f"/jobs/{job_id}"),
                         ("POST", f"/jobs/{job_id}/cancel"), ("POST", f"/jobs/{job_id}/multipart")):
        status, _ = call(client, fakes, method, path, owner="mallory")
        assert status == 404, (method, path)
    assert call(client, fakes, "POST", "/jobs/delete", {"job_ids": [job_id]}, owner="mallory")[1] == {
        "deleted": [], "not_found": [job_id]}
    assert fakes.jobs.state(job_id) == JobState.AWAITING_UPLOAD


def test_state_conflicts_are_409_and_limits_429(client: Client, fakes: Fakes) -> None:
    job_id = new_job(client, fakes)
    assert call(client, fakes, "POST", f"/jobs/{job_id}/cancel")[0] == 200
    status, body = call(client, fakes, "POST", f"/jobs/{job_id}/cancel")
    assert status == 409 and "already cancelled" in body["error"]
    assert call(client, fakes, "POST", f"/jobs/{job_id}/multipart")[0] == 409
    key = fakes.keys.create("busy", limits={"max_active_jobs": 1})
    body = {"filename": "a.mp4", "size": 5, "content_type": "video/mp4"}
    assert call(client, fakes, "POST", "/jobs", body, key=key)[0] == 201
    status, answer = call(client, fakes, "POST", "/jobs", body, key=key)
    assert status == 429 and "1 jobs in progress" in answer["error"]


def test_storage_errors_map_to_their_status_without_internals(client: Client, fakes: Fakes) -> None:
    job_id = new_job(client, fakes)
    status, body = call(client, fakes, "GET", f"/jobs/{job_id}/multipart/u/parts/0")
    assert status == 400 and "part number" in body["error"]
    fakes.storage.parts["u"] = [{"PartNumber": 1, "ETag": "x", "Size": 100}]
    fakes.storage.fail_with, fakes.storage.fail_only = StorageRejectedError("InvalidPart"), "complete_multipart"
    status, body = call(client, fakes, "POST", f"/jobs/{job_id}/multipart/u/complete",
                        {"parts": [{"PartNumber": 1, "ETag": "x"}]})
    assert status == 400 and "could not be completed" in body["error"]  # S3 refused what the client sent
    fakes.storage.fail_only = None
    fakes.storage.fail_with = StorageError("create multipart upload: endpoint unreachable")
    assert call(client, fakes, "POST", f"/jobs/{job_id}/multipart")[0] == 502  # S3 unwell: a bad gateway
    fakes.storage.fail_with = RuntimeError("secret internals")
    status, body = call(client, fakes, "POST", f"/jobs/{job_id}/multipart")
    assert status == 500 and body == {"error": "internal error"}


def test_listing_pages_filters_and_bulk_delete(client: Client, fakes: Fakes) -> None:
    ids = [new_job(client, fakes, name=f"{'cat' if i % 2 else 'dog'}-{i}.mp4") for i in range(5)]
    new_job(client, fakes, owner="bob")
    status, page = call(client, fakes, "GET", "/jobs?limit=2")
    assert status == 200 and [j["job_id"] for j in page["jobs"]] == ids[::-1][:2] and page["next"]
    status, rest = call(client, fakes, "GET", f"/jobs?limit=10&before={page['next']}")
    assert [j["job_id"] for j in rest["jobs"]] == ids[::-1][2:] and rest["next"] is None
    cats = call(client, fakes, "GET", "/jobs?q=CAT&order=oldest")[1]["jobs"]
    assert [j["filename"] for j in cats] == ["cat-1.mp4", "cat-3.mp4"]
    assert call(client, fakes, "GET", "/jobs?state=bogus")[0] == 400
    status, result = call(client, fakes, "POST", "/jobs/delete", {"job_ids": ids[:3] + ["f" * 32]})
    assert status == 200 and result == {"deleted": ids[:3], "not_found": ["f" * 32]}
    assert set(fakes.jobs.records) - set(ids[3:]) == {j for j, r in fakes.jobs.records.items() if r["owner"] == "bob"}


def _upload_event(client: Client, fakes: Fakes, job_id: str, source: Path) -> None:
    key = fakes.jobs.get(job_id)["source_key"]
    fakes.storage.objects[(fakes.services.settings.upload_bucket, key)] = source
    record = {"eventName": "ObjectCreated:Post",
              "s3": {"bucket": {"name": fakes.services.settings.upload_bucket}, "object": {"key": key}}}
    event = client.events.generate_sqs_event(message_bodies=[json.dumps({"Records": [record]})],
                                             queue_name=fakes.services.settings.upload_queue)
    client.lambda_.invoke("on_upload", event)


def test_upload_event_probes_plans_and_enqueues_every_part(client: Client, fakes: Fakes) -> None:
    """The chunking Lambda in process: the real sandboxed probe on a real file, fake stores."""
    source = MEDIA / "sample_with_increasing_timestamps_320w_240h.mp4"
    job_id = new_job(client, fakes, name="sample.mp4", size=source.stat().st_size)
    _upload_event(client, fakes, job_id, source)
    job = fakes.jobs.get(job_id)
    assert job["state"] == JobState.ENCODING, job.get("error")
    kinds = [t.payload["kind"] for t in fakes.jobs.enqueued]
    assert kinds[0] == TaskKind.AUDIO and kinds.count(TaskKind.CHUNK) == len(job["plan"]["chunks"]) > 1
    assert sum(c["frame_count"] for c in job["plan"]["chunks"]) == 932  # the file's decoded frames
    assert job["probe"]["video"]["width"] == 320 and job["probe"]["audio"]["sample_rate"] == 48000


def test_upload_event_fails_a_non_video_with_a_plain_reason(client: Client, fakes: Fakes, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    job_id = new_job(client, fakes, size=text.stat().st_size)
    _upload_event(client, fakes, job_id, text)
    job = fakes.jobs.get(job_id)
    assert job["state"] == JobState.FAILED and "not a video" in job["error"] and fakes.jobs.enqueued == []


def test_multipart_is_bounded_by_the_declared_size(client: Client, fakes: Fakes) -> None:
    key = fakes.keys.create("alice")
    part = fakes.services.settings.part_size
    size = 2 * part + 10
    status, job = call(client, fakes, "POST", "/jobs", {"filename": "big.mp4", "size": size,
                                                        "content_type": "video/mp4"}, key=key)
    job_id = job["job_id"]
    status, upload = call(client, fakes, "POST", f"/jobs/{job_id}/multipart", key=key)
    assert status == 201 and upload["parts"] == 3 and upload["part_size"] == part
    upload_id = upload["upload_id"]
    lengths = [call(client, fakes, "GET", f"/jobs/{job_id}/multipart/{upload_id}/parts/{n}", key=key)[1]
               for n in (1, 2, 3)]
    assert [p["content_length"] for p in lengths] == [part, part, 10]
    assert all(f"length={p['content_length']}" in p["url"] for p in lengths)  # signed into the URL
    status, body = call(client, fakes, "GET", f"/jobs/{job_id}/multipart/{upload_id}/parts/4", key=key)
    assert status == 400 and "no part 4" in body["error"]
    every = {"parts": [{"PartNumber": n, "ETag": "e"} for n in (1, 2, 3)]}
    fakes.storage.parts[upload_id] = [{"PartNumber": 1, "ETag": "e", "Size": part},
                                      {"PartNumber": 2, "ETag": "e", "Size": part}]
    status, body = call(client, fakes, "POST", f"/jobs/{job_id}/multipart/{upload_id}/complete", every, key=key)
    assert status == 400 and "upload the missing ones" in body["error"]
    fakes.storage.parts[upload_id].append({"PartNumber": 3, "ETag": "e", "Size": 11})
    status, body = call(client, fakes, "POST", f"/jobs/{job_id}/multipart/{upload_id}/complete", every, key=key)
    assert status == 400 and f"add up to {size + 1} bytes" in body["error"]
    fakes.storage.parts[upload_id][2]["Size"] = 10
    assert call(client, fakes, "POST", f"/jobs/{job_id}/multipart/{upload_id}/complete", every, key=key)[0] == 200


def test_a_job_past_its_upload_window_takes_no_upload(client: Client, fakes: Fakes) -> None:
    job_id = new_job(client, fakes)
    fakes.jobs.records[job_id]["created_at"] -= fakes.services.settings.upload_window_seconds + 1
    status, body = call(client, fakes, "POST", f"/jobs/{job_id}/multipart")
    assert status == 409 and "upload window" in body["error"]
    _upload_event(client, fakes, job_id, MEDIA / "sample.mp4")
    job = fakes.jobs.get(job_id)
    assert job["state"] == JobState.FAILED and "upload window closed" in job["error"]
    assert (fakes.services.settings.upload_bucket, job["source_key"]) in fakes.storage.deleted


def test_an_upload_of_another_size_than_declared_is_rejected_and_deleted(client: Client, fakes: Fakes) -> None:
    job_id = new_job(client, fakes)  # declared 100 bytes
    _upload_event(client, fakes, job_id, MEDIA / "sample.mp4")
    job = fakes.jobs.get(job_id)
    assert job["state"] == JobState.FAILED and "but the job was created for 100" in job["error"]
    assert (fakes.services.settings.upload_bucket, job["source_key"]) in fakes.storage.deleted


def test_the_daily_compute_quota_refuses_before_upload_and_at_planning(client: Client, fakes: Fakes) -> None:
    source = MEDIA / "sample_with_increasing_timestamps_320w_240h.mp4"  # 320x240, 15.5 s: 1.19e6 px·s
    key = fakes.keys.create("thrifty", limits={"max_pixel_seconds_per_day": 2.0e6})
    declared = {"filename": "a.mp4", "size": source.stat().st_size, "content_type": "video/mp4",
                "duration": 15.5, "width": 320, "height": 240}
    status, body = call(client, fakes, "POST", "/jobs", declared, key=key)
    assert status == 201
    _upload_event(client, fakes, body["job_id"], source)
    assert fakes.jobs.get(body["job_id"])["state"] == JobState.ENCODING
    assert fakes.usage.used("thrifty") == pytest.approx(320 * 240 * 15.5, rel=0.01)
    status, refused = call(client, fakes, "POST", "/jobs", declared, key=key)  # 1.19e6 more would not fit
    assert status == 429 and "daily quota" in refused["error"]
    undeclared = {k: v for k, v in declared.items() if k not in ("duration", "width", "height")}
    status, body = call(client, fakes, "POST", "/jobs", undeclared, key=key)
    assert status == 201  # nothing declared: the chunker charges the real figure
    _upload_event(client, fakes, body["job_id"], source)
    job = fakes.jobs.get(body["job_id"])
    assert job["state"] == JobState.FAILED and "pixel-seconds" in job["error"] and "00:00 UTC" in job["error"]


def test_the_admin_lambda_issues_lists_and_revokes_keys(client: Client, fakes: Fakes) -> None:
    def invoke(event: object) -> dict[str, object]:
        return dict(client.lambda_.invoke("admin", event).payload)

    created = invoke({"action": "create_key", "owner": "ops", "name": "laptop", "limits": {"max_active_jobs": 2}})
    assert str(created["key"]).startswith("ffk_") and fakes.keys.verify(str(created["key"])) is not None
    assert invoke({"action": "list_keys"})["keys"] == [{"id": created["id"], "owner": "ops"}]
    assert invoke({"action": "revoke_key", "key_id": created["id"]}) == {"revoked": created["id"]}
    assert fakes.keys.verify(str(created["key"])) is None
    assert "owner" in str(invoke({"action": "create_key", "owner": ""})["error"])
    assert "unknown action" in str(invoke({"action": "drop_tables"})["error"])
