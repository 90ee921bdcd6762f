"""Real test servers on free ports, and pytest fixtures around them.

Import the fixtures into a conftest (or a test module) to use them::

    from tests.support.servers import redis_url, valkey  # noqa: F401
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.procs import ValkeyProcess, free_port


@contextlib.contextmanager
def valkey_process(tmp_path: Path, appendonly: bool = False) -> Iterator[ValkeyProcess]:
    """A running ``ValkeyProcess`` (``.url``, ``.restart()``), stopped on exit."""
    server = ValkeyProcess(Path(tmp_path) / f"valkey-{free_port()}", appendonly=appendonly)
    for attempt in range(3):
        try:
            server.start()
            break
        except RuntimeError:
            # Another process grabbed the free port between probe and bind: take another.
            if attempt == 2:
                raise
            server.port = free_port()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def valkey_server(tmp_path: Path, appendonly: bool = False) -> Iterator[str]:
    """A running valkey-server; yields its redis URL."""
    with valkey_process(tmp_path, appendonly=appendonly) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a valkey-server shared by the session (isolate tests by key prefix)."""
    with valkey_server(tmp_path_factory.mktemp("valkey")) as url:
        yield url


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[ValkeyProcess]:
    """A private valkey-server with AOF on, for tests that restart or kill it."""
    with valkey_process(tmp_path, appendonly=True) as server:
        yield server
