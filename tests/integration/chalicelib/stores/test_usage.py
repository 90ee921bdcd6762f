"""The daily compute quota on a real Valkey: parallel charges never pass it together."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from chalicelib.stores.clients import make_redis
from chalicelib.stores.usage import Usage, day


def test_parallel_charges_stop_exactly_at_the_quota(redis_url: str) -> None:
    usage = Usage(make_redis(redis_url), f"t{uuid.uuid4().hex[:8]}")
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: usage.charge("alice", 10.0, 95.0)[0], range(40)))
    assert results.count(True) == 9 and usage.used("alice") == 90.0
    assert usage.used("bob") == 0.0 and usage.charge("bob", 10.0, None) == (True, 10.0)
    usage.refund("alice", 10.0)
    assert usage.used("alice") == 80.0
    ttl = usage.r.ttl(f"{usage.prefix}:usage:alice:{day()}")
    assert 86400 < ttl <= 2 * 86400
