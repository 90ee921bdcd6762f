"""A chunk's (or the audio's) encoder output → final CMAF segments on the global timeline, checked.

What the playlists need is returned as plain facts (durations, sizes, codec strings, init
hashes), so the assembler writes HLS and DASH from the job's records without reading a segment.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.model.audioparts import AUDIO_RATE
from chalicelib.model.errors import MediaError, VerificationError
from chalicelib.model.plan import Chunk, Plan
from chalicelib.model.tracks import MAIN_AUDIO_ID
from workers.media import cmaf

AUDIO_ID = MAIN_AUDIO_ID


@dataclass(frozen=True)
class Track:
    """One rendition's part of the package: its init segment and numbered media segments."""

    id: str
    init: bytes
    segments: dict[int, bytes]
    durations: list[int]  # ticks of the track's timescale, per segment in number order
    codecs: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def init_hash(self) -> str:
        """Short content hash of the init segment (every chunk's must be the same)."""
        return hashlib.sha256(self.init).hexdigest()[:16]

    def record(self) -> dict[str, Any]:
        """What the job's record keeps of this track (no bytes)."""
        return {"codecs": self.codecs, "init": self.init_hash, "first": min(self.segments, default=0),
                "durations": self.durations, "sizes": [len(self.segments[n]) for n in sorted(self.segments)],
                **self.facts}


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise VerificationError(f"segment check failed: {reason}")


def package_chunk(plan: Plan, chunk: Chunk, rung_files: dict[str, str]) -> list[Track]:
    """Split every rung's fragmented MP4 of ``chunk`` into final segments, on the global timeline.

    Checks what the streams promise: per rung exactly the chunk's frames, one fragment per
    segment, each starting with a sync (IDR/key) frame, the same durations in every rung and codec.
    """
    numbers = plan.segment_range(chunk)
    start = round(chunk.start * plan.timescale)
    offset = plan.origin_ticks + start
    # Ticks to the next chunk's first frame (the last chunk: to the video's end): where this
    # chunk's decode timeline must end for the next one to follow on.
    length = round((chunk.start + chunk.duration) * plan.timescale) - start
    tracks = []
    for rung in plan.rungs:
        package = cmaf.split(Path(rung_files[rung.id]).read_bytes())
        _check(cmaf.timescale(package.init) == plan.timescale, f"{rung.id} has timescale "
               f"{cmaf.timescale(package.init)}, expected {plan.timescale}")
        try:
            fragments = cmaf.presentation_timeline(package.init, package.fragments, length)
        except MediaError as exc:
            raise VerificationError(f"segment check failed: {rung.id} of chunk {chunk.index}: {exc}") from exc
        package = cmaf.Package(package.init, fragments)
        _check(len(package.fragments) == len(numbers),
               f"{rung.id} of chunk {chunk.index} has {len(package.fragments)} fragments, expected {len(numbers)}")
        frames = sum(f.samples for f in package.fragments)
        _check(frames == chunk.frame_count, f"{rung.id} of chunk {chunk.index} has {frames} frames, "
               f"expected {chunk.frame_count}")
        _check(all(f.starts_with_sync for f in package.fragments), f"a segment of {rung.id} does not start "
               "with a keyframe")
        segments, durations = {}, []
        for number, fragment in zip(numbers, package.fragments):
            segments[number] = cmaf.retime(fragment, offset + fragment.tfdt).data
            durations.append(fragment.duration)
        tracks.append(Track(rung.id, package.init, segments, durations, cmaf.codec_string(package.init),
                            {"frames": [f.samples for f in package.fragments]}))
    reference = tracks[0].durations
    for track in tracks[1:]:
        _check(track.durations == reference, f"{track.id}'s segment boundaries differ from {tracks[0].id}'s")
    return tracks


def package_audio(files: list[str], first_number: int = 0, decode_time: int = 0,
                  init: bytes | None = None, track_id: str = AUDIO_ID) -> Track:
    """The audio segment files (one fragment each, each on its own 0-based timeline) as segments
    ``first_number``… continuing the timeline at ``decode_time`` (48 kHz samples), of ``track_id``."""
    segments, durations = {}, []
    for number, path in enumerate(files, start=first_number):
        package = cmaf.split(Path(path).read_bytes())
        _check(len(package.fragments) == 1, f"audio segment {number} has {len(package.fragments)} fragments")
        _check(cmaf.timescale(package.init) == AUDIO_RATE, "audio timescale is not 48 kHz")
        if init is None:
            init = package.init
        _check(package.init == init, f"audio segment {number} has a different init segment")
        fragment = package.fragments[0]
        segments[number] = cmaf.retime(fragment, decode_time).data
        durations.append(fragment.duration)
        decode_time += fragment.duration
    _check(init is not None, "no audio segments")
    assert init is not None
    return Track(track_id, init, segments, durations, cmaf.codec_string(init))
