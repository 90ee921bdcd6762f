"""The fleet as the estimate sees it: which workers run (a presence registry), the work queued,
and how the last estimated jobs went (``{prefix}:estimates:recent``, newest first).

Every worker refreshes its entry in ``{prefix}:workers:{role}`` (a sorted set: name → last seen,
Redis server time) each loop and heartbeat, with its cores and machine in ``…:info`` (a hash:
name → JSON); a stopping worker removes itself, one that died ages out of the count. Entries
unseen for a day are dropped by the next refresh.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis

from chalicelib.model.estimate import RECENT_JOBS, Outcome, QueuedWork, WorkerSeen

FORGET_SECONDS = 86400
# Above this many tasks in the queue the work ahead is read from a random sample of them.
SAMPLE = 5000

# KEYS: zset, info hash. ARGV: name, info json, forget seconds.
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], string.format('%.3f', now), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 100)
for _, name in ipairs(old) do
  redis.call('ZREM', KEYS[1], name)
  redis.call('HDEL', KEYS[2], name)
end
return 1
"""

# KEYS: zset, info hash. ARGV: within seconds. Returns name, info pairs.
_SEEN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local names = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%.3f', now - tonumber(ARGV[1])), '+inf')
local out = {}
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = redis.call('HGET', KEYS[2], name) or '{}'
end
return out
"""


class FleetRegistry:
    """Presence of workers per role, and the process queue's work per job."""

    def __init__(self, r: redis.Redis, prefix: str, queue_key: Callable[[str], str],
                 job_key: Callable[[str], str]) -> None:
        self.r: Any = r  # redis-py types replies as bytes | str; ours decode (decode_responses=True)
        self.prefix = prefix
        self._queue_key = queue_key  # the process queue's keys by part (ReliableQueue.key)
        self._job_key = job_key  # a job's hash (JobStore.key)
        self._recent = f"{prefix}:estimates:recent"
        self._beat = r.register_script(_BEAT)
        self._seen = r.register_script(_SEEN)

    def _keys(self, role: str) -> list[str]:
        key = f"{self.prefix}:workers:{role}"
        return [key, f"{key}:info"]

    def beat(self, role: str, name: str, cpus: float, host: str) -> None:
        """``name`` (of ``role``, with ``cpus`` cores on machine ``host``) is alive now."""
        self._beat(keys=self._keys(role), args=[name, json.dumps({"cpus": cpus, "host": host}), FORGET_SECONDS])

    def leave(self, role: str, name: str) -> None:
        """``name`` stops: it no longer counts."""
        zset, info = self._keys(role)
        pipe = self.r.pipeline()
        pipe.zrem(zset, name)
        pipe.hdel(info, name)
        pipe.execute()

    def seen(self, role: str, within: float) -> list[WorkerSeen]:
        """Workers of ``role`` seen in the last ``within`` seconds."""
        flat = self._seen(keys=self._keys(role), args=[within])
        out = []
        for name, raw in zip(flat[::2], flat[1::2]):
            info = json.loads(raw)
            out.append(WorkerSeen(str(name), float(info.get("cpus") or 1), str(info.get("host") or name)))
        return out

    def work_ahead(self) -> list[QueuedWork]:
        """The process queue's tasks per job (ready and in flight, dead ones aside), each with its
        job's stored estimate; read from a sample when the queue is long."""
        jobs_of = self._queue_key("job")
        total = int(self.r.hlen(jobs_of))
        if total == 0:
            return []
        if total > SAMPLE:
            flat = self.r.hrandfield(jobs_of, SAMPLE, withvalues=True)
            owners = dict(zip(flat[::2], flat[1::2]))
        else:
            owners = self.r.hgetall(jobs_of)
        scale = total / len(owners)
        dead = set(self.r.zrange(self._queue_key("dead"), 0, -1))
        inflight = list(self.r.zrange(self._queue_key("inflight"), 0, -1))
        running = Counter(job for job in (self.r.hmget(jobs_of, inflight) if inflight else []) if job)
        skip = dead | set(inflight)
        ready = Counter(job for task, job in owners.items() if task not in skip)
        jobs = sorted(set(ready) | set(running))
        pipe = self.r.pipeline()
        for job in jobs:
            pipe.hget(self._job_key(job), "estimate")
        estimates = pipe.execute()
        return [QueuedWork.of(round(ready[job] * scale), running[job], json.loads(raw) if raw else None)
                for job, raw in zip(jobs, estimates)]

    def remember(self, job_id: str) -> None:
        """``job_id`` was just estimated: once done, its outcome corrects the next estimates."""
        pipe = self.r.pipeline()
        pipe.lpush(self._recent, job_id)
        pipe.ltrim(self._recent, 0, RECENT_JOBS - 1)
        pipe.execute()

    def outcomes(self) -> list[Outcome]:
        """How the last estimated jobs that are done went (the others, and expired ones, left out)."""
        pipe = self.r.pipeline()
        for job_id in self.r.lrange(self._recent, 0, -1):
            pipe.hmget(self._job_key(job_id), ["state", "estimate", "t_assembling", "t_done"])
        found = []
        for state, estimate, assembling, done in pipe.execute():
            outcome = Outcome.of({"state": state, "estimate": json.loads(estimate) if estimate else None,
                                  "t_assembling": assembling, "t_done": done})
            if outcome is not None:
                found.append(outcome)
        return found
