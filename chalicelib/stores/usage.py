"""Per-owner compute use: encoded pixel-seconds per UTC day, charged when a job is planned."""
from __future__ import annotations

import time
from typing import Any

import redis

# KEYS: the owner's counter of the day. ARGV: cost, limit (-1: none), TTL seconds.
# Charged only if it fits, in one step: parallel jobs cannot pass the quota together.
_CHARGE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if limit >= 0 and used + cost > limit then return {0, tostring(used)} end
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, tostring(total)}
"""


def day(now: float | None = None) -> str:
    """The UTC day a charge counts against, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if now is None else now))


class Usage:
    """Daily counters in Redis: ``{prefix}:usage:{owner}:{day}`` (kept two days)."""

    def __init__(self, r: redis.Redis, prefix: str) -> None:
        self.r: Any = r  # redis-py types replies as bytes | str; ours decode (decode_responses=True)
        self.prefix = prefix
        self._charge = r.register_script(_CHARGE)

    def _key(self, owner: str, when: str) -> str:
        return f"{self.prefix}:usage:{owner}:{when}"

    def charge(self, owner: str, cost: float, limit: float | None) -> tuple[bool, float]:
        """Add ``cost`` to today's use unless it would pass ``limit``: (charged, use after)."""
        ok, used = self._charge(keys=[self._key(owner, day())], args=[cost, -1 if limit is None else limit, 2 * 86400])
        return bool(int(ok)), float(used)

    def used(self, owner: str) -> float:
        """Today's use so far."""
        return float(self.r.get(self._key(owner, day())) or 0)

    def refund(self, owner: str, cost: float) -> None:
        """Give back a charge (the job could not start after all)."""
        self.r.incrbyfloat(self._key(owner, day()), -cost)
