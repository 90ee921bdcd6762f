"""Rewrite the edit lists of an MP4 whose moov follows its mdat (ffmpeg's default layout), the
way a phone's or an editor's trim does: every track starts ``skip`` seconds into its media."""
from __future__ import annotations

import struct
from pathlib import Path

CONTAINERS = {b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl"}


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        out.append((kind, data[pos + header:pos + size]))
        pos += size
    return out


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _field(body: bytes, kind: bytes) -> bytes:
    return next(b for k, b in _boxes(body) if k == kind)


def _timescale(header: bytes) -> int:
    """``mvhd``/``mdhd`` timescale (version 0 or 1)."""
    return int(struct.unpack_from(">I", header, 20 if header[0] == 1 else 12)[0])


def _old_media_time(trak: bytes) -> int:
    """The first edit's media time (the encoder's own shift, e.g. AAC priming), 0 if none."""
    for kind, body in _boxes(trak):
        if kind == b"edts":
            elst = _field(body, b"elst")
            version, count = elst[0], struct.unpack_from(">I", elst, 4)[0]
            if count:
                fmt = ">Qq" if version == 1 else ">Ii"
                for i in range(count):
                    duration, media_time = struct.unpack_from(fmt, elst, 8 + i * struct.calcsize(fmt + "hh"))
                    if media_time >= 0:
                        return int(media_time)
    return 0


def _trak(trak: bytes, movie_timescale: int, skip: float, length: float) -> bytes:
    mdhd = _field(_field(trak, b"mdia"), b"mdhd")
    scale = _timescale(mdhd)
    media_time = _old_media_time(trak) + round(skip * scale)
    elst = struct.pack(">BxxxIQqhh", 1, 1, round(length * movie_timescale), media_time, 1, 0)
    edts = _box(b"edts", _box(b"elst", elst))
    children = [(k, b) for k, b in _boxes(trak) if k != b"edts"]
    out = b""
    for i, (kind, body) in enumerate(children):
        out += _box(kind, body)
        if kind == b"tkhd" or (i == 0 and kind != b"tkhd"):
            out += edts
    return _box(b"trak", out)


def trim_with_edit_list(source: Path, out: Path, skip: float, lengths: dict[str, float]) -> Path:
    """Copy ``source`` to ``out`` with every track's edit list starting ``skip`` seconds into its
    media and lasting ``lengths[handler]`` seconds (``vide``, ``soun``). No sample is moved: the
    demuxer must decode the video from the keyframe before ``skip`` and drop what precedes it."""
    data = source.read_bytes()
    top = _boxes(data)
    kinds = [k for k, _ in top]
    assert kinds[-1] == b"moov" and b"mdat" in kinds, "the moov must come last (sample offsets stay valid)"
    body = top[-1][1]
    movie_timescale = _timescale(_field(body, b"mvhd"))
    moov = b""
    for kind, child in _boxes(body):
        if kind == b"trak":
            handler = _field(_field(child, b"mdia"), b"hdlr")[8:12].decode()
            moov += _trak(child, movie_timescale, skip, lengths[handler])
        else:
            moov += _box(kind, child)
    # Everything before the moov stays byte for byte.
    out.write_bytes(data[:len(data) - 8 - len(body)] + _box(b"moov", moov))
    return out
