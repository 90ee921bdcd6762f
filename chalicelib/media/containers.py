"""What is wrong with a container that ffmpeg cannot read: ISO BMFF (MP4/MOV) box sizes and
table counts, the Matroska EBML header, the RIFF header of an AVI, MPEG-TS packet sync.

Byte checks over ``read_at(offset, length)`` (the probe's range reads), used only once ffmpeg
has failed, to say what is wrong instead of "invalid data". Each returns a reason for users, or
None when the file is not of its kind or it finds nothing wrong; "truncated" only when the file
really ends before a box it started.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

ReadAt = Callable[[int, int], bytes]

# Top-level ISO BMFF / QuickTime box types: a file starting with one of them is of that family.
MOV_TOP_LEVEL = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp", b"uuid"})
# Boxes whose payload is more boxes (udta and meta are left alone: QuickTime fills them freely).
_MOV_CONTAINERS = frozenset({"moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "mvex"})
# Tables: box → (bytes before the count after the version/flags, bytes per entry).
_MOV_TABLES = {"stco": (0, 4), "co64": (0, 8), "stts": (0, 8), "ctts": (0, 8), "stsc": (0, 12), "stss": (0, 4),
               "stps": (0, 4), "stsz": (4, 4)}
_MAX_BOXES = 10_000
# How much of the tail is searched for the box a too-large size hides (the moov of a long file
# is a few MB).
TAIL_SEARCH = 64 * 1024**2
_SEARCH_PIECE = 1024**2


class Box(NamedTuple):
    """An ISO BMFF box: type, absolute offset, total size, header length."""

    type: str
    offset: int
    size: int
    header: int


def _header(read_at: ReadAt, pos: int, end: int) -> tuple[bytes, int, int] | None:
    """(type, size, header length) of the box at ``pos`` (size 0: up to ``end``); None if fewer
    than 8 bytes are left."""
    head = read_at(pos, 16)
    if len(head) < 8 or end - pos < 8:
        return None
    size, kind = struct.unpack(">I4s", head[:8])
    if size == 1:
        if len(head) < 16:
            return kind, 1, 16
        return kind, struct.unpack(">Q", head[8:16])[0], 16
    if size == 0:
        return kind, end - pos, 8
    return kind, size, 8


def _printable(kind: bytes) -> bool:
    return all(32 <= b < 127 or b == 0xA9 for b in kind)  # QuickTime's ©xyz metadata types


def looks_like_mov(head: bytes) -> bool:
    """True if ``head`` (the file's first bytes) starts with a top-level ISO BMFF box."""
    return len(head) >= 8 and head[4:8] in MOV_TOP_LEVEL


def _chains_to_end(read_at: ReadAt, pos: int, size: int) -> bool:
    """True if valid top-level boxes run from ``pos`` exactly to the end of the file."""
    for _ in range(100):
        if pos == size:
            return True
        found = _header(read_at, pos, size)
        if found is None:
            return False
        kind, box_size, header = found
        if not _printable(kind) or box_size < header or pos + box_size > size:
            return False
        pos += box_size
    return False


def _hidden_box(read_at: ReadAt, start: int, size: int) -> Box | None:
    """A top-level box inside ``[start, size)`` from which valid boxes chain to the end of the
    file: what a box whose size runs past the end hides (searched in the last ``TAIL_SEARCH``)."""
    low = max(start, size - TAIL_SEARCH)
    pos = size
    while pos > low:
        piece_start = max(low, pos - _SEARCH_PIECE)
        piece = read_at(piece_start, pos - piece_start + 8)
        for kind in (b"moov", b"moof", b"mdat", b"free", b"mfra"):
            at = piece.rfind(kind)
            while at >= 4:
                offset = piece_start + at - 4
                if offset >= start and _chains_to_end(read_at, offset, size):
                    found = _header(read_at, offset, size)
                    if found is not None:
                        return Box(kind.decode("latin-1"), offset, found[1], found[2])
                at = piece.rfind(kind, 0, at)
        pos = piece_start
    return None


def mov_problem(read_at: ReadAt, size: int) -> str | None:
    """The first structural defect of an MP4/MOV: a top-level box that is smaller than its
    header, runs past the end of the file (truncated, or a wrong size hiding the next box) or
    is followed by data that is no box; a moov child that does not fit its parent; a table
    whose entry count needs more bytes than its box has; a missing moov box."""
    head = read_at(0, 16)
    if not looks_like_mov(head):
        return None
    pos, previous = 0, ""
    seen: list[str] = []
    while pos < size and len(seen) < _MAX_BOXES:
        found = _header(read_at, pos, size)
        if found is None:
            return f"truncated: the file ends at byte {size}, in the middle of a box header"
        kind, box_size, header = found
        name = kind.decode("latin-1")
        if not _printable(kind):
            after = f" (the box '{previous}' before it has a wrong size)" if previous else ""
            return f"the MP4 has unreadable data at byte {pos}, where a box should start{after}"
        if box_size < header:
            return f"the MP4 box '{name}' at byte {pos} has an invalid size ({box_size} bytes, less than its header)"
        if pos + box_size > size:
            hidden = _hidden_box(read_at, pos + header, size)
            if hidden is not None:
                return (f"the MP4 box '{name}' at byte {pos} has an invalid size ({box_size} bytes, past the end "
                        f"of the file, over the '{hidden.type}' box at byte {hidden.offset})")
            index = "" if "moov" in seen or name == "moov" else ", before its index (the moov box)"
            return (f"truncated: the file ends at byte {size}, inside the '{name}' box that runs to byte "
                    f"{pos + box_size}{index}")
        if name == "moov":
            problem = _children_problem(read_at, Box(name, pos, box_size, header), "moov")
            if problem:
                return problem
        seen.append(name)
        previous = name
        pos += box_size
    if "moov" not in seen:
        return "incomplete MP4/MOV: it has no moov box (the index a recorder writes last)"
    return None


def _children_problem(read_at: ReadAt, parent: Box, path: str) -> str | None:
    pos, end = parent.offset + parent.header, parent.offset + parent.size
    for _ in range(_MAX_BOXES):
        if end - pos < 8:  # QuickTime may end a list with a 4-byte zero
            return None
        found = _header(read_at, pos, end)
        if found is None:
            return None
        kind, box_size, header = found
        name = kind.decode("latin-1")
        if not _printable(kind):
            return f"the MP4 box '{parent.type}' ({path}) holds unreadable data at byte {pos}"
        if box_size < header:
            return f"the MP4 box '{name}' (in {path}) has an invalid size ({box_size} bytes, less than its header)"
        if pos + box_size > end:
            return (f"the MP4 box '{name}' (in {path}) has an invalid size ({box_size} bytes at byte {pos}, past "
                    f"the end of the '{parent.type}' box holding it)")
        box = Box(name, pos, box_size, header)
        problem = (_children_problem(read_at, box, f"{path}/{name}") if name in _MOV_CONTAINERS
                   else _table_problem(read_at, box, path))
        if problem:
            return problem
        pos += box_size
    return None


def _table_problem(read_at: ReadAt, box: Box, path: str) -> str | None:
    if box.type not in _MOV_TABLES:
        return None
    skip, entry = _MOV_TABLES[box.type]
    fields = read_at(box.offset + box.header, 4 + skip + 4)
    if len(fields) < 8 + skip:
        return f"the MP4 box '{box.type}' (in {path}) has an invalid size ({box.size} bytes, too short for its fields)"
    if box.type == "stsz" and struct.unpack(">I", fields[4:8])[0] != 0:
        return None  # one size for every sample: no table follows
    count = struct.unpack(">I", fields[4 + skip:8 + skip])[0]
    need = box.header + 8 + skip + count * entry
    if need > box.size:
        return (f"the MP4 box '{box.type}' (in {path}) has an invalid size: its {count} entries need "
                f"{need} bytes, the box has {box.size}")
    return None


def mov_index_problem(read_at: ReadAt, size: int, data_end: int) -> str:
    """Why an MP4's sample index points to byte ``data_end``, past the end of the file: the file
    ends early (truncated), or its boxes are whole and the index itself is wrong."""
    problem = mov_problem(read_at, size)
    if problem is None:
        return (f"the MP4's sample index is invalid: it places video data up to byte {data_end}, past the end of "
                f"the file ({size} bytes), whose boxes are all complete (a broken stco/co64 box)")
    if problem.startswith("truncated"):
        return f"truncated: file ends at byte {size} but video data extends to byte {data_end}"
    return problem


EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_IDS = {0x4286: "EBMLVersion", 0x42F7: "EBMLReadVersion", 0x42F2: "EBMLMaxIDLength",
             0x42F3: "EBMLMaxSizeLength", 0x4282: "DocType", 0x4287: "DocTypeVersion", 0x4285: "DocTypeReadVersion"}


def _vint(data: bytes, pos: int, keep_marker: bool = False) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, length); None if invalid."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > len(data):
        return None
    value = int.from_bytes(data[pos:pos + length], "big")
    return (value if keep_marker else value & ((1 << (7 * length)) - 1)), length


def matroska_problem(head: bytes) -> str | None:
    """What is wrong with the EBML header of a Matroska/WebM file (``head``: its first bytes):
    a wrong signature, a malformed header, a version or DocType no reader supports."""
    says_matroska = any(b"\x42\x82" + bytes([0x80 | len(doc)]) + doc in head[:64] for doc in (b"matroska", b"webm"))
    if head[:4] != EBML_MAGIC:
        return ("not a valid Matroska file (bad EBML header: it does not start with the EBML signature)"
                if says_matroska else None)
    bad = "not a valid Matroska file (bad EBML header: {})"
    size = _vint(head, 4)
    if size is None:
        return bad.format("its length is malformed")
    start = 4 + size[1]
    end = start + size[0]
    if end > len(head):
        return bad.format(f"it claims {size[0]} bytes")
    fields: dict[str, int | bytes] = {}
    pos = start
    while pos < end:
        element = _vint(head, pos, keep_marker=True)
        length = _vint(head, pos + element[1]) if element else None
        if element is None or length is None or pos + element[1] + length[1] + length[0] > end:
            return bad.format(f"a malformed element at byte {pos}")
        value_at = pos + element[1] + length[1]
        raw = head[value_at:value_at + length[0]]
        name = _EBML_IDS.get(element[0])
        if name is not None:
            fields[name] = raw.rstrip(b"\0") if name == "DocType" else int.from_bytes(raw, "big")
        pos = value_at + length[0]
    doc = fields.get("DocType", b"matroska")
    if isinstance(doc, bytes) and doc not in (b"matroska", b"webm"):
        return bad.format(f"its DocType is {doc.decode('latin-1')!r}, not matroska or webm")
    # The most ffmpeg's reader accepts (EBML version 1, Matroska up to version 3 to read).
    limits = {"EBMLReadVersion": 1, "EBMLMaxIDLength": 4, "EBMLMaxSizeLength": 8, "DocTypeReadVersion": 3}
    for name, most in limits.items():
        value = fields.get(name)
        if isinstance(value, int) and value > most:
            return bad.format(f"{name} is {value}, more than the {most} it can be read with")
    return None


def riff_problem(head: bytes) -> str | None:
    """What is wrong with the RIFF header of an AVI (``head``: its first bytes): a wrong
    signature, or no header list where it must be. (A wrong RIFF size alone is harmless.)"""
    if head[8:12] not in (b"AVI ", b"AVIX"):
        return None
    if head[:4] != b"RIFF":
        return f"not a valid AVI file (bad RIFF header: it starts with {head[:4].decode('latin-1')!r}, not 'RIFF')"
    if head[12:16] != b"LIST" or head[20:24] != b"hdrl":
        return "not a valid AVI file (its RIFF header is not followed by the header list, 'hdrl')"
    return None


TS_SCAN = 4 * 1024**2
_TS_LOCK = 8  # packets in a row with a sync byte: a stream, not chance


def mpegts_problem(read_at: ReadAt, size: int) -> str | None:
    """Lost MPEG-TS packet sync (0x47 every 188 bytes, or 192 in M2TS) in the first ``TS_SCAN``
    bytes: none before the first run of synced packets, or packets after it without one."""
    data = read_at(0, min(size, TS_SCAN))
    for stride, lead in ((188, 0), (192, 4)):
        lock = None
        for residue in range(stride):
            at = data[residue::stride].find(b"\x47" * _TS_LOCK)
            if at >= 0 and (lock is None or residue + at * stride < lock):
                lock = residue + at * stride
        if lock is None:
            continue
        packets = data[lock:len(data) - (len(data) - lock) % stride:stride]
        missing = len(packets) - packets.count(b"\x47")
        if lock - lead >= stride:
            return (f"not a readable MPEG-TS stream: packet sync lost (no 0x47 sync byte every {stride} bytes) "
                    f"in its first {lock - lead} bytes")
        if missing:
            return (f"the MPEG-TS packet sync is lost: {missing} of {len(packets)} packets after byte {lock} "
                    f"have no 0x47 sync byte")
        return None
    return None


def problem(read_at: ReadAt, size: int) -> str | None:
    """What is wrong with the container of the file, by the family its first bytes claim."""
    head = read_at(0, 4096)
    if looks_like_mov(head):
        return mov_problem(read_at, size)
    for check in (matroska_problem, riff_problem):
        reason = check(head)
        if reason is not None:
            return reason
    if head[:4] == EBML_MAGIC or head[8:12] in (b"AVI ", b"AVIX"):
        return None
    return mpegts_problem(read_at, size)
