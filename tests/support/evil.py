"""An "evil" decoder: run in place of ffmpeg or the probe child, it tries everything a compromised
demuxer would try and prints what it got as JSON (on stdout, and as the probe's error text).

    python evil.py <a path outside its folder> <canary ports comma-separated> [args the real binary would get]

The report goes to ``evil-report.json`` in its working folder (the one place it may write) and,
as the probe child's error payload, to stdout.

Below it, generators of malformed containers (the standard library only, so the script runs
anywhere): a real file's bytes in, the same bytes with one structure broken out.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import sys

SECRET_NAMES = ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "REDIS_URL",
                "FRAMEFLEET_REDIS_URL", "REDIS_AUTH_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def attempts(ports: list[int]) -> dict[str, object]:
    got: dict[str, object] = {"env": sorted(n for n in os.environ if n in SECRET_NAMES or n.startswith("FRAMEFLEET_"))}
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            got["parent_environ"] = len(f.read())
    except OSError as exc:
        got["parent_environ"] = f"refused: {exc.strerror}"
    try:
        with open(os.path.expanduser("~/.aws/credentials")) as f:
            got["aws_credentials"] = len(f.read())
    except OSError as exc:
        got["aws_credentials"] = f"refused: {exc.strerror}"
    reached = []
    for port in ports:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\n\r\n")
                reached.append(port)
        except OSError:
            pass
    got["reached"] = reached
    try:
        with open(sys.argv[1], "w") as f:
            f.write("planted")
        got["wrote_outside"] = True
    except OSError as exc:
        got["wrote_outside"] = f"refused: {exc.strerror}"
    return got


def main() -> int:
    ports = [int(p) for p in sys.argv[2].split(",") if p]
    report = attempts(ports)
    text = json.dumps(report)
    with open("evil-report.json", "w") as f:
        f.write(text)
    # As the probe child: an error payload carrying the report; as ffmpeg: a failure.
    print(json.dumps({"error": text, "invalid": True}))
    return 1


# --------------------------------------------------------------------------- malformed containers


def mp4_box(data: bytes, path: str) -> tuple[int, int, int]:
    """(offset, size, header length) of the ISO BMFF box at ``path`` ("moov/trak/mdia/minf/stbl/stsz":
    the first box of each name)."""
    start, end, found = 0, len(data), None
    for name in path.split("/"):
        pos, found = start, None
        while pos + 8 <= end:
            size, kind = struct.unpack_from(">I4s", data, pos)
            header = 8
            if size == 1:
                size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
            elif size == 0:
                size = end - pos
            if kind == name.encode():
                found = (pos, size, header)
                break
            if size < header:
                break
            pos += size
        if found is None:
            raise KeyError(path)
        start, end = found[0] + found[2], found[0] + found[1]
    assert found is not None
    return found


def mp4_with_box_size(data: bytes, path: str, size: int) -> bytes:
    """``data`` with the 32-bit size field of the box at ``path`` set to ``size``."""
    out = bytearray(data)
    struct.pack_into(">I", out, mp4_box(data, path)[0], size)
    return bytes(out)


# Where each table's entry count sits after its box header (version and flags first).
MP4_COUNT_OFFSET = {"stsz": 8, "stco": 4, "co64": 4, "stts": 4, "stsc": 4, "stss": 4, "ctts": 4}


def mp4_with_entry_count(data: bytes, path: str, count: int) -> bytes:
    """``data`` with the entry count of the table box at ``path`` (its last name: stsz, stco…) set to ``count``."""
    out = bytearray(data)
    offset, _size, header = mp4_box(data, path)
    struct.pack_into(">I", out, offset + header + MP4_COUNT_OFFSET[path.rsplit("/", 1)[-1]], count)
    return bytes(out)


def mp4_with_chunk_offset(data: bytes, path: str, offset: int) -> bytes:
    """``data`` with the first chunk offset of the ``stco`` box at ``path`` set to ``offset``."""
    out = bytearray(data)
    box, _size, header = mp4_box(data, path)
    struct.pack_into(">I", out, box + header + 8, offset)
    return bytes(out)


def mkv_with_bad_ebml(data: bytes, how: str) -> bytes:
    """A Matroska file whose EBML header is broken: ``signature`` (its first 4 bytes) or
    ``read-version`` (EBMLReadVersion 5, which no reader supports)."""
    if how == "signature":
        return b"\x1a\x45\xdf\xa4" + data[4:]
    if how == "read-version":
        field = b"\x42\xf7\x81\x01"
        head = data[:64]
        assert field in head, "no EBMLReadVersion 1 in the header"
        return head.replace(field, b"\x42\xf7\x81\x05", 1) + data[64:]
    raise ValueError(how)


def avi_with_riff(data: bytes, fourcc: bytes = b"RIFF", size: int | None = None) -> bytes:
    """An AVI whose RIFF header says ``fourcc`` and (if given) ``size``."""
    return fourcc + (data[4:8] if size is None else struct.pack("<I", size)) + data[8:]


def ts_without_sync(data: bytes, upto: int) -> bytes:
    """An MPEG-TS whose packets before byte ``upto`` lost their 0x47 sync byte."""
    out = bytearray(data)
    for pos in range(0, min(upto, len(out)), 188):
        out[pos] = 0
    return bytes(out)


if __name__ == "__main__":
    sys.exit(main())
