"""The progressive MP4's header, built from the CMAF segments' own sample tables (pure byte work).

The MP4's ``mdat`` is the segments' media data laid end to end (each track's samples contiguous,
one ``stco`` chunk per segment), so it can be composed from objects that already hold those bytes
without reading them. What the ffmpeg remux (``workers.media.mux``) writes is kept: faststart
(``moov`` first), stream copy, a video timescale above 1 MHz rescaled to 90 kHz, positive
composition offsets shifted out by the video's edit list, the AAC priming hidden by the audio's
edit list so that the first real sample meets the first frame at t=0, ``mdhd`` languages, the
main audio enabled and every other audio track in its alternate group but not enabled.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.model.errors import MediaError
from workers.media import cmaf
from workers.media.mux import MAX_MP4_TIMESCALE, MP4_TIMESCALE

FTYP = struct.pack(">I4s4sI4s4s4s4s", 32, b"ftyp", b"isom", 0x200, b"isom", b"iso2", b"avc1", b"mp41")
_U32 = 0xFFFFFFFF
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(frozen=True)
class Samples:
    """One track's run of samples in decode order, as its segments' ``trun`` boxes list them."""

    decode_time: int  # tfdt of the first sample (the track's timescale)
    sizes: tuple[int, ...]
    durations: tuple[int, ...]
    offsets: tuple[int, ...]  # composition offsets (negative for B-frames)
    sync: tuple[bool, ...]
    chunks: tuple[int, ...]  # samples per segment, in order (each one ``stco`` chunk)

    @property
    def size(self) -> int:
        """Bytes of media data."""
        return sum(self.sizes)

    @property
    def end(self) -> int:
        """tfdt just after the last sample."""
        return self.decode_time + sum(self.durations)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the work index objects)."""
        return {"decode_time": self.decode_time, "sizes": list(self.sizes), "durations": list(self.durations),
                "offsets": list(self.offsets), "sync": [int(s) for s in self.sync], "chunks": list(self.chunks)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Samples:
        """From ``to_dict``'s form; MediaError when its lists disagree."""
        samples = cls(int(data["decode_time"]), tuple(data["sizes"]), tuple(data["durations"]),
                      tuple(data["offsets"]), tuple(bool(s) for s in data["sync"]), tuple(data["chunks"]))
        count = len(samples.sizes)
        if not (len(samples.durations) == len(samples.offsets) == len(samples.sync) == count == sum(samples.chunks)):
            raise MediaError("a sample table's lists disagree")
        return samples


def join(runs: Sequence[Samples]) -> Samples:
    """Consecutive runs of one track as one; MediaError when one does not start where the last ended."""
    if not runs:
        raise MediaError("a track has no samples")
    for before, after in zip(runs, runs[1:]):
        if after.decode_time != before.end:
            raise MediaError(f"a track's samples jump from tick {before.end} to {after.decode_time}")
    return Samples(runs[0].decode_time, *(tuple(v for r in runs for v in getattr(r, name))
                                         for name in ("sizes", "durations", "offsets", "sync", "chunks")))


def segment_samples(init: bytes, segment: bytes) -> tuple[Samples, bytes]:
    """A media segment's (``styp`` + ``moof`` + ``mdat``) sample table and its media data."""
    top = {b.type: b for b in cmaf.boxes(segment)}
    moof, mdat, tfdt = top.get(b"moof"), top.get(b"mdat"), cmaf.find(segment, (b"moof", b"traf", b"tfdt"))
    if moof is None or mdat is None or tfdt is None:
        raise MediaError("a media segment lacks its moof, mdat or tfdt")
    run = cmaf.segment_run(segment, init)
    payload = segment[mdat.offset + mdat.header:mdat.offset + mdat.size]
    if run.data_offset != moof.size + mdat.header or sum(s[1] for s in run.samples) != len(payload):
        raise MediaError("a media segment's samples are not its mdat's payload, in order")
    version = segment[tfdt.offset + tfdt.header]
    (decode_time,) = struct.unpack_from(">Q" if version == 1 else ">I", segment, tfdt.offset + tfdt.header + 4)
    return Samples(decode_time, tuple(s[1] for s in run.samples), tuple(s[0] for s in run.samples),
                   tuple(s[3] for s in run.samples), tuple(not s[2] & 0x00010000 for s in run.samples),
                   (len(run.samples),)), payload


def track_samples(init: bytes, segments: Iterable[bytes]) -> tuple[Samples, bytes]:
    """Consecutive media segments' joined sample table and their media data, concatenated."""
    tables, payloads = zip(*(segment_samples(init, s) for s in segments), strict=True)
    return join(tables), b"".join(payloads)


@dataclass(frozen=True)
class MovieTrack:
    """One track of the MP4: its CMAF init segment, its samples, and how it is presented."""

    init: bytes
    samples: Samples
    origin: int  # the tfdt-timeline tick shown at t=0 (the first frame; the first sample after the priming)
    language: str = ""  # ISO 639-2; "" is und
    enabled: bool = True  # played by default (the video and the main audio)

    @property
    def is_audio(self) -> bool:
        """Whether it is a sound track (its ``hdlr``)."""
        return _handler(self.init) == b"soun"

    def seconds(self, tick: int) -> float:
        """A tick of the track's tfdt timeline in seconds of the movie (0 at ``origin``)."""
        return (tick - self.origin) / cmaf.timescale(self.init)


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _copy(init: bytes, path: tuple[bytes, ...]) -> bytes:
    box = cmaf.find(init, (b"moov", b"trak", *path))
    if box is None:
        raise MediaError(f"the init segment has no {path[-1].decode()}")
    return init[box.offset:box.offset + box.size]


def _handler(init: bytes) -> bytes:
    hdlr = _copy(init, (b"mdia", b"hdlr"))
    return hdlr[16:20]


def _language(code: str) -> int:
    code = (code or "und").lower()
    if len(code) != 3 or not all("a" <= c <= "z" for c in code):
        code = "und"
    return sum((ord(c) - 0x60) << shift for c, shift in zip(code, (10, 5, 0)))


def _runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """(count, value) runs of consecutive equal values."""
    out: list[tuple[int, int]] = []
    for value in values:
        if out and out[-1][1] == value:
            out[-1] = (out[-1][0] + 1, value)
        else:
            out.append((1, value))
    return out


def _rescale(value: int, old: int, new: int) -> int:
    """``value`` ticks of ``old`` in ticks of ``new``, rounded half up (ffmpeg's av_rescale)."""
    return (2 * value * new + old) // (2 * old)


@dataclass(frozen=True)
class _Timing:
    """A track's times on the MP4's media timeline (0: its first sample's decode time)."""

    timescale: int
    durations: list[int]
    ctts: list[int]  # composition offsets, shifted to be ≥ 0
    media_time: int  # the edit's start: the media tick shown at t=0
    length: int  # the edit's length (media ticks)


def _timing(track: MovieTrack) -> _Timing:
    samples = track.samples
    old = cmaf.timescale(track.init)
    new = MP4_TIMESCALE if not track.is_audio and old > MAX_MP4_TIMESCALE else old
    # Every timestamp rescaled from t=0, then the durations between them: no drift.
    dts = [samples.decode_time]
    for duration in samples.durations:
        dts.append(dts[-1] + duration)
    scaled = [_rescale(t - track.origin, old, new) for t in dts]
    pts = [_rescale(t + o - track.origin, old, new) for t, o in zip(dts, samples.offsets)]
    offsets = [p - d for p, d in zip(pts, scaled)]
    shift = max(0, -min(offsets))
    media_time = shift - scaled[0]
    if media_time < 0:
        raise MediaError("a track starts after its own t=0")
    return _Timing(new, [b - a for a, b in zip(scaled, scaled[1:])], [o + shift for o in offsets], media_time,
                   scaled[-1])


def _stbl(track: MovieTrack, timing: _Timing, chunk_offsets: Sequence[int], wide: bool) -> bytes:
    samples = track.samples
    stts = _runs(timing.durations)
    boxes = [_copy(track.init, (b"mdia", b"minf", b"stbl", b"stsd")),
             _full(b"stts", 0, 0, struct.pack(">I", len(stts)), *(struct.pack(">II", *r) for r in stts))]
    if not all(samples.sync):
        sync = [i + 1 for i, s in enumerate(samples.sync) if s]
        boxes.append(_full(b"stss", 0, 0, struct.pack(">I", len(sync)), *(struct.pack(">I", i) for i in sync)))
    if any(timing.ctts):
        ctts = _runs(timing.ctts)
        boxes.append(_full(b"ctts", 0, 0, struct.pack(">I", len(ctts)), *(struct.pack(">II", *r) for r in ctts)))
    stsc: list[tuple[int, int]] = []  # (first chunk, samples per chunk)
    for number, count in enumerate(samples.chunks, start=1):
        if not stsc or stsc[-1][1] != count:
            stsc.append((number, count))
    boxes.append(_full(b"stsc", 0, 0, struct.pack(">I", len(stsc)), *(struct.pack(">III", f, n, 1) for f, n in stsc)))
    same = len(set(samples.sizes)) == 1
    boxes.append(_full(b"stsz", 0, 0, struct.pack(">II", samples.sizes[0] if same else 0, len(samples.sizes)),
                       b"" if same else struct.pack(f">{len(samples.sizes)}I", *samples.sizes)))
    boxes.append(_full(b"co64" if wide else b"stco", 0, 0, struct.pack(">I", len(chunk_offsets)),
                       struct.pack(f">{len(chunk_offsets)}{'Q' if wide else 'I'}", *chunk_offsets)))
    if track.is_audio:  # AAC: each packet needs the one before it to decode (ffmpeg writes the same)
        boxes.append(_full(b"sgpd", 1, 0, b"roll", struct.pack(">IIh", 2, 1, -1)))
        boxes.append(_full(b"sbgp", 0, 0, b"roll", struct.pack(">III", 1, len(samples.sizes), 1)))
    return _box(b"stbl", *boxes)


def _times(version: int, *values: int) -> bytes:
    return struct.pack(f">{len(values)}{'Q' if version else 'I'}", *values)


def _trak(number: int, track: MovieTrack, timing: _Timing, movie_timescale: int, chunk_offsets: Sequence[int],
          wide: bool) -> tuple[bytes, int]:
    """The ``trak`` and its presented length (movie ticks)."""
    length = _rescale(timing.length, timing.timescale, movie_timescale)
    media_length = sum(timing.durations)
    version = int(max(length, media_length, timing.media_time) > _U32)
    tkhd = _copy(track.init, (b"tkhd",))
    body = 12 + (12 if tkhd[8] == 1 else 0)  # after size, type, version/flags: the init's matrix and size
    matrix, (width, height) = tkhd[body + 36:body + 72], struct.unpack_from(">II", tkhd, body + 72)
    audio = track.is_audio
    tkhd = _full(b"tkhd", version, 3 if track.enabled else 2, _times(version, 0, 0), struct.pack(">II", number, 0),
                 _times(version, length), bytes(8), struct.pack(">hhhH", 0, int(audio), 0x100 if audio else 0, 0),
                 matrix, struct.pack(">II", width, height))
    elst = _full(b"elst", version, 0, struct.pack(">I", 1), _times(version, length, timing.media_time),
                 struct.pack(">hh", 1, 0))
    mdhd = _full(b"mdhd", version, 0, _times(version, 0, 0), struct.pack(">I", timing.timescale),
                 _times(version, media_length), struct.pack(">HH", _language(track.language), 0))
    header = _copy(track.init, (b"mdia", b"minf", b"smhd" if audio else b"vmhd"))
    minf = _box(b"minf", header, _copy(track.init, (b"mdia", b"minf", b"dinf")),
                _stbl(track, timing, chunk_offsets, wide))
    mdia = _box(b"mdia", mdhd, _copy(track.init, (b"mdia", b"hdlr")), minf)
    return _box(b"trak", tkhd, _box(b"edts", elst), mdia), length


def _mdat_header(size: int) -> bytes:
    return struct.pack(">I4s", 8 + size, b"mdat") if 8 + size <= _U32 else struct.pack(">I4sQ", 1, b"mdat", 16 + size)


Layout = Sequence[tuple[int, int]]  # the media data's order: (track index, how many of its next chunks)


def header(tracks: Sequence[MovieTrack], layout: Layout | None = None) -> bytes:
    """``ftyp`` + ``moov`` + the ``mdat`` header of the MP4 whose media data follows it, in
    ``layout``'s order (default: each track's samples in turn); ``tracks[0]`` is the video, each
    track's chunks (its segments) come in decode order."""
    if not tracks:
        raise MediaError("an MP4 needs a track")
    layout = list(layout if layout is not None else ((i, len(t.samples.chunks)) for i, t in enumerate(tracks)))
    for i, track in enumerate(tracks):
        if sum(count for index, count in layout if index == i) != len(track.samples.chunks):
            raise MediaError(f"the media layout does not hold each chunk of track {i + 1} once")
    timings = [_timing(t) for t in tracks]
    movie_timescale = timings[0].timescale
    media = sum(t.samples.size for t in tracks)
    # 32-bit chunk offsets unless the file outgrows them (the 64-bit header is the larger one).
    largest = len(FTYP) + len(_moov(tracks, timings, movie_timescale, layout, 0, True)) + 16 + media
    wide = largest > _U32
    start = len(FTYP) + len(_moov(tracks, timings, movie_timescale, layout, 0, wide)) + len(_mdat_header(media))
    return FTYP + _moov(tracks, timings, movie_timescale, layout, start, wide) + _mdat_header(media)


def interleaved(starts: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """(track index, span number) of every track's spans (``starts[i]``: when each of track i's
    spans starts, in seconds, in order), in the order they play: a player reading the file front to
    back meets sound and picture together."""
    return [(index, number) for _, index, number in
            sorted((start, index, number) for index, track in enumerate(starts) for number, start in enumerate(track))]


def _chunk_sizes(samples: Samples) -> list[int]:
    sizes, index = [], 0
    for count in samples.chunks:
        sizes.append(sum(samples.sizes[index:index + count]))
        index += count
    return sizes


def _moov(tracks: Sequence[MovieTrack], timings: Sequence[_Timing], movie_timescale: int, layout: Layout,
          start: int, wide: bool) -> bytes:
    sizes = [_chunk_sizes(t.samples) for t in tracks]
    offsets: list[list[int]] = [[] for _ in tracks]
    position = start
    for index, count in layout:
        for size in sizes[index][len(offsets[index]):len(offsets[index]) + count]:
            offsets[index].append(position)
            position += size
    traks, lengths = [], []
    for number, (track, timing) in enumerate(zip(tracks, timings), start=1):
        trak, length = _trak(number, track, timing, movie_timescale, offsets[number - 1], wide)
        traks.append(trak)
        lengths.append(length)
    version = int(max(lengths) > _U32)
    mvhd = _full(b"mvhd", version, 0, _times(version, 0, 0), struct.pack(">I", movie_timescale),
                 _times(version, max(lengths)), struct.pack(">IH", 0x10000, 0x100), bytes(10), _MATRIX, bytes(24),
                 struct.pack(">I", len(tracks) + 1))
    return _box(b"moov", mvhd, *traks)
