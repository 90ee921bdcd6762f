"""Checks of a streaming package on disk (HLS + DASH over CMAF), against what the issue promises.

Everything is read back from the files, with independent parsers where there are some (``m3u8``,
``mpegdash``, ffmpeg), never from the job's own records.
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import m3u8
from mpegdash.parser import MPEGDASHParser

from tests.support.media import decode_report, ffmpeg_cmd
from workers.media import cmaf
from workers.media.stream import INIT

AAC_FRAME = 1024
AUDIO_RATE = 48_000


@dataclass(frozen=True)
class Segment:
    """One media segment file as read back."""

    path: Path
    tfdt: int
    duration: int
    samples: int
    sync: bool
    size: int


@dataclass(frozen=True)
class TrackFiles:
    """A rendition folder: its timescale and segments in number order."""

    folder: Path
    timescale: int
    segments: list[Segment]

    @property
    def samples(self) -> int:
        return sum(s.samples for s in self.segments)


def read_track(folder: Path) -> TrackFiles:
    """Parse ``folder``'s init and every ``N.m4s`` (0, 1, … with no gap)."""
    init = (folder / INIT).read_bytes()
    numbers = sorted(int(p.stem) for p in folder.glob("*.m4s"))
    assert numbers == list(range(len(numbers))), f"{folder.name}: segment numbers {numbers[:5]}… have gaps"
    segments = []
    for number in numbers:
        path = folder / f"{number}.m4s"
        package = cmaf.split(init + path.read_bytes())
        assert len(package.fragments) == 1, f"{path}: {len(package.fragments)} fragments"
        f = package.fragments[0]
        segments.append(Segment(path, f.tfdt, f.duration, f.samples, f.starts_with_sync, path.stat().st_size))
    return TrackFiles(folder, cmaf.timescale(init), segments)


def check_timeline(track: TrackFiles) -> None:
    """``tfdt`` continuous: each segment starts where the previous one ended."""
    for a, b in zip(track.segments, track.segments[1:]):
        assert b.tfdt == a.tfdt + a.duration, f"{b.path}: tfdt {b.tfdt} ≠ {a.tfdt} + {a.duration}"


def check_package(package: Path, source_frames: int, audio_seconds: float | None, *, decode_segments: bool = True,
                  codecs_expected: int = 1, decode_dash: bool = True) -> dict[str, TrackFiles]:
    """Every promise of the package; returns the rendition folders read back (by id). ``decode_dash``
    False: the MPD is checked against the segments but not played through ffmpeg's DASH reader."""
    master = m3u8.load(str(package / "master.m3u8"))
    assert master.is_variant and master.version == 7
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in (package / "master.m3u8").read_text()
    tracks: dict[str, TrackFiles] = {}
    boundaries: list[tuple[str, list[int]]] = []
    for variant in master.playlists:
        rung = variant.uri.split("/")[0]
        track = tracks[rung] = read_track(package / rung)
        info = variant.stream_info
        assert info.codecs and info.resolution and info.frame_rate and info.average_bandwidth
        assert len(info.codecs.split(",")) == (2 if audio_seconds is not None else 1)
        # Exactly the source's frames, every segment a keyframe start, a continuous timeline.
        assert track.samples == source_frames, f"{rung}: {track.samples} frames, source has {source_frames}"
        assert all(s.sync for s in track.segments), f"{rung}: a segment does not start with a keyframe"
        check_timeline(track)
        boundaries.append((rung, [s.tfdt for s in track.segments]))
        _check_media_playlist(package / variant.uri, track, info.bandwidth)
        frames, errors = decode_report(package / variant.uri)
        assert (frames, errors) == (source_frames, ""), f"{variant.uri}: decoded {frames} frames, errors {errors!r}"
        if decode_segments:
            _decode_each_segment(track)
    assert len({tuple(b) for _, b in boundaries}) == 1, f"segment boundaries differ across rungs: {boundaries}"
    assert len({v.stream_info.codecs.split(",")[0][:4] for v in master.playlists}) == codecs_expected
    if audio_seconds is not None:
        (group,) = [m for m in master.media if m.type == "AUDIO"]
        audio = tracks["audio"] = read_track(package / group.uri.split("/")[0])
        assert audio.timescale == AUDIO_RATE
        check_timeline(audio)
        samples = sum(s.duration for s in audio.segments) - AAC_FRAME  # the priming frame precedes t=0
        assert abs(samples - audio_seconds * AUDIO_RATE) <= AAC_FRAME, f"audio {samples} samples vs {audio_seconds} s"
        _check_media_playlist(package / group.uri, audio, None)
        _check_audio_boundaries(audio, tracks[boundaries[0][0]])
    if (package / "manifest.mpd").exists():
        _check_mpd(package / "manifest.mpd", tracks, decode_dash)
    return tracks


def _check_media_playlist(path: Path, track: TrackFiles, bandwidth: int | None) -> None:
    playlist = m3u8.load(str(path))
    assert playlist.version == 7 and playlist.playlist_type == "vod" and playlist.is_endlist
    assert playlist.is_independent_segments and playlist.segment_map[0].uri == INIT
    assert len(playlist.segments) == len(track.segments)
    for listed, real in zip(playlist.segments, track.segments):
        seconds = real.duration / track.timescale
        assert listed.uri == real.path.name
        assert abs(listed.duration - seconds) <= 0.001, f"{path}: EXTINF {listed.duration} vs {seconds}"
        assert playlist.target_duration >= round(listed.duration)
        if bandwidth is not None:
            assert bandwidth >= real.size * 8 / seconds, f"{real.path}: {real.size * 8 / seconds:.0f} b/s > {bandwidth}"


def _check_audio_boundaries(audio: TrackFiles, video: TrackFiles) -> None:
    """Audio segments start within one AAC frame of the video segments beside them."""
    origin = video.segments[0].tfdt
    for a, v in zip(audio.segments, video.segments):
        at = (a.tfdt - AAC_FRAME) / AUDIO_RATE
        vt = (v.tfdt - origin) / video.timescale
        assert abs(at - vt) <= AAC_FRAME / AUDIO_RATE + 1e-6, f"{a.path}: starts at {at:.4f}, video at {vt:.4f}"


def _decode_each_segment(track: TrackFiles) -> None:
    """Each segment alone (with its init) decodes cleanly to its frame count: it starts with an IDR."""
    init = (track.folder / INIT).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        for segment in track.segments:
            alone = Path(tmp) / "alone.mp4"
            alone.write_bytes(init + segment.path.read_bytes())
            frames, errors = decode_report(alone)
            assert (frames, errors) == (segment.samples, ""), f"{segment.path}: {frames} frames, {errors!r}"


def _check_mpd(path: Path, tracks: dict[str, TrackFiles], decode: bool = True) -> None:
    """The MPD parses, and each adaptation set's timeline is exactly its representations' segments."""
    mpd = MPEGDASHParser.parse(str(path))
    assert mpd.type == "static" and "cmaf" in mpd.profiles
    seen = set()
    for adaptation in mpd.periods[0].adaptation_sets:
        template = adaptation.segment_templates[0]
        timeline = []
        at = None
        for s in template.segment_timelines[0].Ss:
            at = s.t if s.t is not None else at
            for _ in range((s.r or 0) + 1):
                timeline.append((at, s.d))
                at += s.d
        for representation in adaptation.representations:
            track = tracks[representation.id]
            seen.add(representation.id)
            assert int(template.timescale) == track.timescale
            assert timeline == [(s.tfdt, s.duration) for s in track.segments], f"{representation.id}: MPD timeline"
            assert int(representation.bandwidth) >= max(s.size * 8 * track.timescale / s.duration
                                                         for s in track.segments)
    assert seen == set(tracks)
    duration = mpd.media_presentation_duration
    assert duration.startswith("PT") and math.isfinite(float(duration[2:-1]))
    if not decode:
        return
    proc = ffmpeg_cmd("-v", "error", "-i", str(path), "-map", "0", "-f", "null", "-")
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
