"""The local API server: the Chalice app over HTTP (as API Gateway serves it) plus the browser app."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, ThreadedHTTPServer

from chalicelib.model import playback
from chalicelib.model.errors import NotFoundError
from chalicelib.model.settings import Settings
from chalicelib.stores.protocols import StorageProtocol

# The browser app (frontend/dist, built by `make frontend`), served by the local API server.
FRONTEND_DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"
_API_ROOTS = ("health", "jobs", "openapi.json", "webhooks")
PLAY_ROOT = "/play/"
# Tokens are the authorization: any page (an embed) may play a stream it was given.
_PLAY_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
              "Access-Control-Allow-Headers": "Range", "Access-Control-Expose-Headers": "Content-Length, Content-Range"}
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
                 ".png": "image/png", ".ico": "image/x-icon", ".woff2": "font/woff2", ".txt": "text/plain"}


def frontend_response(url_path: str, settings: Settings, dist: Path = FRONTEND_DIST,
                      api_key: str = "") -> tuple[int, dict[str, str], bytes] | None:
    """Status, headers and body for a GET of the browser app, or None for an API route.

    ``/config.json`` is the app's runtime config (same-origin API); unknown paths fall back to
    ``index.html`` (client-side routes); hashed ``/assets/`` files are cached for a year.
    """
    path = unquote(urlsplit(url_path).path)
    if path.strip("/").split("/")[0] in _API_ROOTS:
        return None
    if path == "/config.json":
        # The local owner's key, so the browser app on this machine just works (the server only
        # listens on 127.0.0.1); a deployed frontend gets no key and asks the user for one.
        body = json.dumps({"apiUrl": "", "apiKey": api_key,
                           "maxUploadBytes": settings.max_upload_bytes}).encode()
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body
    root = dist.resolve()
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        if path.startswith("/assets/") or Path(path).suffix:
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found"
        target = root / "index.html"
    if not target.is_file():
        return 503, {"Content-Type": "text/plain; charset=utf-8"}, b"browser app not built: run `make frontend`"
    cache = "public, max-age=31536000, immutable" if path.startswith("/assets/") else "no-cache"
    content_type = _STATIC_TYPES.get(target.suffix, "application/octet-stream")
    return 200, {"Content-Type": content_type, "Cache-Control": cache}, target.read_bytes()


def playback_response(url_path: str, settings: Settings, storage: StorageProtocol, secret: bytes,
                      byte_range: str = "") -> tuple[int, dict[str, str], bytes]:
    """A ``/play/{token}/{job_id}/…`` GET: the stream file from the output bucket, what CloudFront
    and its viewer-request function answer on AWS (403 for a bad or expired token, 404 if absent)."""
    path = unquote(urlsplit(url_path).path).removeprefix(PLAY_ROOT.rstrip("/"))
    key = playback.resolve(secret, path, time.time())
    plain = {"Content-Type": "text/plain; charset=utf-8", **_PLAY_CORS}
    if key is None:
        return 403, plain, b"this playback link is invalid or has expired"
    try:
        found = storage.get_object(settings.output_bucket, key, byte_range)
    except NotFoundError:
        return 404, plain, b"not found"
    headers = {"Content-Type": found.get("ContentType") or "application/octet-stream",
               "Cache-Control": found.get("CacheControl") or "no-cache", **_PLAY_CORS}
    if found.get("ContentRange"):
        headers["Content-Range"] = found["ContentRange"]
    return (206 if found.get("ContentRange") else 200), headers, found["Body"].read()


def thread_local_requests(app: Any) -> Any:
    """Give each request thread its own ``app.current_request``.

    The local server answers requests in threads while a plain ``Chalice`` keeps the request in
    one attribute, so concurrent requests would read each other's bodies and URL parameters. On
    Lambda one container serves one request at a time; ``chalice local`` swaps in its
    ``LocalChalice`` (a thread-local ``current_request``) the same way before serving.
    """
    if not isinstance(app, LocalChalice):
        app.__class__ = type(f"Local{type(app).__name__}", (LocalChalice, type(app)), {})
    return app



class ApiServer(ThreadedHTTPServer):
    """One thread per connection. http.server's listen backlog is 5: a burst of new connections
    overflowed it and waited for SYN retransmits (p99 of 6.6 s measured at 64 connections)."""

    request_queue_size = 128
    daemon_threads = True


class QuietRequestHandler(ChaliceRequestHandler):
    """API routes go to Chalice, every other GET to the browser app; no access log on the
    terminal (the workers' logs are in the stack's home folder)."""

    # Without TCP_NODELAY every kept-alive response waits ~40 ms for delayed ACKs (measured:
    # 48 ms vs 1.5 ms per request).
    disable_nagle_algorithm = True
    # A client that sends nothing for this long is dropped: slow (slowloris) clients cannot
    # hold every thread.
    timeout = 30
    settings: Settings  # these two are set on the subclass that ``serve_api`` makes
    api_key: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _own_hosts(self) -> set[str]:
        port = self.server.server_address[1]
        return {f"{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]")}

    def parse_request(self) -> bool:
        """Refuse, before any route runs, a Host that is not this server's own (a DNS-rebinding
        page reaches 127.0.0.1 under its own name) and a NUL byte in the path."""
        if not super().parse_request():
            return False
        if self.headers.get("Host", "") not in self._own_hosts():
            self._refuse(421, "this server answers only to 127.0.0.1 and localhost with its port")
            return False
        if "%00" in self.path or "\x00" in self.path:
            self._refuse(400, "a NUL byte in the path")
            return False
        return True

    def _refuse(self, status: int, message: str) -> None:
        """A JSON error, like every other error of the API, and the connection closed."""
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        for name, value in (("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("Connection", "close")):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _same_origin(self) -> bool:
        """The request comes from the browser app itself (or from no browser at all)."""
        site = self.headers.get("Sec-Fetch-Site")
        origin = self.headers.get("Origin")
        return site in (None, "same-origin", "none") and (
            origin is None or origin.removeprefix("http://") in self._own_hosts())

    def do_GET(self) -> None:
        """A stream file, the browser app, or Chalice for an API route."""
        if self.path.startswith(PLAY_ROOT):
            from chalicelib.stores.clients import playback_secret
            from chalicelib.stores.services import get_services

            found = playback_response(self.path, self.settings, get_services().storage, playback_secret(self.settings),
                                      self.headers.get("Range", ""))
        else:
            # The local owner's key goes only to the app's own pages, never to another site's.
            found = frontend_response(self.path, self.settings, api_key=self.api_key if self._same_origin() else "")
        if found is None:
            self._generic_handle()
            return
        status, headers, body = found
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def do_OPTIONS(self) -> None:
        """CORS preflight of a stream file (an embed on another origin); Chalice answers the API's."""
        if not self.path.startswith(PLAY_ROOT):
            self._generic_handle()
            return
        self.send_response(204)
        for name, value in {**_PLAY_CORS, "Access-Control-Max-Age": "600", "Content-Length": "0"}.items():
            self.send_header(name, value)
        self.end_headers()

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, …) would get http.server's 501: let Chalice answer
        # 405, as API Gateway does.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


def serve_api(app: Any, settings: Settings, port: int, api_key: str = "") -> LocalDevServer:
    """Serve ``app`` on 127.0.0.1:``port`` from a background thread; stop with ``.shutdown()``.
    ``api_key`` is the one the browser app gets in ``/config.json``."""
    handler = type("RequestHandler", (QuietRequestHandler,), {"settings": settings, "api_key": api_key})
    server = LocalDevServer(thread_local_requests(app), Config(chalice_stage="local"), "127.0.0.1", port,
                            handler_cls=handler, server_cls=ApiServer)
    threading.Thread(target=server.server.serve_forever, name="api", daemon=True).start()
    return server
