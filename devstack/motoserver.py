"""``python -m devstack.motoserver --port P --origin O…``: moto's server (the local S3 and SQS)
without its wildcard CORS.

moto's server answers every cross-origin request with ``Access-Control-Allow-Origin: *``, so any
page a developer's browser opens could read and write the local buckets (moto checks no
signatures). Here moto's own CORS is off and only the browser app's origins get CORS headers, on
preflights and on responses (the browser needs ``ETag`` exposed on part uploads), as S3 does for
a bucket CORS rule.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"  # read by moto at import

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.motoserver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--origin", action="append", default=[], help="a browser origin allowed CORS")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, only_from(app, set(args.origin)), threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
