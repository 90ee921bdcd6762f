"""A real HTTP webhook receiver on a free port: it records every request, verifies each with the
``standardwebhooks`` library and answers with the statuses it is scripted to."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    """One request as the receiver saw it."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int          # what the receiver answered
    verified: bool       # the signature checked out with the receiver's secret

    @property
    def msg_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


@dataclass
class Receiver:
    """The running receiver: ``url``, what it got, and what it will answer next."""

    url: str
    secret: str = ""
    statuses: list[int] = field(default_factory=list)   # answered in order, then 200
    delay: float = 0.0                                   # seconds before answering
    received: list[Received] = field(default_factory=list)
    started: int = 0                                     # requests that arrived (answered or not)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def answer(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def record(self, item: Received) -> None:
        with self.arrived:
            self.received.append(item)
            self.arrived.notify_all()

    def begin(self) -> None:
        with self.arrived:
            self.started += 1
            self.arrived.notify_all()

    def wait_started(self, count: int, timeout: float = 30.0) -> None:
        """Block until ``count`` requests have arrived (the last may still be waiting for its answer)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: self.started >= count, timeout):
                raise AssertionError(f"receiver: {self.started} requests in {timeout} s, not {count}")

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> list[Received]:
        """Block until ``predicate(received)`` holds; the requests then (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not predicate(self.received):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: condition not met in {timeout} s; got "
                                         f"{[(r.status, r.payload.get('type')) for r in self.received]}")
                self.arrived.wait(left)
            return list(self.received)

    def accepted(self) -> list[Received]:
        """The requests answered 2xx."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            receiver.begin()
            declared = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(declared)
            if len(body) < declared:  # the sender died while sending: no request to answer
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = False
            if receiver.secret:
                try:
                    Webhook(receiver.secret).verify(body, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer()
            receiver.record(Received(time.time(), self.path, headers, body, status, verified))
            self.send_response(status)
            reply = b'{"ok": true}' if status < 300 else b"x" * 5000  # a big error page: stored cut to 1 KB
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    return Handler


@contextmanager
def webhook_receiver(statuses: list[int] | None = None, host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A receiver on ``host`` (a free port), stopped on exit."""
    server = ThreadingHTTPServer((host, 0), BaseHTTPRequestHandler)
    receiver = Receiver(f"http://{host}:{server.server_address[1]}/hooks", statuses=list(statuses or []))
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
