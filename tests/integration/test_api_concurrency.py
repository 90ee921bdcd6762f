"""The local API under concurrent load: every response belongs to its own request.

The local server answers requests in threads; a shared ``app.current_request`` once gave one
request another's body, owner or URL parameters. Hundreds of mixed requests from several owners
run at once here, and every answer is checked against what its own request asked.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from devstack.stack import Stack

OWNERS = ("conc-a", "conc-b", "conc-c", "conc-d")
# ~700 requests from as many threads as before (240 scenarios took 52 s of CI): 4 scenarios per
# thread still keep every thread's keep-alive session busy with requests of several owners.
SCENARIOS = 96
THREADS = 24


def _services() -> Any:
    from chalicelib.stores.services import get_services

    return get_services()


class Caller:
    """One owner's HTTP calls, a keep-alive session per thread (as browsers keep connections)."""

    def __init__(self, api: str, key: str) -> None:
        self.api, self.key = api, key
        self._local = threading.local()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session.request(method, self.api + path, headers={"X-Api-Key": self.key}, timeout=60, **kwargs)


def _scenario(stack: Stack, callers: dict[str, Caller], i: int) -> dict[str, Any]:
    """Create → get → list → multipart → sign a part → complete or cancel → get, checking each answer."""
    owner = OWNERS[i % len(OWNERS)]
    api = callers[owner]
    name, size = f"{owner}-{i:04d}.mp4", 1000 + i
    created = api.call("POST", "/jobs", json={"filename": name, "size": size, "content_type": "video/mp4",
                                              "options": {"crf": 18 + i % 10}})
    assert created.status_code == 201, created.text
    job = created.json()
    job_id = job["job_id"]
    assert job_id in job["key"] and job["options"]["crf"] == 18 + i % 10

    got = api.call("GET", f"/jobs/{job_id}").json()
    assert (got["job_id"], got["filename"], got["size"], got["options"]["crf"]) == (job_id, name, size, 18 + i % 10)

    listed = api.call("GET", "/jobs?limit=100").json()["jobs"]
    assert all(j["filename"].startswith(f"{owner}-") for j in listed), [j["filename"] for j in listed]

    upload = api.call("POST", f"/jobs/{job_id}/multipart")
    assert upload.status_code == 201, upload.text
    upload_id = upload.json()["upload_id"]
    assert upload.json()["key"] == job["key"]
    number = 1  # the file is one part; part numbers past its size are refused
    signed = api.call("GET", f"/jobs/{job_id}/multipart/{upload_id}/parts/{number}").json()["url"]
    url = urlparse(signed)
    query = parse_qs(url.query)
    assert url.path.endswith(job["key"]) and query["uploadId"] == [upload_id] and query["partNumber"] == [str(number)]

    completed = i % 5 == 0
    if completed:
        # A real part (not a video): the job must end failed with its own reason.
        put = requests.put(signed, data=name.encode().ljust(size, b"."), timeout=60)
        assert put.status_code == 200, put.text
        parts = api.call("GET", f"/jobs/{job_id}/multipart/{upload_id}").json()["parts"]
        assert [(p["PartNumber"], p["Size"]) for p in parts] == [(number, size)]
        done = api.call("POST", f"/jobs/{job_id}/multipart/{upload_id}/complete",
                        json={"parts": [{"PartNumber": number, "ETag": put.headers["ETag"]}]})
        assert done.status_code == 200 and done.json()["key"] == job["key"], done.text
    else:
        cancelled = api.call("POST", f"/jobs/{job_id}/cancel").json()
        assert (cancelled["job_id"], cancelled["state"], cancelled["filename"]) == (job_id, "cancelled", name)

    again = api.call("GET", f"/jobs/{job_id}").json()
    assert (again["job_id"], again["filename"], again["size"]) == (job_id, name, size)
    return {"owner": owner, "job_id": job_id, "name": name, "key": job["key"], "completed": completed}


def test_hundreds_of_concurrent_mixed_requests_never_mix_up(stack: Stack) -> None:
    callers = {owner: Caller(stack.api_url, _services().keys.create(owner, "concurrency")) for owner in OWNERS}
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda i: _scenario(stack, callers, i), range(SCENARIOS)))

    # Every owner sees exactly its own jobs, each with its own file name and key.
    for owner in OWNERS:
        mine = {r["job_id"]: r for r in results if r["owner"] == owner}
        listed = callers[owner].call("GET", "/jobs?limit=100").json()["jobs"]
        assert {j["job_id"] for j in listed} == set(mine)
        for j in listed:
            assert j["filename"] == mine[j["job_id"]]["name"]

    # The uploaded ones went through the chunker: each failed as a non-video of its own size, and
    # its own source (every version of it) was deleted.
    uploaded = [r for r in results if r["completed"]]
    deadline = time.monotonic() + 120
    pending = {r["job_id"]: r for r in uploaded}
    while pending and time.monotonic() < deadline:
        for job_id, r in list(pending.items()):
            view = callers[r["owner"]].call("GET", f"/jobs/{job_id}").json()
            if view["state"] in ("done", "failed", "cancelled"):
                # Its own bytes arrived: another job's would have the wrong size ("but the job was created for").
                assert view["state"] == "failed" and view["filename"] == r["name"], view
                assert "created for" not in view["error"] and "video" in view["error"], view
                assert view["size"] == 1000 + int(r["name"][-8:-4])
                del pending[job_id]
        time.sleep(0.5)
    assert not pending, f"{len(pending)} uploaded jobs never finished"
    s3 = _services().storage.s3
    for r in uploaded:
        versions = s3.list_object_versions(Bucket=stack.settings.upload_bucket, Prefix=r["key"])
        assert not versions.get("Versions") and not versions.get("DeleteMarkers"), r["key"]

    for owner in OWNERS:
        ids = [r["job_id"] for r in results if r["owner"] == owner]
        for start in range(0, len(ids), 100):
            resp = callers[owner].call("POST", "/jobs/delete", json={"job_ids": ids[start:start + 100]})
            assert resp.status_code == 200 and resp.json()["not_found"] == [], resp.text


def test_listing_filters_pages_and_bulk_delete(stack: Stack) -> None:
    api = Caller(stack.api_url, _services().keys.create("lister", "listing", {"max_active_jobs": 500}))
    other = Caller(stack.api_url, _services().keys.create("lister-other", "listing"))
    names = [f"{'holiday' if i % 3 == 0 else 'work'}-{i:03d}.mp4" for i in range(120)]
    ids = []
    for i, name in enumerate(names):
        ids.append(api.call("POST", "/jobs", json={"filename": name, "size": 10 + i,
                                                   "content_type": "video/mp4"}).json()["job_id"])
    for job_id in ids[:30]:
        assert api.call("POST", f"/jobs/{job_id}/cancel").status_code == 200

    def walk(query: str) -> list[dict[str, Any]]:
        seen, cursor = [], ""
        while True:
            page = api.call("GET", f"/jobs?limit=25{query}{cursor}").json()
            seen += page["jobs"]
            if not page["next"]:
                return seen
            cursor = f"&before={page['next']}"

    newest = walk("")
    assert [j["job_id"] for j in newest] == ids[::-1]  # all 120, past any first page of 50
    assert [j["job_id"] for j in walk("&order=oldest")] == ids
    holiday = walk("&q=HOLIDAY")
    assert [j["filename"] for j in holiday] == [n for n in names if n.startswith("holiday")][::-1]
    cancelled = walk("&state=cancelled")
    assert {j["job_id"] for j in cancelled} == set(ids[:30])
    both = walk("&state=cancelled,awaiting_upload&q=work&order=oldest")
    assert [j["filename"] for j in both] == [n for n in names if n.startswith("work")]
    awaiting = walk("&state=awaiting_upload")
    assert all(j["upload_expires_at"] > time.time() for j in awaiting) and len(awaiting) == 90
    for bad in ("&state=nope", "&order=sideways", "&limit=x", "&before=x"):
        resp = api.call("GET", f"/jobs?limit=5{bad}")
        assert resp.status_code == 400 and "error" in resp.json()

    # Bulk delete: another owner's ids are "not found" and untouched; unknown ids too.
    assert other.call("POST", "/jobs/delete", json={"job_ids": ids[:5]}).json() == {
        "deleted": [], "not_found": ids[:5]}
    result = api.call("POST", "/jobs/delete", json={"job_ids": ids[:99] + ["0" * 32]}).json()
    assert result == {"deleted": ids[:99], "not_found": ["0" * 32]}
    assert [j["job_id"] for j in walk("")] == ids[99:][::-1]
    for bad in ({}, {"job_ids": []}, {"job_ids": ["a"] * 101}, {"job_ids": [1]}):
        assert api.call("POST", "/jobs/delete", json=bad).status_code == 400
    api.call("POST", "/jobs/delete", json={"job_ids": ids[99:]})
