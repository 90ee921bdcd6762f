"""A compromised decoder reaches nothing: "evil" binaries in place of ffmpeg and of the probe child
try to read our secrets and reach internal endpoints; every attempt must fail.

The parent here holds what a worker or the chunking Lambda holds: AWS keys and a Redis URL with a
token in its environment. Canaries (plain TCP servers on loopback) stand in for the instance
metadata service (169.254.169.254), the ECS credentials endpoint (169.254.170.2), Valkey and S3.
"""
from __future__ import annotations

import http.server
import json
import socketserver
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.media import probe as probe_module
from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.media import MEDIA
from workers.media.encode import encode_audio, encode_ladder
from workers.media.mux import remux

EVIL = Path(__file__).resolve().parents[1] / "support" / "evil.py"
SECRETS = {"AWS_ACCESS_KEY_ID": "AKIAEVILTEST", "AWS_SECRET_ACCESS_KEY": "s3cr3t-key",
           "AWS_SESSION_TOKEN": "tok", "REDIS_URL": "redis://:valkey-token@10.0.0.5:6379/0",
           "FRAMEFLEET_REDIS_URL": "redis://:valkey-token@10.0.0.5:6379/0"}


class Canary:
    """A TCP server that records every connection (it should record none)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        canary = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                canary.hits.append(self.request.recv(200).decode(errors="replace"))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Canary]]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    found = [Canary() for _ in range(4)]  # metadata, ECS credentials, Valkey, S3
    yield found
    for c in found:
        c.server.shutdown()


class _RangeServer(http.server.SimpleHTTPRequestHandler):
    """Serves the corpus with Range support, as a presigned S3 GET would."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        data = path.read_bytes()
        first, last = 0, len(data) - 1
        if "Range" in self.headers:
            first_s, last_s = self.headers["Range"].removeprefix("bytes=").split("-")
            first, last = int(first_s), min(int(last_s or last), last)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        self.wfile.write(data[first:last + 1])
        return None

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def media_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             lambda *a, **k: _RangeServer(*a, directory=str(MEDIA), **k))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _evil_binary(folder: Path, outside: Path, canaries: list[Canary]) -> Path:
    ports = ",".join(str(c.port) for c in canaries)
    script = folder / "evil-ffmpeg"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} {EVIL} {outside} {ports} "$@"\n')
    script.chmod(0o755)
    return script


def _assert_nothing_reached(report: str, canaries: list[Canary], outside: Path) -> None:
    got = json.loads(report)
    assert got["env"] == [], got  # no secret, no setting of ours
    assert str(got["parent_environ"]).startswith("refused"), got
    assert str(got["aws_credentials"]).startswith("refused"), got
    assert got["reached"] == [] and all(c.hits == [] for c in canaries), got
    if sandbox.LANDLOCK_ABI:
        assert str(got["wrote_outside"]).startswith("refused") and not outside.exists(), got


@pytest.mark.parametrize("remote", [False, True])
def test_an_evil_probe_child_reaches_nothing(canaries: list[Canary], media_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, remote: bool) -> None:
    outside = tmp_path / "planted"
    ports = ",".join(str(c.port) for c in canaries)
    monkeypatch.setattr(probe_module, "PROBE_COMMAND", (sys.executable, str(EVIL), str(outside), ports))
    source = f"{media_url}/sample.mp4" if remote else str(MEDIA / "sample.mp4")
    with pytest.raises(MediaError) as failed:
        probe_module.probe(source, timeout=30)
    _assert_nothing_reached(str(failed.value), canaries, outside)


def test_the_real_probe_still_reads_a_url_through_its_parent(media_url: str) -> None:
    found = probe_module.probe(f"{media_url}/sample_with_increasing_timestamps_320w_240h.mp4", timeout=60)
    assert found.video is not None and found.video.frame_count == 932


@pytest.mark.parametrize("step", ["assembly", "chunk encode", "audio"])
def test_an_evil_ffmpeg_reaches_nothing(canaries: list[Canary], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        step: str) -> None:
    """Assembly reads our own files; workers encode from a local copy of the source
    (workers/tasks/sources.py): both offline."""
    outside, work = tmp_path / "planted", tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("FFMPEG_BINARY", str(_evil_binary(tmp_path, outside, canaries)))
    plan = plan_chunks(probe_module.probe(str(MEDIA / "sample.mp4")), EncodeOptions())
    with pytest.raises(MediaError):
        if step == "assembly":
            chunk = work / "c.mp4"
            chunk.write_bytes(b"\0" * 100)
            remux(str(chunk), None, str(work / "out.mp4"), timescale=90_000, timeout=30)
        elif step == "audio":
            encode_audio(str(MEDIA / "sample.mp4"), probe_module.probe(str(MEDIA / "sample.mp4")), plan, str(work),
                         timeout=30)
        else:
            encode_ladder(str(MEDIA / "sample.mp4"), plan.chunks[0], plan, EncodeOptions(), str(work), timeout=30)
    _assert_nothing_reached((work / "evil-report.json").read_text(), canaries, outside)


def test_an_offline_child_cannot_open_an_internet_socket(tmp_path: Path) -> None:
    code = ("import socket\n"
            "for family in (socket.AF_INET, socket.AF_INET6):\n"
            "    try:\n        socket.socket(family, socket.SOCK_STREAM); print('open')\n"
            "    except OSError as exc:\n        print('refused', exc.errno)\n"
            "socket.socketpair(); print('unix ok')\n")
    result = sandbox.run([sys.executable, "-c", code], 30, network=False)
    assert result.stdout.decode().split("\n")[:3] == ["refused 13", "refused 13", "unix ok"]
    assert sandbox.run([sys.executable, "-c", code], 30).stdout.decode().startswith("open")
