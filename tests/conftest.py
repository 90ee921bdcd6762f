"""Shared fixtures: real servers on free ports, the shared media corpus, a running local stack."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.faults import TcpProxy
from tests.support.media import MEDIA
from tests.support.servers import redis_url, valkey  # noqa: F401 - fixtures

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def media() -> Path:
    """The shared corpus of real videos (../shared/media)."""
    if not MEDIA.is_dir():
        pytest.fail(f"shared media corpus missing at {MEDIA}")
    return MEDIA


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The whole local pipeline: Valkey, moto server, API, event pump, 2 processors, 1 assembler.

    Short leases so that a killed worker's task comes back within seconds; S3/SQS traffic goes
    through a proxy the fault tests can cut.
    """
    from chalicelib.model.settings import Settings
    from devstack.stack import start_stack

    os.environ.pop("REDIS_URL", None)
    settings = replace(Settings.from_env({}), lease_seconds=4.0, max_attempts=3, probe_timeout=30.0,
                       encode_timeout=300.0, log_level="WARNING",
                       max_active_jobs=1000,  # the soak submits 40 at once; limits are tested per key
                       # webhook receivers of the tests listen on 127.0.0.1; retries come fast
                       # (and a dead sender's claim lapses in 3 × 2 s)
                       webhook_allow_loopback=True, webhook_retry_base_seconds=0.02, webhook_timeout=2.0)
    proxies: list[TcpProxy] = []

    def via_proxy(url: str) -> str:
        proxies.append(TcpProxy(url))
        return proxies[0].url

    local = start_stack(workers=2, home=tmp_path_factory.mktemp("stack"), settings=settings, s3_via=via_proxy)
    local.s3_proxy = proxies[0]  # the fault tests cut it
    yield local
    local.close()
    proxies[0].close()
