"""Wires settings, clients, the job store, queues and storage together, lazily, once per process."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import redis

from chalicelib.clients import get_redis, get_s3
from chalicelib.config import Settings, get_settings
from chalicelib.jobs import JobStore
from chalicelib.keys import ApiKeys
from chalicelib.queue import PUSH_LUA, ReliableQueue
from chalicelib.storage import Storage, work_prefix

PROCESS_QUEUE = "process"    # video chunks and the audio track
ASSEMBLE_QUEUE = "assemble"  # one task per job, after its last part


@dataclass(frozen=True)
class Services:
    """Everything a handler or worker needs."""

    settings: Settings
    redis: redis.Redis
    storage: Storage
    jobs: JobStore
    process_queue: ReliableQueue
    assemble_queue: ReliableQueue
    keys: ApiKeys

    def discard_work(self, job_id: str) -> None:
        """Forget a finished job's tasks (queued, running or dead) and its intermediate files."""
        for queue in (self.process_queue, self.assemble_queue):
            queue.drop(job_id, include_dead=True)
        self.storage.delete_prefix(self.settings.work_bucket, work_prefix(job_id))

    def fail_job(self, job_id: str, reason: str) -> bool:
        """Fail an active job with a human-readable reason and discard its work."""
        failed = self.jobs.fail(job_id, reason)
        if failed:
            self.discard_work(job_id)
        return failed

    def queue(self, name: str) -> ReliableQueue:
        """The queue called ``name`` (``process`` or ``assemble``)."""
        return {PROCESS_QUEUE: self.process_queue, ASSEMBLE_QUEUE: self.assemble_queue}[name]


def build_services(settings: Settings, r: redis.Redis, s3: object) -> Services:
    """Assemble the services from explicit clients (tests pass their own)."""
    def make_queue(name: str) -> ReliableQueue:
        return ReliableQueue(r, name, prefix=settings.key_prefix, lease_seconds=settings.lease_seconds,
                             max_attempts=settings.max_attempts)

    process, assemble = make_queue(PROCESS_QUEUE), make_queue(ASSEMBLE_QUEUE)
    jobs = JobStore(r, settings.key_prefix, settings.job_retention_seconds, PUSH_LUA,
                    process.push_keys(), assemble.push_keys())
    return Services(settings, r, Storage(s3, settings), jobs, process, assemble, ApiKeys(r, settings.key_prefix))


@functools.lru_cache(maxsize=1)
def get_services() -> Services:
    """The process-wide services built from the environment."""
    return build_services(get_settings(), get_redis(), get_s3())
