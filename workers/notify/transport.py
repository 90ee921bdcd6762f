"""One webhook POST, safely: resolve once, refuse private addresses, connect to the address that
was checked (so a DNS-rebinding receiver cannot swap it between check and connect), no
redirects, a hard deadline, at most 1 KB of the answer read."""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.model.webhooks import MAX_STORED_RESPONSE, forbidden_address, literal_address

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[Address]]
USER_AGENT = "framefleet-webhooks/1"


class DeliveryRefused(Exception):
    """The receiver may not be reached (its address is private, or the URL is unusable)."""


@dataclass(frozen=True)
class Answer:
    """What the receiver said."""

    status: int
    body: str  # at most MAX_STORED_RESPONSE bytes, decoded leniently


def system_resolver(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (the operating system's resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DeliveryRefused(f"the host {host} does not resolve") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def pick_address(host: str, port: int, resolver: Resolver, allow_loopback: bool) -> Address:
    """The address to connect to: every address ``host`` resolves to must be allowed (a name that
    also points inside is refused outright, whichever address a retry would get)."""
    literal = literal_address(host)
    addresses = [literal] if literal is not None else resolver(host, port)
    if not addresses:
        raise DeliveryRefused(f"the host {host} has no address")
    for address in addresses:
        reason = forbidden_address(address, allow_loopback)
        if reason:
            raise DeliveryRefused(f"{host} resolves to {address}, {reason}; webhooks only go to public addresses")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self._address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the pinned address.
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10.0,
         resolver: Resolver = system_resolver, allow_loopback: bool = False) -> Answer:
    """POST ``body`` to ``url``; raises DeliveryRefused (never retried into) or OSError/HTTPException
    (a failed attempt). The whole exchange ends within ``timeout`` seconds."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryRefused("the URL is not http(s)")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = pick_address(parts.hostname, port, resolver, allow_loopback)
    kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    conn = kind(parts.hostname, port, address, timeout)
    # A receiver trickling bytes must not hold us past the deadline: close the socket under it
    # (and whatever was read by then is no answer, even if it parses as one).
    expired = threading.Event()
    deadline = threading.Timer(timeout, _abort, args=(conn, expired))
    deadline.daemon = True
    deadline.start()
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", path, body=body, headers={"content-type": "application/json", "user-agent": USER_AGENT,
                                                       **headers})
        response = conn.getresponse()
        text = response.read(MAX_STORED_RESPONSE).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            raise TimeoutError(f"no complete answer within {timeout:g} s") from exc
        raise
    finally:
        deadline.cancel()
        conn.close()
    if expired.is_set():
        raise TimeoutError(f"no complete answer within {timeout:g} s")
    return Answer(response.status, text)


def _abort(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
