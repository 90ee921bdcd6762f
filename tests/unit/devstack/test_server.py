"""The local API server's static serving of the browser app (``frontend/dist``): pure, no server.

The browser end to end test itself is ``frontend/e2e`` (Vitest + playwright-core + Chromium).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.model.settings import Settings
from devstack.server import frontend_response


def served(path: str, dist: Path, settings: Settings | None = None) -> tuple[int, dict[str, str], bytes]:
    found = frontend_response(path, settings or Settings(), dist)
    assert found is not None, f"{path} was taken for an API route"
    return found


@pytest.fixture()
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>framefleet</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("outside dist")
    return tmp_path


@pytest.mark.parametrize("path", ["/health", "/jobs", "/jobs?limit=5", "/jobs/abc/cancel", "/openapi.json"])
def test_api_routes_are_left_to_chalice(dist: Path, path: str) -> None:
    assert frontend_response(path, Settings(), dist) is None


def test_every_route_of_the_app_is_left_to_chalice(dist: Path) -> None:
    from app import app

    for route in app.routes:
        concrete = route.replace("{", "x").replace("}", "")
        assert frontend_response(concrete, Settings(), dist) is None, f"{route} would get the browser app"


@pytest.mark.parametrize(("path", "content_type", "cache"), [
    ("/", "text/html; charset=utf-8", "no-cache"),
    ("/index.html", "text/html; charset=utf-8", "no-cache"),
    ("/assets/index-abc123.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
    ("/assets/index-abc123.css?v=1", "text/css; charset=utf-8", "public, max-age=31536000, immutable"),
    ("/favicon.svg", "image/svg+xml", "no-cache"),
])
def test_files_with_their_types(dist: Path, path: str, content_type: str, cache: str) -> None:
    status, headers, body = served(path, dist)
    assert (status, headers["Content-Type"], headers["Cache-Control"]) == (200, content_type, cache)
    assert body


def test_client_routes_fall_back_to_index(dist: Path) -> None:
    status, _, body = served("/some/client/route", dist)
    assert status == 200 and body.startswith(b"<!doctype html>")


@pytest.mark.parametrize("path", ["/assets/missing.js", "/missing.png", "/../secret.txt", "/%2e%2e/secret.txt"])
def test_missing_files_and_escapes_are_404(dist: Path, path: str) -> None:
    status, _, body = served(path, dist)
    assert status == 404 and b"outside" not in body


def test_runtime_config(dist: Path) -> None:
    found = frontend_response("/config.json", Settings(max_upload_bytes=1234), dist, api_key="ffk_local")
    assert found is not None
    status, headers, body = found
    assert (status, headers["Cache-Control"]) == (200, "no-store")
    assert json.loads(body) == {"apiUrl": "", "apiKey": "ffk_local", "maxUploadBytes": 1234}


def test_unbuilt_app_says_how_to_build(tmp_path: Path) -> None:
    status, _, body = served("/", tmp_path / "nothing")
    assert status == 503 and b"make frontend" in body
