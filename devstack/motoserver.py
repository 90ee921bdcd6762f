"""``python -m devstack.motoserver --port P --origin O…``: moto's server (the local S3 and SQS)
without its wildcard CORS.

moto's server answers every cross-origin request with ``Access-Control-Allow-Origin: *``, so any
page a developer's browser opens could read and write the local buckets (moto checks no
signatures). Here moto's own CORS is off and only the browser app's origins get CORS headers, on
preflights and on responses (the browser needs ``ETag`` exposed on part uploads), as S3 does for
a bucket CORS rule.

And a ranged read costs its range, as on S3: moto reads an object's every byte for each GET and
each UploadPartCopy, then slices the range asked for, so every seek of a decoder and every probe
of a large source cost a pass over the whole file (a 64 KiB read of a 735 MB source took 0.5-1 s).
"""
from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"  # read by moto at import

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import FakeKey, S3Backend
from moto.s3.responses import S3Response
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _cors_headers(origin: str, environ: dict[str, Any]) -> list[tuple[str, str]]:
    return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", "GET, PUT, POST, HEAD"),
            ("Access-Control-Allow-Headers", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "*")),
            ("Access-Control-Expose-Headers", "ETag"), ("Access-Control-Max-Age", "3000")]


def only_from(app: Wsgi, origins: set[str]) -> Wsgi:
    """``app`` with CORS for ``origins`` only; other origins get no CORS headers (and 403 preflights)."""
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        allowed = origin in origins
        if environ.get("REQUEST_METHOD") == "OPTIONS" and origin:
            status = "200 OK" if allowed else "403 Forbidden"
            start_response(status, [*(_cors_headers(origin, environ) if allowed else []), ("Content-Length", "0")])
            return [b""]

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [h for h in headers if not h[0].lower().startswith("access-control-")]
            if allowed and origin:
                kept += _cors_headers(origin, environ)
            return start_response(status, kept, exc_info)

        return app(environ, respond)

    return wsgi


class Slices:
    """An object's bytes as moto's range code uses them (its length, a slice), read from its buffer
    only where sliced."""

    def __init__(self, key: FakeKey) -> None:
        self.key = key

    def __len__(self) -> int:
        return int(self.key.size)

    def __getitem__(self, cut: slice) -> bytes:
        start, stop, _ = cut.indices(len(self))
        with self.key.lock:
            buffer = self.key._value_buffer
            buffer.seek(start)
            return bytes(buffer.read(max(0, stop - start)))

    def whole(self) -> bytes:
        """Every byte (a range moto answers with the whole object, e.g. one past the end)."""
        return self[0:len(self)]


_SLICED = threading.local()  # set while moto serves a request that reads a range alone


def _single_range(header: str | None) -> bool:
    """A ``bytes=first-[last]`` or ``bytes=-suffix`` header: the kinds moto answers from a slice
    of the value."""
    if not header or not header.startswith("bytes=") or "," in header:
        return False
    first, dash, last = (part.strip() for part in header[len("bytes="):].partition("-"))
    return bool(dash) and (first.isdigit() or not first) and (last.isdigit() or not last) and bool(first or last)


def ranged_reads() -> None:
    """Patch moto so that a ranged GET and an UploadPartCopy of a range read just that range."""
    value = FakeKey.value
    get_object, key_response, upload_part_copy = S3Response.get_object, S3Response.key_response, \
        S3Backend.upload_part_copy

    def read(key: FakeKey) -> Any:
        return Slices(key) if getattr(_SLICED, "on", False) else value.fget(key)  # type: ignore[attr-defined]

    def sliced(on: bool, call: Callable[[], Any]) -> Any:
        _SLICED.on = on
        try:
            return call()
        finally:
            _SLICED.on = False

    def get(self: S3Response) -> Any:
        return sliced(_single_range(self.headers.get("range")) and not self.querystring.get("partNumber"),
                      lambda: get_object(self))

    def respond(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        status, headers, body = key_response(self, *args, **kwargs)
        return status, headers, body.whole() if isinstance(body, Slices) else body

    def copy(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        start = kwargs.get("start_byte", args[6] if len(args) > 6 else None)
        return sliced(start is not None, lambda: upload_part_copy(self, *args, **kwargs))

    FakeKey.value = property(read, value.fset)  # type: ignore[assignment,attr-defined]
    S3Response.get_object = get  # type: ignore[method-assign]
    S3Response.key_response = respond  # type: ignore[method-assign]
    S3Backend.upload_part_copy = copy  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.motoserver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--origin", action="append", default=[], help="a browser origin allowed CORS")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    ranged_reads()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, only_from(app, set(args.origin)), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
