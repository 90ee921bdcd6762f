"""AVI files whose headers lie: a real MPEG-4 + MP3 AVI made with ffmpeg, then header fields
patched in place (the stream data is untouched, so ffmpeg still plays it)."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from tests.support.media import ffmpeg_cmd

# Offsets of the fields inside a chunk's payload (AVIMAINHEADER, AVISTREAMHEADER, WAVEFORMATEX).
AVIH_TOTAL_FRAMES = 16
AVIH_SUGGESTED_BUFFER = 28
STRH_SCALE, STRH_RATE, STRH_LENGTH, STRH_SUGGESTED_BUFFER, STRH_SAMPLE_SIZE = 20, 24, 32, 36, 44
WAVE_AVG_BYTES, WAVE_BLOCK_ALIGN = 8, 12


def make_avi_mp3(path: Path, seconds: float = 3.0, size: str = "320x180", rate: int = 25) -> Path:
    """An AVI of testsrc2 (MPEG-4 Part 2) with a 44.1 kHz MP3 tone, as ffmpeg writes one."""
    proc = ffmpeg_cmd("-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}",
                      "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", f"{seconds:g}",
                      "-c:v", "mpeg4", "-q:v", "5", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "avi", "-y", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def chunks(data: bytes, start: int = 12, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """Every chunk (fourcc, payload offset, payload size) below ``start``, depth first; a LIST's
    fourcc is its list type (``hdrl``, ``strl``, ``movi``…)."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        if fourcc == b"LIST":
            kind = data[pos + 8:pos + 12]
            yield kind, pos + 12, size - 4
            if kind != b"movi":
                yield from chunks(data, pos + 12, min(end, pos + 8 + size))
        else:
            yield fourcc, pos + 8, size
        pos += 8 + size + (size & 1)


def header_offsets(data: bytes) -> dict[str, int]:
    """Payload offsets of ``avih`` and of the video's and audio's ``strh`` and ``strf``."""
    found: dict[str, int] = {}
    kind = ""
    for fourcc, offset, _size in chunks(data):
        if fourcc == b"avih":
            found["avih"] = offset
        elif fourcc == b"strh":
            kind = {b"vids": "video", b"auds": "audio"}.get(data[offset:offset + 4], "other")
            found[f"{kind}_strh"] = offset
        elif fourcc == b"strf":
            found[f"{kind}_strf"] = offset
    return found


def patch(path: Path, out: Path, fields: dict[tuple[str, int], int], width: int = 4) -> Path:
    """A copy of ``path`` with header fields set: (header, offset in its payload) → value, e.g.
    ``{("audio_strh", STRH_LENGTH): 1}``; ``("audio_strf", WAVE_BLOCK_ALIGN)`` is 16-bit."""
    data = bytearray(path.read_bytes())
    offsets = header_offsets(bytes(data))
    for (header, field), value in fields.items():
        size = 2 if header.endswith("strf") and field == WAVE_BLOCK_ALIGN else width
        struct.pack_into("<H" if size == 2 else "<I", data, offsets[header] + field, value)
    out.write_bytes(bytes(data))
    return out


def read_field(path: Path, header: str, field: int) -> int:
    """One 32-bit header field (for the tests' own checks)."""
    data = path.read_bytes()
    return int(struct.unpack_from("<I", data, header_offsets(data)[header] + field)[0])


# The lies: name → fields to patch. Lengths too large and too small, buffer sizes, and a VBR MP3
# declared as CBR (sample size 1, a byte rate, block align 1): what broken muxers write.
LIES: dict[str, dict[tuple[str, int], int]] = {
    "audio-length-huge": {("audio_strh", STRH_LENGTH): 10_000_000},
    "audio-length-tiny": {("audio_strh", STRH_LENGTH): 1},
    "audio-length-zero": {("audio_strh", STRH_LENGTH): 0},
    "total-frames-huge": {("avih", AVIH_TOTAL_FRAMES): 10_000_000, ("video_strh", STRH_LENGTH): 10_000_000},
    "total-frames-tiny": {("avih", AVIH_TOTAL_FRAMES): 1, ("video_strh", STRH_LENGTH): 1},
    "all-lengths-wrong": {("avih", AVIH_TOTAL_FRAMES): 3, ("video_strh", STRH_LENGTH): 5_000,
                          ("audio_strh", STRH_LENGTH): 7},
    "buffer-sizes-wrong": {("avih", AVIH_SUGGESTED_BUFFER): 1, ("audio_strh", STRH_SUGGESTED_BUFFER): 1,
                           ("video_strh", STRH_SUGGESTED_BUFFER): 0xFFFFFFFF},
    "block-align-1": {("audio_strf", WAVE_BLOCK_ALIGN): 1},
    "vbr-as-cbr": {("audio_strh", STRH_SCALE): 1, ("audio_strh", STRH_RATE): 8000,
                   ("audio_strh", STRH_SAMPLE_SIZE): 1, ("audio_strf", WAVE_BLOCK_ALIGN): 1},
    "vbr-as-cbr-wrong-rate": {("audio_strh", STRH_SCALE): 1, ("audio_strh", STRH_RATE): 1000,
                              ("audio_strh", STRH_SAMPLE_SIZE): 1, ("audio_strf", WAVE_BLOCK_ALIGN): 1,
                              ("audio_strh", STRH_LENGTH): 50},
}
