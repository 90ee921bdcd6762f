"""Fault injection for tests: a TCP proxy that can be cut, and process helpers."""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

from devstack.procs import free_port


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; ``cut(seconds)`` makes the target unreachable:
    open connections are dropped and new ones closed at once, as during a network outage."""

    def __init__(self, target_url: str) -> None:
        target = urlparse(target_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 80)
        self.port = free_port()
        self.url = f"{target.scheme}://127.0.0.1:{self.port}"
        self._blocked_until = 0.0
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self.connections = 0
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def cut(self, seconds: float) -> None:
        """Drop everything for ``seconds`` (returns at once)."""
        self._blocked_until = time.monotonic() + seconds
        with self._lock:
            for conn in list(self._conns):
                _close(conn)
            self._conns.clear()

    @property
    def blocked(self) -> bool:
        return time.monotonic() < self._blocked_until

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.blocked:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            self.connections += 1
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _close(s)
                with self._lock:
                    self._conns.discard(s)

    def close(self) -> None:
        _close(self._server)
        self.cut(0)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
