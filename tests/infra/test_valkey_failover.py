"""An ElastiCache failover, replayed with two real Valkey servers: the replica is promoted, the old
primary becomes its replica, and the primary endpoint (here a TCP proxy standing in for the DNS
name) now leads to the new primary. Pooled connections still reach the old primary, which
answers writes with ``READONLY``: the clients of ``make_redis`` must take that as a reason to
reconnect and retry (a refused write did nothing, so retrying it is safe), as they do for a
dropped connection."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from chalicelib.stores.clients import make_redis
from tests.support.faults import TcpProxy
from tests.support.servers import valkey_process


def wait_for_sync(replica: redis.Redis, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while replica.info("replication").get("master_link_status") != "up":
        assert time.monotonic() < deadline, "the replica never synced"
        time.sleep(0.05)


class Pair:
    """A primary and its replica behind one endpoint; ``failover()`` swaps their roles."""

    def __init__(self, first: Any, second: Any) -> None:
        self.primary, self.replica = first.port, second.port
        # One AUTH token for the whole group, as in ElastiCache (if the servers have a password).
        self.password = getattr(first, "password", None)
        if self.password:
            redis.Redis.from_url(second.url).config_set("requirepass", self.password)
        for port in (self.primary, self.replica):
            server = self.admin(port)
            server.config_set("repl-diskless-sync-delay", 0)  # sync at once (default: after 5 s)
            if self.password:
                server.config_set("masterauth", self.password)
        self.endpoint = TcpProxy(f"redis://127.0.0.1:{self.primary}")
        self.admin(self.replica).replicaof("127.0.0.1", self.primary)
        wait_for_sync(self.admin(self.replica))

    def admin(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, password=self.password, socket_timeout=5)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.endpoint.port}/0"

    def failover(self) -> None:
        old, new = self.primary, self.replica
        self.admin(new).replicaof("NO", "ONE")
        self.admin(old).replicaof("127.0.0.1", new)
        self.endpoint.target = ("127.0.0.1", new)  # ElastiCache repoints the primary endpoint
        self.primary, self.replica = new, old
        wait_for_sync(self.admin(old))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with valkey_process(tmp_path / "a") as a, valkey_process(tmp_path / "b") as b:
        pair = Pair(a, b)
        yield pair
        pair.endpoint.close()


def test_the_old_primary_answers_readonly_to_a_pooled_connection(pair: Pair) -> None:
    """The failure itself: a client that retries only connection errors gets ReadOnlyError."""
    old_style = redis.Redis.from_url(pair.url, decode_responses=True,
                                     retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
                                     retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError])
    old_style.set("job", "queued")
    pair.failover()
    with pytest.raises(redis.exceptions.ReadOnlyError):
        old_style.set("job", "running")


def test_make_redis_reconnects_to_the_new_primary_on_readonly(pair: Pair) -> None:
    """Needs ``redis.exceptions.ReadOnlyError`` in make_redis's retry_on_error (docs/AWS_CHECKS.md)."""
    plain, pipelined, scripted = (make_redis(pair.url) for _ in range(3))
    script = scripted.register_script("return redis.call('SET', KEYS[1], ARGV[1])")
    plain.ping()  # each holds a pooled connection to the first primary
    pipelined.ping()
    script(keys=["claim"], args=["first"])  # loaded there, as in a warm Lambda; script caches are per node
    pair.failover()

    plain.set("job", "running")  # a command
    pipe = pipelined.pipeline()  # a MULTI/EXEC transaction (ApiKeys.create, …)
    pipe.hset("keys", "h", "record")
    pipe.hset("key-ids", "id", "h")
    pipe.execute()
    script(keys=["claim"], args=["token"])  # a Lua script (JobStore, ReliableQueue)

    new_primary = pair.admin(pair.primary)
    assert new_primary.get("job") == b"running"
    assert new_primary.hget("keys", "h") == b"record" and new_primary.get("claim") == b"token"
    assert pair.endpoint.connections >= 6  # every client reconnected through the endpoint
