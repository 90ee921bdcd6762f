"""Media layer against the real ffmpeg and the shared corpus (no Redis/S3)."""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.media.probe import probe
from chalicelib.model.errors import InvalidMediaError
from chalicelib.model.options import EncodeOptions
from tests.support.media import CORPUS_FRAMES, MEDIA, decode_report, ffmpeg_cmd, gray_thumbnails, mse, transcode

FAST = EncodeOptions(x264_preset="ultrafast", max_height=240, chunk_seconds=1.0)


def test_corpus_is_complete() -> None:
    videos = {p.name for p in MEDIA.iterdir() if p.suffix in {".mp4", ".mov", ".webm", ".avi", ".ts"}}
    assert videos == set(CORPUS_FRAMES) | {"sample_audio_only.mp4"}


# The 6-minute file goes through the whole stack in test_pipeline (37 chunks, frame-exact): a
# second local transcode of it here would add ~40 s of CI for nothing more.
@pytest.mark.parametrize("name", sorted(n for n in CORPUS_FRAMES if not n.startswith("long_")))
def test_transcode_corpus_file(name: str, tmp_path: Path) -> None:
    result = transcode(str(MEDIA / name), FAST, tmp_path)

    expected_frames = CORPUS_FRAMES[name]
    assert result.probe.video.frame_count == expected_frames
    assert len(result.plan.chunks) >= min(3, int(result.probe.video.duration))
    frames, errors = decode_report(result.output)
    assert frames == expected_frames
    assert errors == ""  # clean decode of every stream
    meta = result.metadata
    assert meta["frames"] == expected_frames
    assert abs(meta["duration"] - result.probe.video.duration) <= 1 / result.plan.fps
    assert meta["height"] <= 240 and meta["width"] % 2 == 0 and meta["height"] % 2 == 0
    if result.probe.audio is None:
        assert meta["audio"] is None
    else:
        assert meta["audio"]["codec"] == "aac" and meta["audio"]["channels"] == 2
        assert meta["audio"]["sample_rate"] == 48000


def test_rotated_source_is_displayed_upright(tmp_path: Path) -> None:
    source = MEDIA / "internal_emulator_transformer_output_180_rotated.mp4"
    assert probe(str(source)).video.rotation == 180
    result = transcode(str(source), EncodeOptions(x264_preset="ultrafast", max_height=144, chunk_seconds=2), tmp_path)
    assert result.metadata["width"] > result.metadata["height"]
    # Pixels were turned: output frame 0 matches the source frame rotated 180 degrees.
    rotated = tmp_path / "rotated.mp4"
    proc = ffmpeg_cmd("-v", "error", "-i", str(source), "-frames:v", "1", "-vf", "scale=256:144", str(rotated))
    assert proc.returncode == 0, proc.stderr
    assert mse(gray_thumbnails(rotated)[0], gray_thumbnails(result.output)[0]) < 40


def test_sar_is_applied(tmp_path: Path) -> None:
    result = transcode(
        str(MEDIA / "bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4"),
        EncodeOptions(x264_preset="ultrafast", max_height=360, chunk_seconds=1),
        tmp_path,
    )
    assert (result.metadata["width"], result.metadata["height"]) == (640, 360)  # 16:9 display


def make_clip(path: Path, *extra: str) -> Path:
    """Distinct frames (testsrc2 has a moving pattern and a frame counter), 6 s at 25 fps."""
    proc = ffmpeg_cmd(
        "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6", *extra, str(path)
    )
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".mp4", ["-c:v", "libx264", "-bf", "3", "-g", "13"]), (".ts", ["-c:v", "mpeg2video", "-g", "12", "-bf", "2"])],
)
def test_frame_order_is_exact_at_chunk_seams(tmp_path: Path, suffix: str, codec: list[str]) -> None:
    source = make_clip(tmp_path / f"src{suffix}", *codec, "-q:v", "2")
    options = EncodeOptions(x264_preset="ultrafast", crf=4, max_height=240, chunk_seconds=1)
    work = tmp_path / "work"
    work.mkdir()
    result = transcode(str(source), options, work)
    # 6 chunks: for .ts the later ones really seek (pre-roll 3 s) and trim.
    assert len(result.plan.chunks) == 6 and result.plan.chunks[-1].seek > 0
    src, out = gray_thumbnails(source), gray_thumbnails(result.output)
    assert len(out) == len(src) == 150
    for i, frame in enumerate(out):
        neighbours = {j: mse(frame, src[j]) for j in (i - 1, i, i + 1) if 0 <= j < len(src)}
        assert min(neighbours, key=neighbours.__getitem__) == i, f"output frame {i} matches source {neighbours}"
        assert neighbours[i] < 5


def test_vfr_timestamps_follow_source(tmp_path: Path) -> None:
    import av

    source = MEDIA / "sample_with_increasing_timestamps_360p.mp4"
    result = transcode(str(source), FAST, tmp_path)
    with av.open(str(result.output)) as container:
        stream = container.streams.video[0]
        out_times = sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.pts is not None)
    assert len(out_times) == len(result.probe.video.frame_times)
    assert max(abs(a - b) for a, b in zip(out_times, result.probe.video.frame_times)) < 0.002


@pytest.mark.parametrize("audio_offset", [0.5, -0.5])
def test_audio_aligned_to_first_video_frame(tmp_path: Path, audio_offset: float) -> None:
    # Video 0..3 s; audio 2 s long starting 0.5 s after (padded with silence) or before the first
    # frame (all of it kept: the timeline starts with the audio, the first frame is held).
    source = tmp_path / "av.mkv"
    video_delay = ["-itsoffset", "0.5"] if audio_offset < 0 else []
    audio_delay = ["-itsoffset", "0.5"] if audio_offset > 0 else []
    proc = ffmpeg_cmd(
        "-v", "error",
        *video_delay, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=3",
        *audio_delay, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
        "-c:v", "libx264", "-c:a", "libvorbis", "-ac", "1", str(source),
    )
    assert proc.returncode == 0, proc.stderr
    probed = probe(str(source))
    assert probed.audio.start - probed.video.first_pts == pytest.approx(audio_offset, abs=0.03)
    result = transcode(str(source), FAST, tmp_path)
    expected = 2.0 + max(audio_offset, 0.0)
    assert result.metadata["audio"]["duration"] == pytest.approx(expected, abs=0.05)
    assert result.plan.lead == pytest.approx(max(-audio_offset, 0.0), abs=0.03)


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range support; counts body bytes served."""

    served = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        start, end = 0, size - 1
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2) or size - 1), size - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with path.open("rb") as handle:
            handle.seek(start)
            body = handle.read(end - start + 1)
        type(self).served += len(body)
        self.wfile.write(body)


@pytest.fixture
def http_media() -> Iterator[str]:
    def handler(*args: object, **kwargs: object) -> RangeHandler:
        return RangeHandler(*args, directory=str(MEDIA), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    RangeHandler.served = 0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_probe_reads_only_the_index(http_media: str) -> None:
    name = "sample_with_increasing_timestamps_360p.mp4"  # 3 MB, moov at the end
    remote = probe(f"{http_media}/{name}")
    local = probe(str(MEDIA / name))
    assert remote.video.frame_times == local.video.frame_times
    assert remote.audio == local.audio and remote.size == local.size
    size = (MEDIA / name).stat().st_size
    assert 0 < RangeHandler.served < size * 0.2, f"served {RangeHandler.served} of {size} bytes"


def test_http_probe_of_indexless_container_demuxes(http_media: str) -> None:
    remote = probe(f"{http_media}/bbb_2500ms.ts")
    assert remote.video.frame_count == 58 and remote.video.index == 0


def test_http_missing_file_reason(http_media: str) -> None:
    with pytest.raises(Exception, match="HTTP 404"):
        probe(f"{http_media}/nope.mp4")


def hostile_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("just some text, definitely not a video\n" * 50)
    playlist = tmp_path / "playlist.mp4"
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    moov_last = (MEDIA / "sample_with_increasing_timestamps_360p.mp4").read_bytes()
    cut_moov = tmp_path / "cut_moov.mp4"
    cut_moov.write_bytes(moov_last[: len(moov_last) // 2])
    moov_first = (MEDIA / "sample.mp4").read_bytes()
    cut_mdat = tmp_path / "cut_mdat.mp4"
    cut_mdat.write_bytes(moov_first[: len(moov_first) // 2])
    audio_only = MEDIA / "sample_audio_only.mp4"
    return {
        "empty": (empty, "file is empty"),
        "text": (text, "not a video file we can read"),
        "hls playlist": (playlist, "not a video file we can read"),
        "truncated, moov lost": (cut_moov, "truncated: the file ends at byte 1517039, inside the 'mdat' box"),
        "truncated, data lost": (cut_mdat, "truncated: file ends at byte"),
        "audio only": (audio_only, "not a video file (no video stream)"),
        "missing": (tmp_path / "missing.mp4", "cannot open input"),
    }


@pytest.mark.parametrize(
    "case", ["empty", "text", "hls playlist", "truncated, moov lost", "truncated, data lost", "audio only", "missing"]
)
def test_hostile_input_rejected_quickly(tmp_path: Path, case: str) -> None:
    path, reason = hostile_inputs(tmp_path)[case]
    started = time.monotonic()
    with pytest.raises(InvalidMediaError) as info:
        probe(str(path))
    assert str(info.value).startswith(reason)
    assert time.monotonic() - started < 5


def test_encoder_rejects_hls_playlist_renamed_mp4(tmp_path: Path) -> None:
    """Even if probing were skipped, ffmpeg itself refuses the playlist (format whitelist)."""
    from chalicelib.media import sandbox
    from chalicelib.model.errors import MediaError
    from workers.media.binary import ffmpeg_binary

    playlist, _ = hostile_inputs(tmp_path)["hls playlist"]
    argv = [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, *sandbox.input_args(str(playlist)), "-f", "null", "-"]
    # ffmpeg falls back to the .mp4 extension's demuxer, which finds no moov: rejected either way.
    with pytest.raises(MediaError, match="unrecognized or unsupported container|no moov box"):
        sandbox.run(argv, 10)


def test_chunks_share_one_init_segment_per_rung(tmp_path: Path) -> None:
    # Every chunk writes each rung's init segment (SPS/PPS, timescale, …): the same bytes.
    result = transcode(str(MEDIA / "sowt-with-video.mov"), FAST, tmp_path)
    assert len(result.plan.chunks) >= 2
    for rung, inits in result.chunk_inits.items():
        assert len(inits) == len(result.plan.chunks) and len(set(inits)) == 1, rung
