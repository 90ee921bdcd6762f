"""CMAF packaging of our own encoder output (pure byte work, no ffmpeg).

ffmpeg writes each rung of a chunk as one fragmented MP4 whose fragments are its GOPs, with a
timeline starting at 0. Here that file becomes an init segment (``ftyp`` + ``moov``) and one media
segment per fragment (``styp`` + ``moof`` + ``mdat``) whose ``tfdt`` is moved onto the job's
global timeline, so a chunk's segments are final as they are: nothing is ever concatenated or
re-muxed, and the assembler only writes playlists.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib.model.errors import MediaError

CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mvex", b"edts"})
# CMAF media segment brand (ISO/IEC 23000-19) and DASH's, for players that look at it.
STYP = struct.pack(">I4s4sI4s4s", 24, b"styp", b"msdh", 0, b"msdh", b"cmfs")
_NON_SYNC = 0x00010000  # sample_is_non_sync_sample in ISO BMFF sample flags


@dataclass(frozen=True)
class Box:
    """One ISO BMFF box: ``data[offset:offset + size]``, its payload after ``header`` bytes."""

    type: bytes
    offset: int
    size: int
    header: int

    @property
    def body(self) -> slice:
        """The payload's slice of the buffer."""
        return slice(self.offset + self.header, self.offset + self.size)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes directly inside ``data[start:end]``. MediaError on a truncated or bad size."""
    end = len(data) if end is None else end
    offset = start
    while offset < end:
        if end - offset < 8:
            raise MediaError("truncated MP4 box header")
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise MediaError(f"bad MP4 box size for {kind!r}")
        yield Box(kind, offset, size, header)
        offset += size


def find(data: bytes, path: tuple[bytes, ...], start: int = 0, end: int | None = None) -> Box | None:
    """The first box at ``path`` (e.g. ``(b"moof", b"traf", b"tfdt")``) inside ``data[start:end]``."""
    for box in boxes(data, start, end):
        if box.type == path[0]:
            if len(path) == 1:
                return box
            inner = box.offset + box.header + (8 if box.type == b"stsd" else 0)
            found = find(data, path[1:], inner, box.offset + box.size)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class Fragment:
    """One media segment as written: the bytes and what its ``trun`` says."""

    data: bytes
    samples: int
    duration: int  # timescale ticks
    tfdt: int
    starts_with_sync: bool


@dataclass(frozen=True)
class Package:
    """A fragmented MP4 taken apart: its init segment and its fragments in order."""

    init: bytes
    fragments: tuple[Fragment, ...]

    @property
    def duration(self) -> int:
        """Sum of every fragment's duration (ticks)."""
        return sum(f.duration for f in self.fragments)


def _defaults(init: bytes) -> tuple[int, int]:
    """(default_sample_duration, default_sample_flags) of the init's ``trex``."""
    trex = find(init, (b"moov", b"mvex", b"trex"))
    if trex is None:
        return 0, 0
    # version/flags, track_ID, default_sample_description_index, duration, size, flags
    _, _, _, duration, _, flags = struct.unpack_from(">IIIIII", init, trex.offset + trex.header)
    return duration, flags


def _fragment(moof: bytes, trex_duration: int, trex_flags: int) -> tuple[int, int, int, bool]:
    """(samples, duration, tfdt, first sample is sync) of one ``moof`` (of a single track)."""
    tfhd = find(moof, (b"moof", b"traf", b"tfhd"))
    tfdt = find(moof, (b"moof", b"traf", b"tfdt"))
    trun = find(moof, (b"moof", b"traf", b"trun"))
    if tfhd is None or tfdt is None or trun is None:
        raise MediaError("a fragment lacks tfhd, tfdt or trun")
    pos = tfhd.offset + tfhd.header
    tf_flags = int.from_bytes(moof[pos + 1:pos + 4], "big")
    pos += 8  # version/flags, track_ID
    pos += 8 if tf_flags & 0x01 else 0  # base_data_offset
    pos += 4 if tf_flags & 0x02 else 0  # sample_description_index
    default_duration = trex_duration
    if tf_flags & 0x08:
        (default_duration,) = struct.unpack_from(">I", moof, pos)
        pos += 4
    pos += 4 if tf_flags & 0x10 else 0  # default_sample_size
    default_flags = trex_flags
    if tf_flags & 0x20:
        (default_flags,) = struct.unpack_from(">I", moof, pos)
    version = moof[tfdt.offset + tfdt.header]
    decode_time = struct.unpack_from(">Q" if version == 1 else ">I", moof, tfdt.offset + tfdt.header + 4)[0]
    pos = trun.offset + trun.header
    tr_flags = int.from_bytes(moof[pos + 1:pos + 4], "big")
    (count,) = struct.unpack_from(">I", moof, pos + 4)
    pos += 8
    pos += 4 if tr_flags & 0x001 else 0  # data_offset
    first_flags = None
    if tr_flags & 0x004:
        (first_flags,) = struct.unpack_from(">I", moof, pos)
        pos += 4
    entry = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if tr_flags & bit)
    duration = 0
    sample_flags = []
    for i in range(count):
        field = pos + i * entry
        if tr_flags & 0x100:
            duration += struct.unpack_from(">I", moof, field)[0]
            field += 4
        else:
            duration += default_duration
        field += 4 if tr_flags & 0x200 else 0
        if tr_flags & 0x400:
            sample_flags.append(struct.unpack_from(">I", moof, field)[0])
        elif i == 0 and first_flags is not None:
            sample_flags.append(first_flags)
        else:
            sample_flags.append(default_flags)
    sync = bool(sample_flags) and not sample_flags[0] & _NON_SYNC
    return count, duration, decode_time, sync


def split(data: bytes) -> Package:
    """Take a fragmented MP4 of one track apart: init segment, then one segment per ``moof``.

    Each segment is ``styp`` + ``moof`` + ``mdat``; anything after the last fragment (``mfra``)
    is dropped. MediaError when the file is not such an MP4.
    """
    top = list(boxes(data))
    first_moof = next((i for i, b in enumerate(top) if b.type == b"moof"), None)
    if first_moof is None or not any(b.type == b"moov" for b in top[:first_moof]):
        raise MediaError("encoder output is not a fragmented MP4")
    init = data[: top[first_moof].offset]
    trex_duration, trex_flags = _defaults(init)
    fragments = []
    for moof, mdat in zip(top[first_moof::1], top[first_moof + 1::1]):
        if moof.type != b"moof":
            continue
        if mdat.type != b"mdat":
            raise MediaError("a moof is not followed by its mdat")
        moof_bytes = data[moof.offset:moof.offset + moof.size]
        samples, duration, tfdt, sync = _fragment(moof_bytes, trex_duration, trex_flags)
        fragments.append(Fragment(STYP + data[moof.offset:mdat.offset + mdat.size], samples, duration, tfdt, sync))
    return Package(init, tuple(fragments))


def retime(fragment: Fragment, decode_time: int) -> Fragment:
    """``fragment`` with its ``tfdt`` set to ``decode_time`` (a 64-bit tfdt is patched in place,
    so no size or data offset changes)."""
    data = bytearray(fragment.data)
    tfdt = find(bytes(data), (b"moof", b"traf", b"tfdt"), len(STYP))
    if tfdt is None or data[tfdt.offset + tfdt.header] != 1:
        raise MediaError("fragment has no 64-bit tfdt")
    struct.pack_into(">Q", data, tfdt.offset + tfdt.header + 4, decode_time)
    return Fragment(bytes(data), fragment.samples, fragment.duration, decode_time, fragment.starts_with_sync)


@dataclass(frozen=True)
class _Run:
    """A fragment's ``trun`` taken apart: per sample (duration, size, flags, composition offset)."""

    box: Box
    flags: int
    data_offset: int
    first_flags: int | None
    samples: list[tuple[int, int, int, int]]


def segment_run(segment: bytes, init: bytes) -> _Run:
    """A media segment's ``trun``: its flags, data offset and every sample's (duration, size,
    flags, composition offset), with the defaults of ``init``'s ``trex``."""
    return _run(segment, *_defaults(init))


def _run(data: bytes, trex_duration: int, trex_flags: int) -> _Run:
    tfhd = find(data, (b"moof", b"traf", b"tfhd"), len(STYP))
    trun = find(data, (b"moof", b"traf", b"trun"), len(STYP))
    if tfhd is None or trun is None:
        raise MediaError("a fragment lacks tfhd or trun")
    pos = tfhd.offset + tfhd.header
    tf_flags = int.from_bytes(data[pos + 1:pos + 4], "big")
    pos += 8 + (8 if tf_flags & 0x01 else 0) + (4 if tf_flags & 0x02 else 0)
    defaults = [trex_duration, 0, trex_flags]
    for i, bit in enumerate((0x08, 0x10, 0x20)):
        if tf_flags & bit:
            (defaults[i],) = struct.unpack_from(">I", data, pos)
            pos += 4
    pos = trun.offset + trun.header
    version, flags = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
    (count,) = struct.unpack_from(">I", data, pos + 4)
    pos += 8
    data_offset = first_flags = None
    if flags & 0x001:
        (data_offset,) = struct.unpack_from(">i", data, pos)
        pos += 4
    if flags & 0x004:
        (first_flags,) = struct.unpack_from(">I", data, pos)
        pos += 4
    samples = []
    for i in range(count):
        entry = []
        for j, bit in enumerate((0x100, 0x200, 0x400)):
            if flags & bit:
                entry.append(struct.unpack_from(">I", data, pos)[0])
                pos += 4
            else:
                entry.append(first_flags if j == 2 and i == 0 and first_flags is not None else defaults[j])
        cts = 0
        if flags & 0x800:
            (cts,) = struct.unpack_from(">i" if version == 1 else ">I", data, pos)
            pos += 4
        samples.append((entry[0], entry[1], entry[2], cts))
    return _Run(trun, flags, data_offset or 0, first_flags, samples)


def _rebuild(fragment: Fragment, run: _Run, durations: list[int], offsets: list[int], decode_time: int) -> Fragment:
    """``fragment`` with every sample's duration and composition offset written out (trun v1)."""
    flags = (run.flags | 0x100 | 0x800) & ~0x004
    flags |= 0x400 if run.first_flags is not None else 0
    body = b"".join(
        struct.pack(">I", d) + (struct.pack(">I", s) if flags & 0x200 else b"")
        + (struct.pack(">I", f) if flags & 0x400 else b"") + struct.pack(">i", c)
        for d, (_, s, f, _), c in zip(durations, run.samples, offsets))
    head = struct.pack(">I", len(run.samples)) + (b"" if not flags & 0x001 else b"\0\0\0\0")
    trun = struct.pack(">I4sI", 12 + len(head) + len(body), b"trun", (1 << 24) | flags) + head + body
    delta = len(trun) - run.box.size
    data = bytearray(fragment.data[:run.box.offset] + trun + fragment.data[run.box.offset + run.box.size:])
    if flags & 0x001:
        struct.pack_into(">i", data, run.box.offset + 16, run.data_offset + delta)
    for path in ((b"moof",), (b"moof", b"traf")):  # the trun's parents grow with it
        box = find(fragment.data, path, len(STYP))
        assert box is not None and box.header == 8
        struct.pack_into(">I", data, box.offset, box.size + delta)
    moved = Fragment(bytes(data), fragment.samples, sum(durations), fragment.tfdt, fragment.starts_with_sync)
    return retime(moved, decode_time)


def presentation_timeline(init: bytes, fragments: tuple[Fragment, ...], end: int) -> tuple[Fragment, ...]:
    """``fragments`` (one track's, in order, on a timeline starting at 0) with the decode timeline
    rebuilt from the presentation: the k-th sample decodes at the k-th earliest presentation time,
    the last one lasting until ``end`` (ticks); composition offsets keep every presentation time.

    Encoders extrapolate the first decode times of a B-frame stream from its first frames' spacing
    (x264: pts[2] - pts[0]): a timestamp gap there (held frames in AVI, MPEG-TS) makes the decode
    timeline outlast the pictures, so segments would overlap the next chunk's and list too long.
    Unchanged fragments keep their bytes. MediaError when ``end`` is not after the last picture.
    """
    trex_duration, trex_flags = _defaults(init)
    runs = [_run(f.data, trex_duration, trex_flags) for f in fragments]
    pts = []
    for fragment, run in zip(fragments, runs):
        dts = fragment.tfdt
        for duration, _, _, cts in run.samples:
            pts.append(dts + cts)
            dts += duration
    order = sorted(pts)
    if not order:
        return fragments
    if end <= order[-1]:
        raise MediaError(f"the pictures run to tick {order[-1]}, past the chunk's end {end}")
    decode = [*order, end]
    out, k = [], 0
    for fragment, run in zip(fragments, runs):
        n = len(run.samples)
        durations = [decode[k + i + 1] - decode[k + i] for i in range(n)]
        offsets = [pts[k + i] - decode[k + i] for i in range(n)]
        same = decode[k] == fragment.tfdt and all(
            d == s[0] and c == s[3] for d, c, s in zip(durations, offsets, run.samples))
        out.append(fragment if same else _rebuild(fragment, run, durations, offsets, decode[k]))
        k += n
    return tuple(out)


def timescale(init: bytes) -> int:
    """The track's timescale (``mdhd``)."""
    mdhd = find(init, (b"moov", b"trak", b"mdia", b"mdhd"))
    if mdhd is None:
        raise MediaError("init segment has no mdhd")
    body = mdhd.offset + mdhd.header
    return int(struct.unpack_from(">I", init, body + (20 if init[body] == 1 else 12))[0])


def codec_string(init: bytes) -> str:
    """The RFC 6381 ``CODECS`` value of an init segment's sample entry (avc1, hvc1, av01, mp4a)."""
    stsd = find(init, (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"))
    if stsd is None:
        raise MediaError("init segment has no sample description")
    entry = next(boxes(init, stsd.offset + stsd.header + 8, stsd.offset + stsd.size))
    # Visual sample entries carry 78 bytes of fields before their boxes, audio ones 28.
    inner = entry.offset + entry.header + (28 if entry.type == b"mp4a" else 78)
    children = {b.type: init[b.body] for b in boxes(init, inner, entry.offset + entry.size)}
    kind = entry.type.decode("latin-1")
    if kind in ("avc1", "avc3") and b"avcC" in children:
        c = children[b"avcC"]
        return f"{kind}.{c[1]:02X}{c[2]:02X}{c[3]:02X}"
    if kind in ("hvc1", "hev1") and b"hvcC" in children:
        return _hevc_string(kind, children[b"hvcC"])
    if kind == "av01" and b"av1C" in children:
        c = children[b"av1C"]
        profile, level, tier = c[1] >> 5, c[1] & 0x1F, "H" if c[2] & 0x80 else "M"
        depth = 12 if c[2] & 0x20 else 10 if c[2] & 0x40 else 8
        return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"
    if kind == "mp4a":
        return f"mp4a.40.{_aac_object_type(children.get(b'esds', b''))}"
    raise MediaError(f"no codec string for sample entry {kind!r}")


def _hevc_string(kind: str, c: bytes) -> str:
    space = "" if c[1] >> 6 == 0 else "ABC"[(c[1] >> 6) - 1]
    tier = "H" if c[1] & 0x20 else "L"
    profile = c[1] & 0x1F
    compat = int("{:032b}".format(int.from_bytes(c[2:6], "big"))[::-1], 2)  # bit-reversed
    constraints = list(c[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    tail = "".join(f".{b:02X}" for b in constraints)
    return f"{kind}.{space}{profile}.{compat:X}.{tier}{c[12]}{tail}"


def _aac_object_type(esds: bytes) -> int:
    """audioObjectType of the AudioSpecificConfig (tag 5) inside an ``esds``; 2 (LC) if absent."""
    pos = 4  # version/flags
    while pos < len(esds):
        tag = esds[pos]
        pos += 1
        length = 0
        for _ in range(4):
            byte = esds[pos]
            pos += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:
            pos += 3  # ES_ID, flags (no optional fields in ffmpeg's esds)
        elif tag == 0x04:
            pos += 13  # objectTypeIndication … avgBitrate
        elif tag == 0x05:
            return esds[pos] >> 3 if pos < len(esds) else 2
        else:
            pos += length
    return 2
