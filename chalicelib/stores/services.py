"""Wires settings, clients, the job store, queues and storage together, lazily, once per process."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from chalicelib.model.kinds import QueueName
from chalicelib.model.playback import stream_prefix
from chalicelib.model.settings import Settings, get_settings
from chalicelib.stores.clients import get_redis, get_s3, reset_clients
from chalicelib.stores.fleet import FleetRegistry
from chalicelib.stores.jobs import JobStore
from chalicelib.stores.keys import ApiKeys
from chalicelib.stores.protocols import (
    FleetProtocol,
    JobStoreProtocol,
    KeyStoreProtocol,
    PingProtocol,
    QueueProtocol,
    StorageProtocol,
    UsageProtocol,
    WebhookStoreProtocol,
)
from chalicelib.stores.queue import PUSH_LUA, ReliableQueue
from chalicelib.stores.storage import Storage, work_prefix
from chalicelib.stores.usage import Usage
from chalicelib.stores.webhooks import WebhookStore


@dataclass(frozen=True)
class Services:
    """Everything a handler or worker needs, each behind its protocol."""

    settings: Settings
    redis: PingProtocol
    storage: StorageProtocol
    jobs: JobStoreProtocol
    queues: Mapping[QueueName, QueueProtocol]
    keys: KeyStoreProtocol
    usage: UsageProtocol
    webhooks: WebhookStoreProtocol
    fleet: FleetProtocol | None = None  # the presence registry (None: fast tests without one)

    def queue(self, name: QueueName) -> QueueProtocol:
        """The work queue called ``name``."""
        return self.queues[name]

    @property
    def process_queue(self) -> QueueProtocol:
        """Video chunks and the audio track."""
        return self.queues[QueueName.PROCESS]

    @property
    def assemble_queue(self) -> QueueProtocol:
        """One assembly task per job."""
        return self.queues[QueueName.ASSEMBLE]

    def discard_work(self, job_id: str) -> None:
        """Forget a failed or cancelled job's tasks (queued, running or dead), its intermediate
        files and the part of its stream already published."""
        tasks = self.jobs.task_ids(job_id)
        for queue in self.queues.values():
            queue.drop(tasks, include_dead=True)
        self.storage.delete_prefix(self.settings.work_bucket, work_prefix(job_id))
        self.storage.delete_prefix(self.settings.output_bucket, stream_prefix(job_id))

    def fail_job(self, job_id: str, reason: str) -> bool:
        """Fail an active job with a human-readable reason and discard its work."""
        failed = self.jobs.fail(job_id, reason)
        if failed:
            self.discard_work(job_id)
        return failed


def build_services(settings: Settings, r: redis.Redis, s3: Any) -> Services:
    """Assemble the services from explicit clients (tests pass their own)."""
    queues = {name: ReliableQueue(r, name, prefix=settings.key_prefix, lease_seconds=settings.lease_seconds,
                                  max_attempts=settings.max_attempts) for name in QueueName}
    jobs = JobStore(r, settings.key_prefix, settings.job_retention_seconds, PUSH_LUA,
                    queues[QueueName.PROCESS].push_keys(), queues[QueueName.ASSEMBLE].push_keys())
    return Services(settings, r, Storage(s3, settings), jobs, queues, ApiKeys(r, settings.key_prefix),
                    Usage(r, settings.key_prefix), webhook_store(settings, r),
                    fleet=FleetRegistry(r, settings.key_prefix, queues[QueueName.PROCESS].key, jobs.key))


def webhook_store(settings: Settings, r: redis.Redis) -> WebhookStore:
    """The webhook store of ``settings`` (the sender uses it beyond the API's protocol)."""
    return WebhookStore(r, settings.key_prefix, max_endpoints=settings.max_webhooks)


_override: list[Services] = []


@functools.lru_cache(maxsize=1)
def _from_env() -> Services:
    return build_services(get_settings(), get_redis(), get_s3())


def get_services() -> Services:
    """The process-wide services: built from the environment, unless ``use_services`` set others."""
    return _override[-1] if _override else _from_env()


def use_services(services: Services | None) -> None:
    """Serve ``services`` from ``get_services()`` (fast tests inject fakes); None goes back."""
    _override.clear()
    if services is not None:
        _override.append(services)


def reset_services() -> None:
    """Forget cached settings, clients and the services built on them (tests and the local stack
    change the environment; a second stack in one process must not see the first's)."""
    reset_clients()
    _from_env.cache_clear()
