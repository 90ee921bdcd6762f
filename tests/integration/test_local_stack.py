"""The local stack is not an open door: its HTTP server answers only to its own name, drops
slow clients, refuses NUL bytes, hands the local key only to its own pages; Valkey wants a password."""
from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import pytest
import redis
import requests

import devstack.server
from devstack.stack import Stack


def _port(stack: Stack) -> int:
    return int(urlparse(stack.api_url).port or 0)


def test_only_its_own_host_names_are_answered(stack: Stack) -> None:
    port = _port(stack)
    for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1.nip.io:{port}", ""):
        resp = requests.get(f"{stack.api_url}/health", headers={"Host": host}, timeout=10)
        assert resp.status_code == 421 and "127.0.0.1" in resp.json()["error"], host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert requests.get(f"{stack.api_url}/health", headers={"Host": host}, timeout=10).status_code == 200


def test_a_nul_byte_in_the_path_is_a_400(stack: Stack) -> None:
    for path in ("/jobs/abc%00def", "/%00", "/jobs%00"):
        resp = requests.get(stack.api_url + path, timeout=10)
        assert resp.status_code == 400 and "NUL" in resp.json()["error"], path


def test_the_local_key_goes_only_to_the_apps_own_pages(stack: Stack) -> None:
    def key(**headers: str) -> str:
        return str(requests.get(f"{stack.api_url}/config.json", headers=headers, timeout=10).json()["apiKey"])

    assert key() == stack.api_key
    assert key(**{"Sec-Fetch-Site": "same-origin"}) == stack.api_key
    assert key(**{"Sec-Fetch-Site": "cross-site"}) == ""
    assert key(Origin="http://evil.example") == ""
    assert key(Origin=f"http://localhost:{_port(stack)}", **{"Sec-Fetch-Site": "same-origin"}) == stack.api_key


def test_a_slow_client_is_dropped(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devstack.server.QuietRequestHandler, "timeout", 1)
    with socket.create_connection(("127.0.0.1", _port(stack)), timeout=10) as conn:
        conn.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{_port(stack)}\r\n".encode())  # never finished
        started = time.monotonic()
        assert conn.recv(1024) == b""  # the server closed it
        assert time.monotonic() - started < 5


def test_valkey_wants_its_password(stack: Stack) -> None:
    assert stack.valkey is not None
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=stack.valkey.port, socket_timeout=5).ping()
    assert redis.Redis.from_url(stack.valkey.url, socket_timeout=5).ping()


def test_the_local_s3_answers_cors_only_for_the_browser_app(stack: Stack) -> None:
    bucket = f"{stack.s3_url}/{stack.settings.upload_bucket}"
    app_origin = f"http://localhost:{_port(stack)}"
    evil = "http://evil.example"
    preflight = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
    refused = requests.options(f"{bucket}/uploads/x", headers={"Origin": evil, **preflight}, timeout=10)
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    allowed = requests.options(f"{bucket}/uploads/x", headers={"Origin": app_origin, **preflight}, timeout=10)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == app_origin
    listing = requests.get(f"{bucket}?list-type=2", headers={"Origin": evil}, timeout=10)
    assert "Access-Control-Allow-Origin" not in listing.headers  # a page elsewhere cannot read it
    put = requests.put(f"{bucket}/cors-check.txt", data=b"x", headers={"Origin": app_origin}, timeout=10)
    assert put.headers["Access-Control-Allow-Origin"] == app_origin
    assert "ETag" in put.headers["Access-Control-Expose-Headers"]
