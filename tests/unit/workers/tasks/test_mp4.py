"""Composing an object from pieces in S3: every part copied server-side, runs of small pieces
built behind a seed, the bytes through the assembler bounded whatever the number of pieces."""
from __future__ import annotations

import threading

import pytest

from chalicelib.model.errors import StorageError
from tests.support.fakes import Fakes, fake_services
from workers.tasks.mp4 import Run, Stored, Traffic, compose, plan_parts

MIN = 1000


def test_large_pieces_are_copied_and_small_ones_gathered_into_runs() -> None:
    pieces = [Stored("w", "head", 10), *(Stored("w", f"s{i}", 300) for i in range(7)), Stored("w", "big", 5000),
              Stored("w", "tail", 20)]
    parts = plan_parts(pieces, MIN)
    assert parts == [Run(tuple(pieces[:5])), Run(tuple(pieces[5:9])), pieces[9]]
    assert all(p.size >= MIN for p in parts[:-1])


def test_pieces_larger_than_a_part_are_cut_evenly() -> None:
    parts = plan_parts([Stored("w", "huge", 10_500)], MIN, max_part=4000)
    assert parts == [Stored("w", "huge", 3500, 0), Stored("w", "huge", 3500, 3500), Stored("w", "huge", 3500, 7000)]


def _job(count: int, size: int) -> tuple[Fakes, list[Stored], bytes]:
    fakes = fake_services()
    fakes.storage.min_part = MIN  # S3's rule, at the test's scale
    pieces, expected = [], b""
    for i in range(count):
        data = bytes([i % 251]) * (size + i % 7)
        fakes.storage.put_bytes("work", f"piece{i}", data, "application/octet-stream")
        pieces.append(Stored("work", f"piece{i}", len(data)))
        expected += data
    return fakes, pieces, expected


@pytest.mark.parametrize("size", [MIN // 3, 2 * MIN])
def test_the_bytes_through_the_assembler_do_not_grow_with_the_input(size: int) -> None:
    streamed = []
    for count in (3, 30, 90):
        fakes, pieces, expected = _job(count, size)
        traffic = Traffic()
        assert compose(fakes.services, "out", "video.mp4", pieces, "scratch/", traffic, threading.Event(),
                       MIN) == len(expected)
        assert fakes.storage.blobs[("out", "video.mp4")] == expected
        assert not [k for k in fakes.storage.blobs if k[1].startswith("scratch/")]  # the runs' objects are gone
        assert traffic.copied >= len(expected)
        # Each small piece is copied once behind one minimum part, and every byte once more into
        # the object: not the whole run so far again for every piece.
        small = sum(p.size < MIN for p in pieces)
        assert traffic.copied <= 2 * len(expected) + small * MIN
        streamed.append(traffic.streamed)
    # Small pieces only: a zero seed written by the first job (kept for the others); large ones:
    # nothing at all.
    assert streamed == [MIN if size < MIN else 0] * 3


def test_the_zero_seed_is_written_once() -> None:
    fakes, pieces, expected = _job(5, MIN // 3)
    for name in ("one", "two"):
        traffic = Traffic()
        compose(fakes.services, "out", name, pieces, f"scratch/{name}/", traffic, threading.Event(), MIN)
        assert fakes.storage.blobs[("out", name)] == expected
        assert traffic.streamed == (MIN if name == "one" else 0)


def test_a_failed_copy_aborts_every_upload() -> None:
    fakes, pieces, _ = _job(6, MIN // 2)
    fakes.storage.fail_with, fakes.storage.fail_only = StorageError("S3 is down"), "copy_part"
    with pytest.raises(StorageError):
        compose(fakes.services, "out", "again.mp4", pieces, "scratch/", Traffic(), threading.Event(), MIN)
    assert ("out", "again.mp4") not in fakes.storage.blobs and not fakes.storage.pending


def test_an_object_smaller_than_a_part_is_sent_in_one_request() -> None:
    fakes, pieces, expected = _job(3, MIN // 5)
    traffic = Traffic()
    compose(fakes.services, "out", "tiny", pieces, "scratch/", traffic, threading.Event(), MIN)
    assert fakes.storage.blobs[("out", "tiny")] == expected
    assert (traffic.streamed, traffic.copied) == (2 * len(expected), 0)  # read, then sent
