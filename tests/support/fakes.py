"""In-memory stand-ins for the stores, for fast tests of routes, the chunker and the worker loop.

Each satisfies its ``Protocol`` in ``chalicelib.stores.protocols`` (``make lint`` runs mypy on this
file, so a fake that drifts from its protocol fails the build). They keep only the behaviour the
callers rely on; the real Redis/S3 adapters have their own tests against real servers.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chalicelib.model.errors import LimitExceededError, NotFoundError, StorageRejectedError, ValidationError
from chalicelib.model.kinds import ACTIVE_STATES, JobState, QueueName
from chalicelib.model.limits import Principal
from chalicelib.model.settings import Settings
from chalicelib.model.tasks import ReapedTask, Task, TaskSpec
from chalicelib.model.webhooks import new_secret
from chalicelib.stores.services import Services


class FakePing:
    """A server that always answers."""

    def ping(self, **kwargs: Any) -> Any:
        return True


class FakeQueue:
    """A FIFO with leases and attempts, no expiry."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ready: list[Task] = []
        self.acked: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.released: list[str] = []
        self.max_attempts = 3
        self._ids = itertools.count()

    def push(self, payload: dict[str, Any], *, task_id: str | None = None) -> str:
        task = Task(task_id or f"t{next(self._ids)}", payload, 0, "", self.name)
        self.ready.append(task)
        return task.id

    def pop(self, timeout: float = 1.0) -> Task | None:
        if not self.ready:
            return None
        task = self.ready.pop(0)
        return replace(task, attempt=task.attempt + 1, lease_token=f"lease-{task.id}-{task.attempt + 1}")

    def heartbeat(self, task: Task) -> bool:
        return True

    def ack(self, task: Task) -> bool:
        self.acked.append(task.id)
        return True

    def fail(self, task: Task, error: str) -> ReapedTask | None:
        self.failed.append((task.id, error))
        dead = task.attempt >= self.max_attempts
        if not dead:
            self.ready.append(task)
        return ReapedTask(task.id, task.payload, task.attempt, dead, error, self.name)

    def release(self, task: Task, error: str | None = None) -> ReapedTask | None:
        self.released.append(task.id)
        self.ready.insert(0, replace(task, attempt=task.attempt - 1 if error is None else task.attempt))
        return ReapedTask(task.id, task.payload, task.attempt, False, error, self.name)

    def reap(self) -> list[ReapedTask]:
        return []

    def drop(self, task_ids: list[str], *, include_dead: bool = False) -> int:
        before = len(self.ready)
        self.ready = [t for t in self.ready if t.id not in task_ids]
        return before - len(self.ready)

    def depth(self) -> dict[str, int]:
        return {"ready": len(self.ready), "inflight": 0, "dead": 0}


@dataclass
class FakeJobs:
    """Job records in a dict, with the state machine's compare-and-set rules."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    part_status: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    enqueued: list[TaskSpec] = field(default_factory=list)
    locks: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    _ids: Iterable[int] = field(default_factory=itertools.count)

    def create(self, fields: dict[str, Any], *, max_active: float | None = None,
               upload_window: float = 0.0) -> str:
        active = self._active_count(fields["owner"], upload_window)
        if max_active is not None and active >= max_active:
            raise LimitExceededError(f"you already have {active} jobs in progress (limit {int(max_active)})")
        job_id = str(fields.get("id") or f"{next(iter(self._ids)):032x}")
        now = time.time()
        self.records[job_id] = {**fields, "id": job_id, "state": JobState.AWAITING_UPLOAD, "created_at": now,
                                "updated_at": now, f"t_{JobState.AWAITING_UPLOAD}": now}
        return job_id

    def get(self, job_id: str, owner: str | None = None) -> dict[str, Any]:
        job = self.records.get(job_id)
        if job is None or (owner is not None and job.get("owner") != owner):
            raise NotFoundError(f"job {job_id} not found")
        return dict(job)

    def _active_count(self, owner: str, upload_window: float) -> int:
        return sum(1 for j in self.records.values() if j["owner"] == owner and j["state"] in ACTIVE_STATES)

    def parts(self, job_id: str) -> dict[str, dict[str, Any]]:
        return dict(self.part_status.get(job_id, {}))

    def page(self, owner: str, limit: int, before: float | None = None, *, states: frozenset[str] = frozenset(),
             name: str = "", oldest_first: bool = False,
             max_scan: int = 2000) -> tuple[list[dict[str, Any]], float | None]:
        mine = sorted((j for j in self.records.values() if j["owner"] == owner), key=lambda j: j["created_at"],
                      reverse=not oldest_first)
        if before is not None:
            mine = [j for j in mine if (j["created_at"] > before if oldest_first else j["created_at"] < before)]
        hits = [j for j in mine if (not states or j["state"] in states)
                and name.casefold() in str(j.get("filename", "")).casefold()]
        page = hits[:limit]
        return page, (page[-1]["created_at"] if len(hits) > limit else None)

    def transition(self, job_id: str, from_states: Iterable[str], to_state: str, **fields: Any) -> bool:
        job = self.records.get(job_id)
        if job is None or job["state"] not in set(from_states):
            return False
        now = time.time()
        job.update(fields, state=to_state, updated_at=now, **{f"t_{to_state}": now})
        self._bump(job_id)
        return True

    def claim(self, job_id: str, token: str, stale_seconds: float) -> str:
        job = self.records.get(job_id)
        if job is None:
            return "missing"
        if job["state"] != JobState.AWAITING_UPLOAD:
            return str(job["state"])
        self.transition(job_id, [JobState.AWAITING_UPLOAD], JobState.QUEUED, claim=token)
        return "claimed"

    def sweep_stalled(self, max_age: float) -> list[str]:
        return []

    def start_encoding(self, job_id: str, token: str, plan: dict[str, Any], parts_status: dict[str, Any],
                       chunks_total: int, audio_parts: int, tasks: list[TaskSpec]) -> bool:
        job = self.records[job_id]
        if job["state"] != JobState.PROBING or job.get("claim") != token:
            return False
        self.transition(job_id, [JobState.PROBING], JobState.ENCODING, plan=plan, chunks_total=chunks_total,
                        parts_total=chunks_total + audio_parts, chunks_done=0, audio_total=audio_parts)
        self.part_status[job_id] = dict(parts_status)
        self.enqueued += tasks
        return True

    def complete_part(self, job_id: str, part: str, status: dict[str, Any], assembly: TaskSpec) -> str:
        if self.records[job_id]["state"] != JobState.ENCODING:
            return "ignored"
        self.part_status.setdefault(job_id, {})[part] = status
        return "ok"

    def set_part(self, job_id: str, part: str, status: dict[str, Any]) -> None:
        parts = self.part_status.setdefault(job_id, {})
        parts[part] = {**parts.get(part, {}), **status}

    def update(self, job_id: str, **fields: Any) -> None:
        fields.pop("state", None)
        self.records[job_id].update(fields, updated_at=time.time())
        self._bump(job_id)

    def record_published(self, job_id: str, segments: int) -> bool:
        job = self.records[job_id]
        first = not job.get("playable_at")
        job.update(published_segments=segments, **({"playable_at": time.time()} if first else {}))
        self._bump(job_id)
        return first

    def wait_for_change(self, job_id: str, since: int, timeout: float) -> int:
        """No other writer can run while a fake waits: the version now is the answer."""
        return int(self.records.get(job_id, {}).get("version", 0))

    def waiting(self, owner: str, limit: int) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def _bump(self, job_id: str) -> None:
        job = self.records[job_id]
        job["version"] = int(job.get("version", 0)) + 1

    def bump(self, job_id: str, counter: str) -> int:
        job = self.records[job_id]
        job[counter] = int(job.get(counter, 0)) + 1
        return int(job[counter])

    def lock(self, job_id: str, name: str, ttl_seconds: float) -> str | None:
        held = self.locks.get((job_id, name))
        if held and held[1] > time.monotonic():
            return None
        token = f"lock-{len(self.locks) + 1}-{time.monotonic()}"
        self.locks[(job_id, name)] = (token, time.monotonic() + ttl_seconds)
        return token

    def unlock(self, job_id: str, name: str, token: str) -> None:
        if self.locks.get((job_id, name), ("",))[0] == token:
            del self.locks[(job_id, name)]

    def fail(self, job_id: str, reason: str) -> bool:
        return self.transition(job_id, ACTIVE_STATES, JobState.FAILED, error=reason)

    def cancel(self, job_id: str) -> bool:
        return self.transition(job_id, ACTIVE_STATES, JobState.CANCELLED, error="cancelled by the user")

    def task_ids(self, job_id: str) -> list[str]:
        return [t.task_id for t in self.enqueued if t.payload.get("job_id") == job_id]

    def state(self, job_id: str) -> str | None:
        job = self.records.get(job_id)
        return None if job is None else str(job["state"])

    def delete(self, job_id: str) -> None:
        self.records.pop(job_id, None)
        self.part_status.pop(job_id, None)


class FakeStorage:
    """Objects as local files (so the real probe can read them); presigned URLs are plain strings.

    ``fail_with`` makes every S3 call (or only ``fail_only``'s) raise that error (an outage, or
    S3 refusing a request). ``parts[upload_id]`` are the parts S3 holds of a multipart upload.
    """

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], Path] = {}
        self.deleted: list[tuple[str, str]] = []
        self.parts: dict[str, list[dict[str, Any]]] = {}
        self.pending: dict[str, dict[int, bytes]] = {}  # upload id → the parts sent of it
        self.min_part = 0  # S3's smallest part but the last (5 MiB), where a test wants it checked
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.headers: dict[tuple[str, str], dict[str, str]] = {}
        self.fail_with: Exception | None = None
        self.fail_only: str | None = None
        self._uploads = itertools.count(1)

    def _check(self, operation: str = "") -> None:
        if self.fail_with is not None and self.fail_only in (None, operation):
            raise self.fail_with

    def presigned_post(self, key: str, content_type: str, min_bytes: int, max_bytes: int) -> dict[str, Any]:
        self._check()
        return {"url": "https://s3.test/uploads", "fields": {"key": key, "Content-Type": content_type,
                                                            "x-size-range": f"{min_bytes}-{max_bytes}"}}

    def create_multipart(self, key: str, content_type: str, bucket: str | None = None) -> str:
        self._check()
        upload_id = f"upload-{next(self._uploads)}"
        self.pending[upload_id] = {}
        return upload_id

    def sign_part(self, key: str, upload_id: str, part_number: int, content_length: int) -> str:
        return f"https://s3.test/{key}?uploadId={upload_id}&partNumber={part_number}&length={content_length}"

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        self._check("list_parts")
        return list(self.parts.get(upload_id, []))

    def complete_multipart(self, key: str, upload_id: str, parts: list[dict[str, Any]],
                           bucket: str | None = None) -> None:
        self._check("complete_multipart")
        sent = self.pending.pop(upload_id, {})
        if bucket is not None:  # one of the workers' own uploads: the parts it sent, in order
            data = [sent[int(p["PartNumber"])] for p in sorted(parts, key=lambda p: int(p["PartNumber"]))]
            if any(len(part) < self.min_part for part in data[:-1]):
                raise StorageRejectedError("complete multipart upload: EntityTooSmall")
            self.blobs[(bucket, key)] = b"".join(data)

    def abort_multipart(self, key: str, upload_id: str, bucket: str | None = None) -> None:
        self._check()
        self.pending.pop(upload_id, None)

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        self._check("upload_part")
        self.pending[upload_id][part_number] = bytes(data)
        return f'"{part_number}"'

    def copy_part(self, bucket: str, key: str, upload_id: str, part_number: int, source_bucket: str,
                  source_key: str, first: int, last: int) -> str:
        self._check("copy_part")
        data = self.get_object(source_bucket, source_key)["Body"].read()
        self.pending[upload_id][part_number] = data[first:last + 1]
        return f'"{part_number}"'

    def presigned_get(self, bucket: str, key: str, expires: int, filename: str | None = None,
                      version_id: str | None = None) -> str:
        path = self.objects.get((bucket, key))
        return str(path) if path is not None else f"https://s3.test/{bucket}/{key}"

    def head(self, bucket: str, key: str) -> dict[str, Any]:
        self._check()
        path = self.objects.get((bucket, key))
        if (bucket, key) in self.blobs:
            return {"ContentLength": len(self.blobs[(bucket, key)])}
        if path is None:
            raise NotFoundError(f"s3://{bucket}/{key}: not found")
        return {"ContentLength": path.stat().st_size}

    def upload_file(self, path: str | os.PathLike[str], bucket: str, key: str, content_type: str,
                    cache_control: str = "") -> None:
        self._check()
        self.objects[(bucket, key)] = Path(path)

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str, cache_control: str = "") -> None:
        self._check()
        self.blobs[(bucket, key)] = data
        self.headers[(bucket, key)] = {"ContentType": content_type, "CacheControl": cache_control}

    def get_object(self, bucket: str, key: str, byte_range: str = "") -> dict[str, Any]:
        self._check()
        if (bucket, key) in self.blobs:
            data = self.blobs[(bucket, key)]
        elif (bucket, key) in self.objects:
            data = self.objects[(bucket, key)].read_bytes()
        else:
            raise NotFoundError(f"s3://{bucket}/{key}: not found")
        if byte_range:  # "bytes=first-last", both inclusive
            first, last = (int(n) for n in byte_range.removeprefix("bytes=").split("-"))
            data = data[first:last + 1]
        return {"Body": io.BytesIO(data), "ContentLength": len(data), **self.headers.get((bucket, key), {})}

    def download_file(self, bucket: str, key: str, path: str | os.PathLike[str],
                      version_id: str | None = None) -> None:
        self._check()
        Path(path).write_bytes(self.objects[(bucket, key)].read_bytes())

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        gone = [k for k in {*self.objects, *self.blobs} if k[0] == bucket and k[1].startswith(prefix)]
        for k in gone:
            self.objects.pop(k, None)
            self.blobs.pop(k, None)
        return len(gone)

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> None:
        self.deleted.append((bucket, key))
        self.objects.pop((bucket, key), None)


class FakeKeys:
    """Keys issued in memory: ``create`` returns ``ffk_<n>_secret``."""

    def __init__(self) -> None:
        self.by_token: dict[str, Principal] = {}

    def create(self, owner: str, name: str = "", limits: dict[str, Any] | None = None) -> str:
        if not owner:
            raise ValidationError("owner must not be empty")
        token = f"ffk_{len(self.by_token)}_secret"
        self.by_token[token] = Principal(owner, dict(limits or {}), str(len(self.by_token)))
        return token

    def verify(self, token: str | None) -> Principal | None:
        return self.by_token.get(token or "")

    def revoke(self, key_id: str) -> None:
        for token, who in list(self.by_token.items()):
            if who.key_id == key_id:
                del self.by_token[token]
                return
        raise NotFoundError(f"no key with id {key_id}")

    def list(self) -> list[dict[str, Any]]:
        return [{"id": who.key_id, "owner": who.owner} for who in self.by_token.values()]


class FakeUsage:
    """Daily use in a dict (one day: the fake's clock never turns)."""

    def __init__(self) -> None:
        self.by_owner: dict[str, float] = {}

    def charge(self, owner: str, cost: float, limit: float | None) -> tuple[bool, float]:
        used = self.by_owner.get(owner, 0.0)
        if limit is not None and used + cost > limit:
            return False, used
        self.by_owner[owner] = used + cost
        return True, used + cost

    def used(self, owner: str) -> float:
        return self.by_owner.get(owner, 0.0)

    def refund(self, owner: str, cost: float) -> None:
        self.by_owner[owner] = self.by_owner.get(owner, 0.0) - cost


@dataclass
class FakeWebhooks:
    """Webhook endpoints in a dict (deliveries: only what a test puts in ``delivered``)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    delivered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    max_endpoints: int = 20

    def create_endpoint(self, owner: str, url: str, events: list[str], description: str = "") -> dict[str, Any]:
        if sum(1 for e in self.records.values() if e["owner"] == owner) >= self.max_endpoints:
            raise LimitExceededError(f"you already have {self.max_endpoints} webhook endpoints")
        endpoint_id = f"ep_{len(self.records):016x}"
        self.records[endpoint_id] = {"id": endpoint_id, "owner": owner, "url": url, "events": events,
                                     "description": description, "secret": new_secret(), "state": "enabled",
                                     "created_at": time.time()}
        return dict(self.records[endpoint_id])

    def endpoint(self, owner: str | None, endpoint_id: str) -> dict[str, Any]:
        found = self.records.get(endpoint_id)
        if found is None or (owner is not None and found["owner"] != owner):
            raise NotFoundError(f"webhook endpoint {endpoint_id} not found")
        return dict(found)

    def endpoints(self, owner: str) -> list[dict[str, Any]]:
        return [dict(e) for e in self.records.values() if e["owner"] == owner]

    def update_endpoint(self, owner: str, endpoint_id: str, **fields: Any) -> dict[str, Any]:
        self.endpoint(owner, endpoint_id)
        self.records[endpoint_id].update({k: v for k, v in fields.items() if v is not None})
        return self.endpoint(owner, endpoint_id)

    def rotate_secret(self, owner: str, endpoint_id: str, grace_seconds: float) -> dict[str, Any]:
        old = self.endpoint(owner, endpoint_id)["secret"]
        return self.update_endpoint(owner, endpoint_id, secret=new_secret(), previous_secret=old,
                                    previous_until=time.time() + grace_seconds)

    def delete_endpoint(self, owner: str, endpoint_id: str) -> None:
        self.endpoint(owner, endpoint_id)
        del self.records[endpoint_id]

    def deliveries(self, owner: str, endpoint_id: str, limit: int = 50) -> list[dict[str, Any]]:
        self.endpoint(owner, endpoint_id)
        return list(reversed(self.delivered.get(endpoint_id, [])))[:limit]

    def delivery(self, owner: str, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
        for found in self.deliveries(owner, endpoint_id, 10**6):
            if found["id"] == delivery_id:
                return found
        raise NotFoundError(f"delivery {delivery_id} not found")

    def redeliver(self, owner: str, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
        found = self.delivery(owner, endpoint_id, delivery_id)
        found.update(status="pending", redeliveries=int(found.get("redeliveries", 0)) + 1)
        return found


@dataclass
class Fakes:
    """The fake stores behind one ``Services``."""

    services: Services
    jobs: FakeJobs
    storage: FakeStorage
    keys: FakeKeys
    queues: dict[QueueName, FakeQueue]
    usage: FakeUsage
    webhooks: FakeWebhooks


def fake_services(settings: Settings | None = None) -> Fakes:
    """A ``Services`` whose every store is an in-memory fake."""
    jobs, storage, keys, usage, webhooks = FakeJobs(), FakeStorage(), FakeKeys(), FakeUsage(), FakeWebhooks()
    queues = {name: FakeQueue(name) for name in QueueName}
    services = Services(settings or Settings(), FakePing(), storage, jobs, dict(queues), keys, usage, webhooks)
    return Fakes(services, jobs, storage, keys, queues, usage, webhooks)

