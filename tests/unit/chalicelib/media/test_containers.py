"""What is wrong with a container, from its bytes alone: built here box by box (no ffmpeg)."""
from __future__ import annotations

import struct

import pytest

from chalicelib.media import containers
from tests.support import evil


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def table(kind: bytes, count: int, entry: int, present: int | None = None, prefix: bytes = b"") -> bytes:
    """A full box (version/flags 0) listing ``count`` entries of ``entry`` bytes (``present`` of them there)."""
    entries = count if present is None else present
    return box(kind, bytes(4), prefix, struct.pack(">I", count), bytes(entries * entry))


def mp4(*, stsz: bytes | None = None, stco: bytes | None = None, mdat: int = 1000) -> bytes:
    stbl = box(b"stbl", table(b"stts", 1, 8), table(b"stsc", 1, 12),
               stsz if stsz is not None else table(b"stsz", 10, 4, prefix=bytes(4)),
               stco if stco is not None else table(b"stco", 1, 4))
    moov = box(b"moov", box(b"mvhd", bytes(100)), box(b"trak", box(b"tkhd", bytes(84)),
                                                      box(b"mdia", box(b"minf", stbl))))
    return box(b"ftyp", b"isom", bytes(4)) + moov + box(b"mdat", bytes(mdat))


def reader(data: bytes) -> containers.ReadAt:
    return lambda offset, length: data[offset:offset + length]


def check(data: bytes) -> str | None:
    return containers.problem(reader(data), len(data))


STBL = "moov/trak/mdia/minf/stbl"


def test_a_sound_mp4_has_no_problem() -> None:
    assert check(mp4()) is None
    assert evil.mp4_box(mp4(), f"{STBL}/stsz")[1] == 8 + 4 + 4 + 4 + 40


@pytest.mark.parametrize(("path", "size", "reason"), [
    ("ftyp", 4, "the MP4 box 'ftyp' at byte 0 has an invalid size (4 bytes, less than its header)"),
    ("moov/trak", 3, "the MP4 box 'trak' (in moov) has an invalid size (3 bytes, less than its header)"),
    ("moov/mvhd", 10_000, "the MP4 box 'mvhd' (in moov) has an invalid size (10000 bytes at byte"),
    (f"{STBL}/stco", 4_000, "the MP4 box 'stco' (in moov/trak/mdia/minf/stbl) has an invalid size"),
])
def test_a_box_whose_size_does_not_fit(path: str, size: int, reason: str) -> None:
    problem = check(evil.mp4_with_box_size(mp4(), path, size))
    assert problem is not None and problem.startswith(reason), problem


@pytest.mark.parametrize("kind", ["stsz", "stco", "stts", "stsc"])
def test_a_table_whose_count_overruns_its_box(kind: str) -> None:
    problem = check(evil.mp4_with_entry_count(mp4(), f"{STBL}/{kind}", 1_000_000))
    assert problem is not None and problem.startswith(f"the MP4 box '{kind}' (in {STBL}) has an invalid size: "
                                                      "its 1000000 entries need"), problem


def test_one_sample_size_for_all_needs_no_table() -> None:
    assert check(mp4(stsz=table(b"stsz", 10, 4, present=0, prefix=struct.pack(">I", 512)))) is None


def test_a_cut_file_is_truncated_and_a_box_hiding_the_next_one_is_not() -> None:
    moov_last = box(b"ftyp", b"isom", bytes(4)) + box(b"mdat", bytes(5000)) + mp4()[16:-1008]
    assert check(moov_last) is None
    cut = check(moov_last[:3000])
    assert cut == ("truncated: the file ends at byte 3000, inside the 'mdat' box that runs to byte 5024, "
                   "before its index (the moov box)"), cut
    hiding = check(evil.mp4_with_box_size(moov_last, "mdat", 9000))
    assert hiding is not None and hiding.startswith("the MP4 box 'mdat' at byte 16 has an invalid size (9000 bytes, "
                                                    "past the end of the file, over the 'moov' box at byte 5024)")
    assert "truncated" not in hiding


def test_no_moov_and_unreadable_data() -> None:
    assert check(box(b"ftyp", b"isom", bytes(4)) + box(b"mdat", bytes(100))) == \
        "incomplete MP4/MOV: it has no moov box (the index a recorder writes last)"
    problem = check(box(b"ftyp", b"isom", bytes(4)) + box(b"free", bytes(8)) + b"\x00\x00\x00\x10\x01\x02\x03\x04"
                    + bytes(8))
    assert problem == "the MP4 has unreadable data at byte 32, where a box should start (the box 'free' before it " \
                      "has a wrong size)"


def test_an_index_past_the_end_is_truncation_only_when_the_file_ends_early() -> None:
    whole = mp4()
    assert containers.mov_index_problem(reader(whole), len(whole), 10**6).startswith(
        "the MP4's sample index is invalid: it places video data up to byte 1000000")
    cut = whole[:-500]
    assert containers.mov_index_problem(reader(cut), len(cut), len(whole)).startswith("truncated: file ends at byte")


EBML = (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        b"\x42\x82\x88matroska\x42\x87\x81\x04\x42\x85\x81\x02")


@pytest.mark.parametrize(("data", "reason"), [
    (EBML + bytes(100), None),
    (evil.mkv_with_bad_ebml(EBML + bytes(100), "signature"), "it does not start with the EBML signature"),
    (evil.mkv_with_bad_ebml(EBML + bytes(100), "read-version"), "EBMLReadVersion is 5"),
    (EBML.replace(b"matroska", b"matrosky") + bytes(100), "its DocType is 'matrosky'"),
    (EBML[:4] + b"\x00" + EBML[5:] + bytes(100), "its length is malformed"),
    (b"\x1a\x45\xdf\xa4" + bytes(100), None),  # says nothing of Matroska: not ours to explain
])
def test_the_ebml_header(data: bytes, reason: str | None) -> None:
    problem = containers.matroska_problem(data)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith("not a valid Matroska file (bad EBML header: ") \
            and reason in problem, problem


def test_the_riff_header_of_an_avi() -> None:
    riff = b"RIFF" + struct.pack("<I", 1000) + b"AVI LIST" + struct.pack("<I", 100) + b"hdrlavih"
    assert containers.riff_problem(riff) is None
    assert containers.riff_problem(evil.avi_with_riff(riff, size=5)) is None  # a wrong size alone is harmless
    assert containers.riff_problem(evil.avi_with_riff(riff, b"RIFX")) == \
        "not a valid AVI file (bad RIFF header: it starts with 'RIFX', not 'RIFF')"
    assert containers.riff_problem(riff[:12] + b"JUNK" + riff[16:]) is not None


def test_mpegts_sync() -> None:
    stream = (b"\x47" + bytes(187)) * 100
    assert check(stream) is None
    lost = check(evil.ts_without_sync(stream, 188 * 40))
    assert lost is not None and "packet sync lost" in lost and "first 7520 bytes" in lost
    gaps = bytearray(stream)
    gaps[188 * 60] = 0
    assert check(bytes(gaps)) == "the MPEG-TS packet sync is lost: 1 of 100 packets after byte 0 have no 0x47 sync byte"
    m2ts = (bytes(4) + b"\x47" + bytes(187)) * 50
    assert check(m2ts) is None
    assert check(bytes(20_000)) is None  # nothing that looks like a stream: no claim
