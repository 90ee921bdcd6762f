"""Progressive MP4s for the tests: one built locally from a package's segments, and what PyAV decodes of one."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from chalicelib.model.audioparts import AAC_FRAME
from workers.media import cmaf, progressive
from workers.media.stream import INIT, Index, Rendition, segment_name


def package_tracks(package: Path, index: Index, origin: int) -> tuple[list[progressive.MovieTrack], list[bytes]]:
    """The MP4's tracks (the top rung, then every audio rendition) of a package folder, and each one's media."""
    tracks, media = [], []

    def add(rendition: Rendition, track_origin: int, language: str = "", enabled: bool = True) -> None:
        folder = package / rendition.id
        init = (folder / INIT).read_bytes()
        segments = [(folder / segment_name(n)).read_bytes() for n in range(len(rendition.durations))]
        samples, data = progressive.track_samples(init, segments)
        tracks.append(progressive.MovieTrack(init, samples, track_origin, language, enabled))
        media.append(data)

    add(index.video[0], origin)
    for audio in index.audios:
        add(audio, AAC_FRAME, audio.language, audio is index.audio)
    return tracks, media


def local_mp4(package: Path, index: Index, origin: int, path: Path) -> Path:
    """The progressive MP4 of a package, written at ``path`` (header, then every track's media)."""
    tracks, media = package_tracks(package, index, origin)
    path.write_bytes(progressive.header(tracks) + b"".join(media))
    return path


def chunk_offsets(data: bytes) -> list[list[int]]:
    """Each track's chunk offsets (its ``stco`` or ``co64``) in an MP4, in track order."""
    moov = next(b for b in cmaf.boxes(data) if b.type == b"moov")
    out = []
    for trak in (b for b in cmaf.boxes(data, moov.offset + moov.header, moov.offset + moov.size) if b.type == b"trak"):
        for kind, code in ((b"stco", "I"), (b"co64", "Q")):
            box = cmaf.find(data, (b"mdia", b"minf", b"stbl", kind), trak.offset + trak.header, trak.offset + trak.size)
            if box is not None:
                body = box.offset + box.header
                (count,) = struct.unpack_from(">I", data, body + 4)
                out.append(list(struct.unpack_from(f">{count}{code}", data, body + 8)))
    return out


@dataclass(frozen=True)
class DecodedAudio:
    """One audio stream as decoded."""

    samples: np.ndarray  # channels × samples
    first: float  # seconds
    language: str
    default: bool


@dataclass(frozen=True)
class Decoded:
    """What a player gets of an MP4: every video frame's time, every audio stream's samples."""

    frames: list[float]  # seconds, in presentation order
    audio: list[DecodedAudio]


def decode(path: Path) -> Decoded:
    """Decode every stream of ``path`` with PyAV."""
    with av.open(str(path)) as container:
        frames = sorted(float(f.time) for f in container.decode(video=0) if f.time is not None)
        streams = [(s.index, s.language or "", bool(s.disposition & av.stream.Disposition.default))
                   for s in container.streams.audio]
    audio = []
    for index, language, default in streams:
        with av.open(str(path)) as container:
            decoded = [f for f in container.decode(container.streams[index]) if isinstance(f, av.AudioFrame)]
        audio.append(DecodedAudio(np.concatenate([f.to_ndarray() for f in decoded], axis=1),
                                  float(decoded[0].time or 0.0), language, default))
    return Decoded(frames, audio)


def assert_same_playback(got: Decoded, expected: Decoded, tick: float) -> None:
    """The same frames at the same times (within ``tick`` seconds: the remux's rounding), the same
    audio samples from the same instant, the same languages and default track."""
    assert len(got.frames) == len(expected.frames)
    assert got.frames[0] == expected.frames[0] == 0.0
    assert max(abs(a - b) for a, b in zip(got.frames, expected.frames)) <= tick + 1e-9
    assert len(got.audio) == len(expected.audio)
    for mine, theirs in zip(got.audio, expected.audio):
        assert mine.samples.shape == theirs.samples.shape
        assert np.array_equal(mine.samples, theirs.samples)
        assert (mine.first, mine.language, mine.default) == (theirs.first, theirs.language, theirs.default)
