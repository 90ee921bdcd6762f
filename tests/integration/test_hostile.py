"""Hostile and broken uploads, generated here, through the live stack: each ends `failed` with a
plain reason within 30 s (or `done` and correct where it is a legitimate video); no local file
or internal URL is ever read; the workers keep running.

Malformed containers fail with what is really wrong with them ("truncated" only where the file
ends early); those ffmpeg reads despite a lying header (a box or RIFF size, an AVI's lengths)
are transcoded."""
from __future__ import annotations

import http.server
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.client import Client
from devstack.procs import free_port
from devstack.stack import Stack
from tests.support import avi, evil
from tests.support.media import MEDIA, ffmpeg_cmd
from tests.support.stack import assert_frame_exact

FAST = {"x264_preset": "ultrafast"}


class Canary:
    """An HTTP server standing in for internal endpoints (169.254.169.254 and the like): hostile
    files point at it, and it must never be asked for anything."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"#EXTM3U\n")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.server.shutdown()


def _playlist(canary: Canary, secret: Path) -> bytes:
    return (f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://{secret}\n"
            f"#EXTINF:10.0,\n{canary.url}/latest/meta-data/iam\n#EXT-X-ENDLIST\n").encode()


def _avi_with_huge_header(path: Path) -> None:
    """A real rawvideo AVI whose headers claim 20000x20000."""
    proc = ffmpeg_cmd("-f", "lavfi", "-i", "color=size=64x64:rate=5", "-t", "1", "-c:v", "rawvideo",
                      "-pix_fmt", "yuv420p", "-y", str(path))
    assert proc.returncode == 0, proc.stderr
    data = bytearray(path.read_bytes())
    avih = data.index(b"avih") + 8
    struct.pack_into("<II", data, avih + 32, 20000, 20000)  # dwWidth, dwHeight
    strf = data.index(b"strf") + 8
    struct.pack_into("<ii", data, strf + 4, 20000, 20000)  # biWidth, biHeight
    path.write_bytes(bytes(data))


def _render(path: Path, *args: str) -> Path:
    proc = ffmpeg_cmd(*args, "-y", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def _malformed(d: Path) -> dict[str, tuple[Path, str]]:
    """Containers with one structure broken: name → (file, a reason fragment, or "done:<frames>")."""
    clip = ["-f", "lavfi", "-i", "testsrc2=size=128x72:rate=25", "-f", "lavfi", "-i", "sine", "-t", "2"]
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac"]
    moov_last = _render(d / "plain.mp4", *clip, *h264).read_bytes()
    moov_first = _render(d / "plain-faststart.mp4", *clip, *h264, "-movflags", "+faststart").read_bytes()
    mkv = _render(d / "plain.mkv", *clip, *h264).read_bytes()
    riff = _render(d / "plain.avi", *clip, "-c:v", "mpeg4", "-c:a", "libmp3lame").read_bytes()
    ts = _render(d / "plain.ts", *clip, *h264).read_bytes()
    stbl = "moov/trak/mdia/minf/stbl"  # the first track's: the video
    cases = {
        # mdat's size runs past the end, over the moov that follows: a wrong size, not a cut
        "mdat-size-overrun.mp4": (evil.mp4_with_box_size(moov_last, "mdat", 10**7),
                                  "the MP4 box 'mdat' at byte 40 has an invalid size"),
        "box-smaller-than-header.mp4": (evil.mp4_with_box_size(moov_last, "free", 4),
                                        "the MP4 box 'free' at byte 32 has an invalid size"),
        "moov-child-size.mp4": (evil.mp4_with_box_size(moov_first, "moov/trak", 3),
                                "the MP4 box 'trak' (in moov) has an invalid size"),
        "stsz-count.mp4": (evil.mp4_with_entry_count(moov_first, f"{stbl}/stsz", 10**6),
                           "the MP4 box 'stsz' (in moov/trak/mdia/minf/stbl) has an invalid size"),
        "stco-past-end.mp4": (evil.mp4_with_chunk_offset(moov_first, f"{stbl}/stco", 10**8),
                              "the MP4's sample index is invalid"),
        "ebml-signature.mkv": (evil.mkv_with_bad_ebml(mkv, "signature"), "not a valid Matroska file (bad EBML header"),
        "ebml-read-version.mkv": (evil.mkv_with_bad_ebml(mkv, "read-version"),
                                  "not a valid Matroska file (bad EBML header"),
        "riff-signature.avi": (evil.avi_with_riff(riff, b"RIFX"), "not a valid AVI file (bad RIFF header"),
        "ts-sync-lost.ts": (evil.ts_without_sync(ts, len(ts) // 2), "packet sync lost"),
        # ffmpeg reads these despite the lie: so do we
        "moov-size-overrun.mp4": (evil.mp4_with_box_size(moov_last, "moov", 10**7), "done:50"),
        "stco-count-overrun.mp4": (evil.mp4_with_entry_count(moov_first, f"{stbl}/stco", 10**6), "done:50"),
        "riff-size.avi": (evil.avi_with_riff(riff, size=100), "done:50"),
    }
    for name, (data, _expect) in cases.items():
        (d / name).write_bytes(data)
    return {name: (d / name, expect) for name, (_data, expect) in cases.items()}


def _lying_avis(d: Path) -> dict[str, tuple[Path, str]]:
    """MPEG-4 + MP3 AVIs whose headers lie about lengths and buffer sizes (ffmpeg plays them all);
    the long one has more frames than its tiny declared length would allow a probe to scan."""
    base = avi.make_avi_mp3(d / "lying-base.avi", seconds=3.0, size="128x72")
    files = {f"avi-{lie}.avi": (avi.patch(base, d / f"avi-{lie}.avi", avi.LIES[lie]), "done:75")
             for lie in ("audio-length-huge", "audio-length-tiny", "all-lengths-wrong", "buffer-sizes-wrong")}
    long = avi.make_avi_mp3(d / "lying-long-base.avi", seconds=85.0, size="64x64", rate=120)
    tiny = {("avih", avi.AVIH_TOTAL_FRAMES): 1, ("video_strh", avi.STRH_LENGTH): 1, ("audio_strh", avi.STRH_LENGTH): 1}
    files["avi-long-lengths-tiny.avi"] = (avi.patch(long, d / "avi-long-lengths-tiny.avi", tiny), "done:10200")
    return files


# The lying AVIs' real audio length (seconds of the tone): the output's must match, whatever the headers say.
LYING_AUDIO = {**{f"avi-{lie}.avi": 3.0 for lie in ("audio-length-huge", "audio-length-tiny", "all-lengths-wrong",
                                                     "buffer-sizes-wrong")}, "avi-long-lengths-tiny.avi": 85.0}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, canary: Canary) -> dict[str, tuple[Path, str]]:
    """name → (file, expected: a reason fragment, or "done")."""
    d = tmp_path_factory.mktemp("hostile")
    secret = d / "secret.txt"
    secret.write_text("top secret\n")
    files: dict[str, tuple[Path, str]] = {}

    def add(name: str, data: bytes, expect: str) -> None:
        (d / name).write_bytes(data)
        files[name] = (d / name, expect)

    add("empty.mp4", b"", "empty")
    add("text.mp4", b"Dear diary, this is not a video.\n" * 100, "not a video")
    for src_name in ("sample.mp4", "sample_with_increasing_timestamps_360p.mp4"):
        data = (MEDIA / src_name).read_bytes()
        for pct in (10, 50, 90):
            add(f"cut{pct}-{src_name}", data[: len(data) * pct // 100], "truncated")
    add("playlist.mp4", _playlist(canary, secret), "not a video")
    add("ffconcat.mp4", f"ffconcat version 1.0\nfile {secret}\nfile {canary.url}/x.mp4\n".encode(), "disallowed")
    # The 2017 trick: an AVI whose stream data is an HLS playlist, for a nested demuxer to follow.
    riff = b"RIFF" + struct.pack("<I", 4096) + b"AVI LIST" + struct.pack("<I", 200) + b"hdrlavih"
    add("avi-hls.avi", riff + bytes(64) + _playlist(canary, secret) * 8, "not a video")
    huge = d / "huge-header.avi"
    _avi_with_huge_header(huge)
    files[huge.name] = (huge, "header is invalid")
    files["bomb.mp4"] = (_render(d / "bomb.mp4", "-f", "lavfi", "-i", "color=black:size=9000x9000:rate=1",
                                 "-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast"), "larger than")
    files["ten-hours.mp4"] = (_render(d / "ten-hours.mp4", "-f", "lavfi", "-i", "color=gray:size=64x64:rate=1/10",
                                      "-t", "36000", "-c:v", "libx264", "-preset", "ultrafast"), "limit")
    files["one-frame.mp4"] = (_render(d / "one-frame.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                                      "-frames:v", "1", "-c:v", "libx264"), "done")
    streams = [arg for _ in range(200) for arg in ("-map", "1:a")]
    files["streams.mkv"] = (_render(d / "streams.mkv", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10",
                                    "-f", "lavfi", "-i", "sine", "-t", "1", "-map", "0:v", *streams,
                                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"), "too many streams")
    files["audio-only.mp4"] = (MEDIA / "sample_audio_only.mp4", "no video")
    files.update(_malformed(d))
    files.update(_lying_avis(d))
    return files


CASES = ["empty.mp4", "text.mp4", *(f"cut{p}-{n}" for n in ("sample.mp4", "sample_with_increasing_timestamps_360p.mp4")
                                    for p in (10, 50, 90)),
         "playlist.mp4", "ffconcat.mp4", "avi-hls.avi", "huge-header.avi", "bomb.mp4", "ten-hours.mp4",
         "one-frame.mp4", "streams.mkv", "audio-only.mp4",
         "mdat-size-overrun.mp4", "box-smaller-than-header.mp4", "moov-child-size.mp4", "stsz-count.mp4",
         "stco-past-end.mp4", "ebml-signature.mkv", "ebml-read-version.mkv", "riff-signature.avi", "ts-sync-lost.ts",
         "moov-size-overrun.mp4", "stco-count-overrun.mp4", "riff-size.avi",
         *(f"avi-{lie}.avi" for lie in ("audio-length-huge", "audio-length-tiny", "all-lengths-wrong",
                                        "buffer-sizes-wrong", "long-lengths-tiny"))]


def _upload_raw(stack: Stack, client: Client, path: Path) -> str:
    """Create a job and put the bytes straight into its key — as if the POST policy's size
    condition were bypassed (moto does not enforce it)."""
    job = client.create_job(path) if path.stat().st_size else client._call(
        "POST", "/jobs", json={"filename": path.name, "size": 1, "content_type": "video/mp4"})
    from chalicelib.stores.services import get_services

    svc = get_services()
    svc.storage.s3.put_object(Bucket=svc.settings.upload_bucket, Key=job["key"], Body=path.read_bytes())
    return str(job["job_id"])


@pytest.mark.parametrize("name", CASES)
def test_hostile_upload(stack: Stack, corpus: dict[str, tuple[Path, str]], canary: Canary, tmp_path: Path,
                        name: str) -> None:
    path, expect = corpus[name]
    client = Client(stack.api_url)
    started = time.monotonic()
    job_id = _upload_raw(stack, client, path)
    status = client.wait(job_id, timeout=60)
    elapsed = time.monotonic() - started
    print(f"\n| `{name}` | {status['state']} | {status.get('error') or ''} | {elapsed:.1f} s |")
    if expect.startswith("done"):
        assert_frame_exact(client, status, int(expect.partition(":")[2] or 1), tmp_path / "out.mp4")
        if name in LYING_AUDIO:  # the tone, plus at most the MP3 and AAC frames that pad it
            assert 0 <= status["output"]["audio"]["duration"] - LYING_AUDIO[name] < 0.1, status["output"]["audio"]
    else:
        assert status["state"] == "failed", status
        assert elapsed < 30, f"took {elapsed:.1f} s"
        reason = status["error"]
        assert reason and expect in reason and "Traceback" not in reason and len(reason) < 400, reason
    assert canary.requests == [], "an internal URL was requested"
    assert all(w.alive() for w in stack.workers), "a worker crashed"
