"""The /webhooks routes and the long-poll parameters in process, on fake stores."""
from __future__ import annotations

import pytest
from chalice.test import Client

from tests.support.fakes import Fakes
from tests.unit.test_app import call, new_job


def test_create_shows_the_secret_once(client: Client, fakes: Fakes) -> None:
    status, created = call(client, fakes, "POST", "/webhooks", {"url": "https://h.example/in", "events": ["job.done"]})
    assert status == 201 and created["secret"].startswith("whsec_") and created["events"] == ["job.done"]
    status, listed = call(client, fakes, "GET", "/webhooks")
    assert status == 200 and [e["id"] for e in listed["webhooks"]] == [created["id"]]
    assert "secret" not in listed["webhooks"][0]
    status, one = call(client, fakes, "GET", f"/webhooks/{created['id']}")
    assert status == 200 and "secret" not in one


@pytest.mark.parametrize(("body", "error"), [
    ({}, "'url'"), ({"url": "http://127.0.0.1/x"}, "loopback"), ({"url": "http://169.254.169.254/"}, "link-local"),
    ({"url": "https://h.example/", "events": ["job.nope"]}, "job.nope"), ([1], "JSON object"),
    ({"url": "https://h.example/", "description": 5}, "description"),
])
def test_create_refuses_bad_input(client: Client, fakes: Fakes, body: object, error: str) -> None:
    status, answer = call(client, fakes, "POST", "/webhooks", body)
    assert status == 400 and error in answer["error"]


def test_update_rotate_delete(client: Client, fakes: Fakes) -> None:
    _, created = call(client, fakes, "POST", "/webhooks", {"url": "https://h.example/in"})
    path = f"/webhooks/{created['id']}"
    status, updated = call(client, fakes, "PATCH", path, {"enabled": False, "events": ["job.failed"]})
    assert status == 200 and updated["state"] == "disabled" and updated["events"] == ["job.failed"]
    assert call(client, fakes, "PATCH", path, {"enabled": "yes"})[0] == 400
    status, rotated = call(client, fakes, "POST", f"{path}/rotate")
    assert status == 200 and rotated["secret"] != created["secret"] and rotated["previous_secret_expires_at"]
    assert call(client, fakes, "DELETE", path)[0] == 204
    assert call(client, fakes, "GET", path)[0] == 404


def test_someone_elses_endpoint_is_not_found(client: Client, fakes: Fakes) -> None:
    _, created = call(client, fakes, "POST", "/webhooks", {"url": "https://h.example/in"})
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate"), ("GET", "/deliveries"),
                           ("POST", "/deliveries/dlv_abc/redeliver")):
        status, _ = call(client, fakes, method, f"/webhooks/{created['id']}{suffix}", {}, owner="mallory")
        assert status == 404, (method, suffix)


def test_deliveries_list_and_redeliver(client: Client, fakes: Fakes) -> None:
    _, created = call(client, fakes, "POST", "/webhooks", {"url": "https://h.example/in"})
    fakes.webhooks.delivered[created["id"]] = [
        {"id": "dlv_1", "msg": "msg_1-0", "type": "job.done", "job": "j1", "status": "failed", "attempts": 9,
         "last_status": 500, "last_response": "oops", "next_attempt_at": None}]
    status, listed = call(client, fakes, "GET", f"/webhooks/{created['id']}/deliveries?limit=5")
    (delivery,) = listed["deliveries"]
    assert status == 200 and delivery["event_id"] == "msg_1-0" and delivery["job_id"] == "j1"
    assert delivery["last_status"] == 500 and delivery["attempts"] == 9
    status, again = call(client, fakes, "POST", f"/webhooks/{created['id']}/deliveries/dlv_1/redeliver")
    assert status == 200 and again["status"] == "pending"
    assert call(client, fakes, "GET", f"/webhooks/{created['id']}/deliveries?limit=x")[0] == 400


@pytest.mark.parametrize("query", ["wait=26", "wait=-1", "wait=x", "wait=5&since=v"])
def test_long_poll_parameters_are_checked(client: Client, fakes: Fakes, query: str) -> None:
    job_id = new_job(client, fakes)
    status, answer = call(client, fakes, "GET", f"/jobs/{job_id}?{query}")
    assert status == 400 and "wait" in answer["error"]


def test_a_job_carries_its_version(client: Client, fakes: Fakes) -> None:
    job_id = new_job(client, fakes)
    _, before = call(client, fakes, "GET", f"/jobs/{job_id}")
    fakes.jobs.update(job_id, filename="b.mp4")
    status, after = call(client, fakes, "GET", f"/jobs/{job_id}?wait=1&since={before['version']}")
    assert status == 200 and after["version"] == before["version"] + 1
