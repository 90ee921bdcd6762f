"""The progressive MP4's header from real CMAF segments (ffmpeg's), played against the ffmpeg remux of them."""
from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import pytest

from chalicelib.model.errors import MediaError
from chalicelib.model.options import EncodeOptions
from tests.support.media import MEDIA, Transcode, transcode
from tests.support.progressive import assert_same_playback, chunk_offsets, decode, local_mp4, package_tracks
from workers.media import cmaf, progressive
from workers.media.mux import MP4_TIMESCALE
from workers.media.stream import INIT, segment_name


@pytest.fixture(scope="module")
def bframes(tmp_path_factory: pytest.TempPathFactory) -> Transcode:
    """B-frames (negative composition offsets), a 30 kHz timescale, audio."""
    options = EncodeOptions(x264_preset="veryfast", max_height=240, chunk_seconds=1.0, outputs=("hls", "mp4"))
    return transcode(str(MEDIA / "sample.mp4"), options, tmp_path_factory.mktemp("bframes"))


@pytest.fixture(scope="module")
def fine(tmp_path_factory: pytest.TempPathFactory) -> Transcode:
    """A 23.04 MHz timescale (rescaled to 90 kHz in the MP4), many chunks, audio in parts."""
    options = EncodeOptions(x264_preset="ultrafast", max_height=144, chunk_seconds=2.0, outputs=("hls", "mp4"))
    return transcode(str(MEDIA / "sample_with_increasing_timestamps_360p.mp4"), options,
                     tmp_path_factory.mktemp("fine"), audio_part_seconds=6.0)


def _box(data: bytes, *path: bytes, number: int = 0) -> bytes:
    """The ``number``-th trak's box at ``path`` (a moov child path when it does not start with trak)."""
    traks = [b for b in cmaf.boxes(data, *_body(data, b"moov")) if b.type == b"trak"]
    trak = traks[number]
    box = cmaf.find(data, path, trak.offset + trak.header, trak.offset + trak.size)
    assert box is not None
    return data[box.offset + box.header:box.offset + box.size]


def _body(data: bytes, kind: bytes) -> tuple[int, int]:
    box = next(b for b in cmaf.boxes(data) if b.type == kind)
    return box.offset + box.header, box.offset + box.size


@pytest.mark.parametrize("name", ["bframes", "fine"])
def test_plays_as_the_remux_does(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    result: Transcode = request.getfixturevalue(name)
    built = local_mp4(result.package, result.index, result.plan.origin_ticks, tmp_path / "built.mp4")
    assert [b.type for b in cmaf.boxes(built.read_bytes())] == [b"ftyp", b"moov", b"mdat"]
    timescale = result.plan.timescale
    tick = 1 / MP4_TIMESCALE if timescale > 1_000_000 else 0.0
    assert_same_playback(decode(built), decode(result.output), tick)


def test_interleaved_media_plays_as_the_remux_does(fine: Transcode, tmp_path: Path) -> None:
    tracks, media = package_tracks(fine.package, fine.index, fine.plan.origin_ticks)
    chunks = [_chunks(t.samples, data) for t, data in zip(tracks, media)]
    starts = [[_start(t, n) for n in range(len(t.samples.chunks))] for t in tracks]
    order = progressive.interleaved(starts)
    # The audio's first segment, from its priming just before 0; the video's; the audio's next, and so on.
    assert order[:4] == [(1, 0), (0, 0), (1, 1), (0, 1)]
    assert [starts[i][n] for i, n in order] == sorted(s for track in starts for s in track)
    path = tmp_path / "interleaved.mp4"
    path.write_bytes(progressive.header(tracks, [(i, 1) for i, _ in order]) + b"".join(chunks[i][n] for i, n in order))
    assert_same_playback(decode(path), decode(fine.output), 1 / MP4_TIMESCALE)
    offsets = chunk_offsets(path.read_bytes())
    assert sorted(offsets[0] + offsets[1]) == [offsets[i][n] for i, n in order]


def test_a_layout_must_place_every_chunk_once(fine: Transcode) -> None:
    tracks, _ = package_tracks(fine.package, fine.index, fine.plan.origin_ticks)
    whole = [(0, len(tracks[0].samples.chunks)), (1, len(tracks[1].samples.chunks))]
    with pytest.raises(MediaError, match="track 2"):
        progressive.header(tracks, whole[:1])
    with pytest.raises(MediaError, match="track 1"):
        progressive.header(tracks, [*whole, (0, 1)])


def _chunks(samples: progressive.Samples, data: bytes) -> list[bytes]:
    """``data`` cut at the track's chunks (its segments)."""
    out, index, position = [], 0, 0
    for count in samples.chunks:
        size = sum(samples.sizes[index:index + count])
        out.append(data[position:position + size])
        index, position = index + count, position + size
    return out


def _start(track: progressive.MovieTrack, chunk: int) -> float:
    """When a track's ``chunk`` starts, in seconds of the movie."""
    samples = track.samples
    return track.seconds(samples.decode_time + sum(samples.durations[:sum(samples.chunks[:chunk])]))


def test_edit_lists_hide_the_shift_and_the_priming(bframes: Transcode, fine: Transcode, tmp_path: Path) -> None:
    data = local_mp4(bframes.package, bframes.index, bframes.plan.origin_ticks, tmp_path / "b.mp4").read_bytes()
    ctts = _box(data, b"mdia", b"minf", b"stbl", b"ctts")
    offsets = [struct.unpack_from(">II", ctts, 8 + 8 * i)[1] for i in range(struct.unpack_from(">I", ctts, 4)[0])]
    _, media_time = struct.unpack_from(">Ii", _box(data, b"edts", b"elst"), 8)
    assert min(offsets) == 0 < media_time  # B-frames: offsets shifted to ≥ 0, the edit starts at the shift
    assert struct.unpack_from(">Ii", _box(data, b"edts", b"elst", number=1), 8)[1] == 1024  # the priming
    mdhd = _box(data, b"mdia", b"mdhd")
    assert struct.unpack_from(">I", mdhd, 12)[0] == bframes.plan.timescale  # kept below 1 MHz
    data = local_mp4(fine.package, fine.index, fine.plan.origin_ticks, tmp_path / "f.mp4").read_bytes()
    assert struct.unpack_from(">I", _box(data, b"mdia", b"mdhd"), 12)[0] == MP4_TIMESCALE


def test_alternate_audio_tracks_are_kept_but_not_enabled(bframes: Transcode, tmp_path: Path) -> None:
    tracks, media = package_tracks(bframes.package, bframes.index, bframes.plan.origin_ticks)
    main = dataclasses.replace(tracks[1], language="eng")
    alternate = dataclasses.replace(tracks[1], language="fra", enabled=False)
    path = tmp_path / "alt.mp4"
    path.write_bytes(progressive.header([tracks[0], main, alternate]) + media[0] + media[1] + media[1])
    played = decode(path)
    assert [(a.language, a.default) for a in played.audio] == [("eng", True), ("fra", False)]
    assert (played.audio[0].samples == played.audio[1].samples).all()
    assert _box(path.read_bytes(), b"tkhd", number=2)[3] == 2  # in the movie, not enabled


def test_a_large_mdat_takes_64_bit_offsets(fine: Transcode) -> None:
    tracks, _ = package_tracks(fine.package, fine.index, fine.plan.origin_ticks)
    video = tracks[0].samples
    big = dataclasses.replace(video, sizes=(3 << 30,) * len(video.sizes))  # 3 GiB a frame
    data = progressive.header([dataclasses.replace(tracks[0], samples=big)])
    mdat = data[-16:]
    assert mdat[4:8] == b"mdat" and struct.unpack(">I", mdat[:4])[0] == 1
    assert struct.unpack(">Q", mdat[8:])[0] == 16 + big.size
    co64 = _box(data[:-16], b"mdia", b"minf", b"stbl", b"co64")
    first, second = struct.unpack_from(">QQ", co64, 8)
    assert first == len(data) and second - first == sum(big.sizes[:video.chunks[0]])


def test_sample_tables_round_trip_and_join_only_in_order(fine: Transcode) -> None:
    rung = fine.index.video[0]
    folder = fine.package / rung.id
    init = (folder / INIT).read_bytes()
    runs = [progressive.segment_samples(init, (folder / segment_name(n)).read_bytes())[0] for n in range(3)]
    assert [progressive.Samples.from_dict(r.to_dict()) for r in runs] == runs
    joined = progressive.join(runs)
    assert joined.chunks == tuple(len(r.sizes) for r in runs) and joined.end == runs[2].end
    with pytest.raises(MediaError, match="jump"):
        progressive.join([runs[0], runs[2]])
    with pytest.raises(MediaError, match="disagree"):
        progressive.Samples.from_dict({**runs[0].to_dict(), "sizes": [1]})
