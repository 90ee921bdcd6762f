"""The webhook transport against real local HTTP servers: pinned addresses, no redirects, a
deadline, a bounded answer."""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from workers.notify.transport import Address, DeliveryRefused, pick_address, post

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@contextmanager
def server(status: int = 200, body: bytes = b"ok", headers: dict[str, str] | None = None) -> Iterator[list[Any]]:
    seen: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            seen.append((self.headers["Host"], self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    seen.append(httpd.server_address[1])
    try:
        yield seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def rebinding(first: Address, then: Address) -> tuple[list[int], Any]:
    """A resolver that answers ``first`` once, then ``then`` (a DNS-rebinding name)."""
    calls: list[int] = []

    def resolve(host: str, port: int) -> list[Address]:
        calls.append(port)
        return [first if len(calls) == 1 else then]
    return calls, resolve


def test_connects_to_the_checked_address_with_the_names_host_header() -> None:
    calls, resolve = rebinding(LOOPBACK, ipaddress.ip_address("10.0.0.7"))
    with server() as seen:
        port = seen[0]
        answer = post(f"http://hooks.example:{port}/in", b"{}", {"webhook-id": "m"}, resolver=resolve,
                      allow_loopback=True)
    assert answer.status == 200 and answer.body == "ok"
    assert len(calls) == 1, "resolved again after the check"
    assert seen[1] == (f"hooks.example:{port}", b"{}")


def test_a_name_with_any_inside_address_is_refused() -> None:
    def resolve(host: str, port: int) -> list[Address]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("169.254.169.254")]
    with pytest.raises(DeliveryRefused, match="link-local"):
        pick_address("evil.example", 80, resolve, allow_loopback=False)


def test_loopback_is_refused_unless_allowed() -> None:
    with server() as seen:
        with pytest.raises(DeliveryRefused, match="loopback"):
            post(f"http://127.0.0.1:{seen[0]}/", b"{}", {})
        assert len(seen) == 1  # nothing was sent


def test_redirects_are_not_followed() -> None:
    with server(status=302, body=b"", headers={"Location": "http://169.254.169.254/"}) as seen:
        answer = post(f"http://127.0.0.1:{seen[0]}/", b"{}", {}, allow_loopback=True)
    assert answer.status == 302


def test_only_a_kilobyte_of_the_answer_is_kept() -> None:
    with server(status=500, body=b"e" * 100_000) as seen:
        answer = post(f"http://127.0.0.1:{seen[0]}/", b"{}", {}, allow_loopback=True)
    assert answer.status == 500 and len(answer.body) == 1024


def test_a_receiver_that_trickles_is_cut_at_the_deadline() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.3):  # one header byte at a time, never finishing
            try:
                conn.sendall(b"X")
            except OSError:
                return
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(OSError):
            post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {}, timeout=1.0, allow_loopback=True)
        assert time.monotonic() - started < 3
    finally:
        stop.set()
        listener.close()
