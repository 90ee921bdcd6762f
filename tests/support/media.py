"""Shared helpers for media tests: corpus location, full local pipeline, frame counting."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.media.probe import probe
from chalicelib.model.audioparts import AUDIO_PART_SECONDS, AudioPart
from chalicelib.model.facts import ProbeResult
from chalicelib.model.kinds import PartState, audio_part, chunk_part
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from chalicelib.model.playback import SUBTITLES
from workers.media import dash, hls
from workers.media.binary import ffmpeg_binary
from workers.media.encode import (
    audio_tracks_of,
    encode_audio,
    encode_ladder,
    listed_segments,
    subtitle_path,
    track_folder,
)
from workers.media.mux import remux
from workers.media.package import Track, package_audio, package_chunk
from workers.media.stream import INIT, Index, collect, segment_name
from workers.media.verify import verify_output, verify_stream

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"  # ../shared/media from the repo root
TIMEOUT = 120.0

# Decoded frame counts from the corpus README (ffprobe -count_frames): the ground truth.
CORPUS_FRAMES = {
    "sample_with_increasing_timestamps_360p.mp4": 512,
    "sample_with_increasing_timestamps_320w_240h.mp4": 932,
    "bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4": 120,
    "long_1080p_lowbitrate.mp4": 10883,
    "bbb_1920x1080_60fps_vp8.webm": 60,
    "sample.avi": 96,
    "bbb_2500ms.ts": 58,
    "sample_video_only.mp4": 30,
    "internal_emulator_transformer_output_180_rotated.mp4": 149,
    "sowt-with-video.mov": 100,
    "sample.mp4": 30,
}


@dataclass
class Transcode:
    """Result of running the whole media pipeline locally: the package folder and its MP4."""

    probe: ProbeResult
    plan: Plan
    output: Path
    metadata: dict[str, Any]
    package: Path
    index: Index
    parts: dict[str, dict[str, Any]]
    chunk_inits: dict[str, list[bytes]]  # rung id → the init segment each chunk wrote


def _write(folder: Path, track: Track) -> None:
    (folder / track.id).mkdir(parents=True, exist_ok=True)
    (folder / track.id / INIT).write_bytes(track.init)
    for number, data in track.segments.items():
        (folder / track.id / segment_name(number)).write_bytes(data)


def join_track(folder: Path, count: int, path: Path) -> Path:
    """A rendition's init and first ``count`` segments as one fragmented MP4 (what a player reads)."""
    with path.open("wb") as out:
        for name in [INIT, *(segment_name(n) for n in range(count))]:
            out.write((folder / name).read_bytes())
    return path


def transcode(source: str, options: EncodeOptions, workdir: Path, *,
              max_decode_ratio: float = float("inf"), audio_part_seconds: float = AUDIO_PART_SECONDS) -> Transcode:
    """probe → plan → every chunk's ladder + the audio → package → playlists → MP4 → verify,
    with the workers' own functions, on local files (the package in ``workdir/package``).

    Chunks of exactly ``chunk_seconds`` by default, whatever the decode cost: these tests are
    about seams, and want many of them (the stack plans within the budget)."""
    probed = probe(source)
    plan = plan_chunks(probed, options, max_decode_ratio=max_decode_ratio, audio_part_seconds=audio_part_seconds)
    package = workdir / "package"
    parts: dict[str, dict[str, Any]] = {}
    inits: dict[str, list[bytes]] = {}
    for chunk in plan.chunks:
        folder = workdir / f"chunk{chunk.index:05d}"
        folder.mkdir()
        tracks = package_chunk(plan, chunk, encode_ladder(source, chunk, plan, options, str(folder), timeout=TIMEOUT))
        for track in tracks:
            _write(package, track)
            inits.setdefault(track.id, []).append(track.init)
        parts[chunk_part(chunk.index)] = {"state": PartState.DONE, "tracks": {t.id: t.record() for t in tracks}}
    for part in plan.audio_parts:
        folder = workdir / f"audio{part.index}"
        parts[audio_part(part.index)] = encode_audio_part(source, probed, plan, part, folder, package)
    index = collect(plan, parts)
    verify_stream(plan, index, parts)
    for name, text in hls.playlists(index).items():
        (package / name).write_text(text)
    (package / "manifest.mpd").write_text(dash.manifest(index))
    top = index.video[0]
    video = join_track(package / top.id, len(top.durations), workdir / "video.mp4")
    audio = join_track(package / "audio", len(index.audio.durations), workdir / "audio.mp4") if index.audio else None
    alternates = [(str(join_track(package / a.id, len(a.durations), workdir / f"{a.id}.mp4")), a.language)
                  for a in index.alternates]
    subtitles = [(str(package / t.id / SUBTITLES), t.language) for t in index.subtitles]
    output = workdir / "out.mp4"
    remux(str(video), str(audio) if audio else None, str(output), timescale=plan.timescale, timeout=TIMEOUT,
          languages=[index.audio.language] if index.audio else [], alternates=alternates, subtitles=subtitles)
    metadata = verify_output(str(output), plan, plan.audio_duration)
    return Transcode(probed, plan, output, metadata, package, index, parts, inits)


def encode_audio_part(source: str, probed: ProbeResult, plan: Plan, part: AudioPart, folder: Path,
                package: Path) -> dict[str, Any]:
    """Encode one audio part as the audio task does, its own segments into ``package``; its record."""
    folder.mkdir(parents=True)
    encode_audio(source, probed, plan, str(folder), timeout=TIMEOUT, part=part)
    records = {}
    for audio_track in audio_tracks_of(plan, probed):
        track_dir = track_folder(str(folder), audio_track)
        names = part.kept(listed_segments(track_dir))
        track = package_audio([os.path.join(track_dir, n) for n in names], first_number=part.first_segment,
                              decode_time=part.start, track_id=audio_track.id)
        _write(package, track)
        records[track.id] = track.record()
    for subtitle in plan.subtitles if part.index == 0 else ():
        (package / subtitle.id).mkdir(parents=True, exist_ok=True)
        (package / subtitle.id / SUBTITLES).write_bytes(Path(subtitle_path(str(folder), subtitle)).read_bytes())
    return {"state": PartState.DONE, "tracks": records}


def ffmpeg_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the test's own ffmpeg command (trusted arguments) and capture text output."""
    return subprocess.run(
        [ffmpeg_binary(), "-nostdin", "-hide_banner", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def decode_report(path: Path) -> tuple[int, str]:
    """Decode every frame of ``path``: (video frames decoded, error output of `-v error`)."""
    proc = ffmpeg_cmd("-v", "error", "-i", str(path), "-f", "null", "-progress", "pipe:1", "-")
    progress = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return int(progress.get("frame", "0")), proc.stderr.strip()


def gray_thumbnails(path: Path, size: tuple[int, int] = (64, 48)) -> list[bytes]:
    """Every decoded video frame of ``path`` as a small grayscale image (row padding stripped)."""
    import av

    thumbs = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            plane = frame.reformat(width=size[0], height=size[1], format="gray").planes[0]
            raw = bytes(plane)
            rows = (raw[row * plane.line_size : row * plane.line_size + size[0]] for row in range(size[1]))
            thumbs.append(b"".join(rows))
    return thumbs


def mse(a: bytes, b: bytes) -> float:
    """Mean squared difference of two equally sized 8-bit images."""
    return sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)
