"""The CMAF HLS + DASH ladder, chunk-parallel, on real media and on generated clips of each class."""
from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.model.options import EncodeOptions
from tests.support.media import (
    CORPUS_FRAMES,
    MEDIA,
    decode_report,
    ffmpeg_cmd,
    gray_thumbnails,
    join_track,
    mse,
    transcode,
)
from tests.support.streams import check_package

# Small and fast, but a real ladder (two rungs at least on every source above 240 lines).
LADDER = EncodeOptions(x264_preset="ultrafast", max_height=360, chunk_seconds=1.0, segment_seconds=1.0)


def _clip(path: Path, source: str, *encode: str) -> Path:
    proc = ffmpeg_cmd("-v", "error", "-f", "lavfi", "-i", source, *encode, str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def _with_audio(path: Path, video: str, *encode: str, seconds: float = 4.0) -> Path:
    proc = ffmpeg_cmd("-v", "error", "-f", "lavfi", "-i", video, "-f", "lavfi",
                      "-i", f"sine=frequency=300:sample_rate=44100:duration={seconds}", *encode, str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def _audio_seconds(result_probe: object) -> float | None:
    from chalicelib.model.plan import expected_audio_duration

    return expected_audio_duration(result_probe)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [
    "sample_with_increasing_timestamps_360p.mp4",  # VFR
    "bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4",  # B-pyramid, non-square pixels
    "internal_emulator_transformer_output_180_rotated.mp4",  # rotated
    "bbb_2500ms.ts",  # MPEG-TS: pre-roll seeks
    "sample_video_only.mp4",  # no audio
    "sowt-with-video.mov",  # PCM audio in QuickTime
])
def test_corpus_file_streams(name: str, tmp_path: Path) -> None:
    result = transcode(str(MEDIA / name), LADDER, tmp_path)
    tracks = check_package(result.package, CORPUS_FRAMES[name], _audio_seconds(result.probe))
    assert len(result.plan.rungs) >= 2
    assert len(result.plan.chunks) >= 2 or result.probe.video.duration < 2  # seams wherever there can be
    for rung, inits in result.chunk_inits.items():
        assert len(inits) == len(result.plan.chunks) and len(set(inits)) == 1, f"{rung}: init segments differ"
    assert {r.id for r in result.plan.rungs} <= set(tracks)


@pytest.mark.parametrize(("label", "source", "encode"), [
    ("60fps", "testsrc2=size=640x360:rate=60:duration=4", ["-c:v", "libx264", "-g", "37"]),
    ("odd size", "testsrc2=size=321x241:rate=25:duration=4", ["-c:v", "libx264", "-pix_fmt", "yuv444p"]),
    ("vfr mkv", "testsrc2=size=480x270:rate=30:duration=4,setpts='(N/30+0.004*sin(N))/TB'",
     ["-c:v", "libx264", "-fps_mode", "vfr", "-bf", "3"]),
])
def test_generated_clip_streams(label: str, source: str, encode: list[str], tmp_path: Path) -> None:
    clip = _with_audio(tmp_path / f"src-{label.replace(' ', '-')}.mkv", source, *encode)
    result = transcode(str(clip), LADDER, tmp_path)
    check_package(result.package, result.probe.video.frame_count, _audio_seconds(result.probe))


def test_every_rung_holds_the_source_frames_in_order(tmp_path: Path) -> None:
    # Distinct frames (a moving pattern and a counter) with B-frames across chunk seams.
    source = _clip(tmp_path / "src.mp4", "testsrc2=size=320x240:rate=25:duration=6",
                   "-c:v", "libx264", "-bf", "3", "-g", "13", "-q:v", "2")
    options = EncodeOptions(x264_preset="ultrafast", crf=4, max_height=240, chunk_seconds=1, segment_seconds=1)
    result = transcode(str(source), options, tmp_path)
    src = gray_thumbnails(source)
    for rendition in result.index.video:
        joined = join_track(result.package / rendition.id, len(rendition.durations), tmp_path / f"{rendition.id}.mp4")
        out = gray_thumbnails(joined)
        assert len(out) == len(src) == 150
        for i, frame in enumerate(out):
            nearest = min((j for j in (i - 1, i, i + 1) if 0 <= j < len(src)), key=lambda j: mse(frame, src[j]))
            assert nearest == i, f"{rendition.id}: output frame {i} looks like source frame {nearest}"


def test_hevc_and_av1_ladders_share_the_boundaries(tmp_path: Path) -> None:
    clip = _with_audio(tmp_path / "src.mp4", "testsrc2=size=640x360:rate=30:duration=3", "-c:v", "libx264")
    options = EncodeOptions(x264_preset="ultrafast", max_height=360, chunk_seconds=1.0, segment_seconds=1.0,
                            codecs=("h264", "hevc", "av1"))
    result = transcode(str(clip), options, tmp_path)
    tracks = check_package(result.package, result.probe.video.frame_count, _audio_seconds(result.probe),
                           codecs_expected=3)
    codecs = {r.id: r.codecs for r in result.index.video}
    assert codecs["h264-360"].startswith("avc1.64") and codecs["hevc-360"].startswith("hvc1.")
    assert codecs["av1-360"].startswith("av01.0.")
    assert {"h264-360", "hevc-360", "av1-360", "h264-240", "hevc-240", "av1-240"} <= set(tracks)


def test_mp4_is_remuxed_from_the_top_rung(tmp_path: Path) -> None:
    clip = _with_audio(tmp_path / "src.mp4", "testsrc2=size=640x360:rate=30:duration=4", "-c:v", "libx264")
    result = transcode(str(clip), LADDER, tmp_path)
    top = result.index.video[0]
    assert (top.width, top.height) == (result.metadata["width"], result.metadata["height"])
    # Same pictures bit for bit: the MP4's video is the top rung's segments, not a second encode.
    joined = join_track(result.package / top.id, len(top.durations), tmp_path / "top.mp4")
    assert gray_thumbnails(joined) == gray_thumbnails(result.output)
    # A/V sync kept: the audio's first real sample at t=0 with the first frame (priming hidden).
    assert result.metadata["audio"]["duration"] == pytest.approx(4.0, abs=0.03)


def test_a_timestamp_gap_before_the_last_frame_is_a_valid_file(tmp_path: Path) -> None:
    # The last frame 133 ms after the one before (a stream-copy cut does this), B-frames in the
    # encode: the decode timeline ends short of the presentation; the job must not fail on it.
    source = _clip(tmp_path / "gap.mp4", "testsrc2=size=320x180:rate=30",
                   "-vf", "setpts='if(gte(N,61),(N+3)/30/TB,N/30/TB)'", "-frames:v", "62", "-fps_mode", "vfr",
                   "-c:v", "libx264", "-bf", "3")
    result = transcode(str(source), EncodeOptions(max_height=180, chunk_seconds=1, segment_seconds=1), tmp_path)
    assert result.metadata["frames"] == 62 and result.metadata["duration"] == pytest.approx(2.1667, abs=1e-3)
    for rendition in result.index.video:
        assert decode_report(result.package / rendition.id / "index.m3u8") == (62, "")


@pytest.mark.parametrize("name", ["sample.avi", "bbb_2500ms.ts"])
def test_a_timestamp_gap_in_the_first_frames_keeps_the_timeline(name: str, tmp_path: Path) -> None:
    # Held frames at the start (AVI, MPEG-TS): x264 extrapolates the first decode times from that
    # spacing; each rung must still last exactly the source, chunk after chunk (default options).
    from chalicelib.model.plan import MAX_DECODE_RATIO

    result = transcode(str(MEDIA / name), EncodeOptions(), tmp_path, max_decode_ratio=MAX_DECODE_RATIO)
    # Not through ffmpeg's DASH reader: it shifts each fragment by its own most negative composition
    # offset, so fragments whose offsets differ overlap in its output ("non monotonically increasing
    # dts"); the same segments decode cleanly through HLS, and the MPD is checked against them.
    tracks = check_package(result.package, CORPUS_FRAMES[name], _audio_seconds(result.probe), decode_dash=False)
    ticks = round(result.plan.video_duration * result.plan.timescale)
    for rung in result.plan.rungs:
        assert sum(s.duration for s in tracks[rung.id].segments) == ticks, rung.id
    assert result.metadata["frames"] == CORPUS_FRAMES[name]
