"""Generated sources of the real-world classes camera, phone and broadcast files fall into: a
stream cut before its first keyframe, several video streams, cover art, a motion photo's still."""
from __future__ import annotations

from pathlib import Path

import av

from tests.support.media import ffmpeg_cmd

TS_PACKET = 188


def _run(*args: str) -> None:
    proc = ffmpeg_cmd("-v", "error", "-y", *args)
    assert proc.returncode == 0, proc.stderr


def cut_before_keyframe(folder: Path, *, audio_seconds: float = 2.0, codec: str = "libx265") -> Path:
    """An MP4 whose video starts with ~0.8 s of frames that cannot be decoded (cut out of a
    broadcast mid-GOP, copied with its leading non-keyframes: no sync sample before them) and
    whose audio, from the start, is shorter than the video."""
    ts = folder / "gop.ts"
    x265 = ("-x265-params", "keyint=60:min-keyint=60:bframes=3:log-level=error")
    params = x265 if codec == "libx265" else ("-g", "60")
    _run("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=6", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=48000:duration=6", "-c:v", codec, "-preset", "ultrafast", *params,
         "-c:a", "aac", "-f", "mpegts", str(ts))
    data = ts.read_bytes()
    cut = folder / "cut.ts"
    cut.write_bytes(data[len(data) // TS_PACKET // 5 * TS_PACKET:])  # a fifth in: mid-GOP
    audio = folder / "short.m4a"
    _run("-i", str(cut), "-map", "0:a", "-c", "copy", "-t", f"{audio_seconds}", str(audio))
    out = folder / f"cut-{codec}.mp4"
    _run("-i", str(cut), "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c", "copy", "-copyinkf", "-t", "3.5",
         str(out))
    return out


def several_videos(folder: Path, container: str = "mp4") -> Path:
    """A small preview stream first (160x90, 2 s), the main video second (320x180, 25 fps, 3 s,
    marked default), a one-frame JPEG still third, and audio."""
    preview, main, still = folder / "preview.mkv", folder / "main.mkv", folder / "still.mkv"
    _run("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:duration=2", "-c:v", "libx264", "-preset", "ultrafast",
         str(preview))
    _run("-f", "lavfi", "-i", "testsrc=size=320x180:rate=25:duration=3", "-f", "lavfi",
         "-i", "sine=frequency=440:sample_rate=48000:duration=3", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", str(main))
    _run("-f", "lavfi", "-i", "color=c=red:s=640x360:r=1", "-frames:v", "1", "-c:v", "mjpeg", str(still))
    out = folder / f"several.{container}"
    _run("-i", str(preview), "-i", str(main), "-i", str(still), "-map", "0:v", "-map", "1:v", "-map", "2:v",
         "-map", "1:a", "-c", "copy", "-disposition:v:0", "0", "-disposition:v:1", "default",
         "-disposition:v:2", "0", str(out))
    return out


def with_cover_art(folder: Path) -> Path:
    """An MP4 whose first video stream is cover art (attached picture) bigger than the video."""
    clip, cover = folder / "clip.mp4", folder / "cover.png"
    _run("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=2", "-f", "lavfi",
         "-i", "sine=sample_rate=48000:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(clip))
    _run("-f", "lavfi", "-i", "color=c=blue:s=1280x720", "-frames:v", "1", str(cover))
    out = folder / "cover.mp4"
    _run("-i", str(cover), "-i", str(clip), "-map", "0", "-map", "1", "-c:v:0", "png", "-c:v:1", "copy",
         "-c:a", "copy", "-disposition:v:0", "attached_pic", str(out))
    return out


def decoded_video(path: Path, index: int = 0) -> tuple[int, tuple[int, int]]:
    """(frames, (width, height)) of a file's ``index``-th video stream, decoded."""
    with av.open(str(path)) as container:
        stream = container.streams.video[index]
        frames = sum(1 for _ in container.decode(stream))
        return frames, (stream.codec_context.width, stream.codec_context.height)


SUBTITLE_CUES = (("00:00:00,500", "00:00:01,500", "Hello"), ("00:00:02,000", "00:00:03,000", "World"))


def _srt(path: Path) -> Path:
    path.write_text("".join(f"{i}\n{a} --> {b}\n{text}\n\n" for i, (a, b, text) in enumerate(SUBTITLE_CUES, 1)))
    return path


def with_tracks(folder: Path, container: str = "mkv") -> Path:
    """Video (4 s) with two audio tracks, English (4 s, the default) and French (3.5 s, 44.1 kHz),
    and two text subtitle tracks, German and Spanish (SRT and ASS in Matroska, mov_text in MP4)."""
    srt = _srt(folder / "cues.srt")
    ass = folder / "cues.ass"
    _run("-i", str(srt), str(ass))
    out = folder / f"tracks.{container}"
    codecs = ("-c:s:0", "srt", "-c:s:1", "ass") if container == "mkv" else ("-c:s", "mov_text")
    _run("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=4",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
         "-f", "lavfi", "-i", "sine=frequency=880:sample_rate=44100:duration=3.5",
         "-i", str(srt), "-i", str(ass),
         "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map", "4",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", *codecs,
         "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "title=Commentaire",
         "-metadata:s:s:0", "language=deu", "-metadata:s:s:1", "language=spa",
         "-disposition:a:0", "default", "-disposition:a:1", "0", str(out))
    return out


def subtitles_without_audio(folder: Path) -> Path:
    """A silent screen recording with an English mov_text caption track."""
    srt = _srt(folder / "captions.srt")
    out = folder / "silent-captions.mp4"
    _run("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=4", "-i", str(srt), "-map", "0", "-map", "1",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng", str(out))
    return out
