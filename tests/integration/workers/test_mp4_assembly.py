"""The MP4 composed in moto's S3 (over HTTP) from real chunk pieces, played against the remux of the same segments.

moto is started with S3's minimum part size lowered to the median piece, and enforces it as S3
does: some pieces are copied, the others sent, and a part too small fails the upload.
"""
from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

import boto3
import pytest

from chalicelib.model.errors import MediaError, NotFoundError
from chalicelib.model.kinds import is_audio_part
from chalicelib.model.options import EncodeOptions
from chalicelib.model.settings import Settings
from chalicelib.stores.services import Services
from chalicelib.stores.storage import Storage
from devstack.procs import LOCAL_CREDENTIALS, start_moto
from tests.support.fakes import fake_services
from tests.support.media import MEDIA, Transcode, transcode
from tests.support.progressive import assert_same_playback, chunk_offsets, decode, package_tracks
from workers.media import progressive
from workers.media.mux import MP4_TIMESCALE
from workers.media.package import Track
from workers.media.stream import INIT, segment_name
from workers.tasks.assemble_job import build_mp4
from workers.tasks.mp4 import compose_mp4
from workers.tasks.pieces import piece_keys, pieces_prefix, upload_mp4_pieces
from workers.tasks.publish import location

OPTIONS = EncodeOptions(x264_preset="ultrafast", max_height=144, chunk_seconds=1.0, outputs=("hls", "mp4"))


@dataclasses.dataclass
class Bench:
    """The transcoded job, the S3 services against moto, and the lowered part size moto enforces."""

    result: Transcode
    svc: Services
    s3: Any
    min_part: int


def _pieces(result: Transcode) -> list[tuple[str, int, list[int]]]:
    """(track id, first segment, its segment numbers) of every piece the job's parts write."""
    plan, rung = result.plan, result.plan.rungs[0].id
    pieces = [(rung, plan.segment_range(c).start, list(plan.segment_range(c))) for c in plan.chunks]
    for name, record in result.parts.items():
        for track_id, track in (record["tracks"].items() if is_audio_part(name) else ()):
            pieces.append((track_id, track["first"], list(range(track["first"], track["first"] +
                                                                len(track["durations"])))))
    return pieces


def _media_size(result: Transcode, track_id: str, numbers: list[int]) -> int:
    """Bytes of media data (the mdat payloads) of those segments."""
    folder = result.package / track_id
    return sum(len((folder / segment_name(n)).read_bytes()) - 24 - _moof(folder / segment_name(n)) - 8
               for n in numbers)


def _moof(path: Path) -> int:
    data = path.read_bytes()
    return int.from_bytes(data[24:28], "big")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    result = transcode(str(MEDIA / "sample_with_increasing_timestamps_360p.mp4"), OPTIONS,
                       tmp_path_factory.mktemp("job"), audio_part_seconds=6.0)
    min_part = int(median(_media_size(result, t, n) for t, _, n in _pieces(result)))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("S3_UPLOAD_PART_MIN_SIZE", str(min_part))
        moto, url = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        settings = Settings(s3_endpoint_url=url, work_bucket="ff-work", output_bucket="ff-out")
        s3 = boto3.client("s3", endpoint_url=url, region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
                          aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        for bucket in ("ff-work", "ff-out"):
            s3.create_bucket(Bucket=bucket)
        svc = dataclasses.replace(fake_services(settings).services, storage=Storage(s3, settings))
        yield Bench(result, svc, s3, min_part)
    finally:
        moto.stop()


def _stage(bench: Bench, job_id: str, *, audio_pieces: bool = True, video_pieces: bool = True) -> None:
    """Upload the job's stream as the chunk and audio tasks do, and (some of) their MP4 pieces."""
    result, svc = bench.result, bench.svc
    bucket, prefix = location(svc, job_id, OPTIONS)
    index = result.index
    for rendition in (index.video[0], *index.audios):
        folder = result.package / rendition.id
        svc.storage.put_bytes(bucket, f"{prefix}{rendition.id}/{INIT}", (folder / INIT).read_bytes(), "video/mp4")
        for n in range(len(rendition.durations)):
            svc.storage.put_bytes(bucket, f"{prefix}{rendition.id}/{segment_name(n)}",
                                  (folder / segment_name(n)).read_bytes(), "video/iso.segment")
    for track_id, _, numbers in _pieces(result):
        if (track_id == result.plan.rungs[0].id and not video_pieces) or (track_id != result.plan.rungs[0].id
                                                                          and not audio_pieces):
            continue
        folder = result.package / track_id
        track = Track(track_id, (folder / INIT).read_bytes(), {n: (folder / segment_name(n)).read_bytes()
                                                               for n in numbers}, [], "")
        upload_mp4_pieces(svc, job_id, OPTIONS, result.plan, [track])


def _download(bench: Bench, key: str, path: Path) -> Path:
    bench.s3.download_file("ff-out", key, str(path))
    return path


def _work_bytes(bench: Bench, job_id: str, suffix: str) -> int:
    listed = bench.s3.list_objects_v2(Bucket="ff-work", Prefix=pieces_prefix(job_id))
    return sum(o["Size"] for o in listed.get("Contents", []) if o["Key"].endswith(suffix))


def test_composed_mp4_plays_as_the_remux_and_moves_few_bytes(bench: Bench, tmp_path: Path) -> None:
    result = bench.result
    sizes = [_media_size(result, t, n) for t, _, n in _pieces(result)]
    assert min(sizes) < bench.min_part <= max(sizes)  # pieces on both sides of the part size
    _stage(bench, "full")
    composed = compose_mp4(bench.svc, "full", OPTIONS, result.plan, result.index, "outputs/full.mp4",
                           threading.Event(), bench.min_part)
    assert composed is not None
    path = _download(bench, "outputs/full.mp4", tmp_path / "out.mp4")
    assert_same_playback(decode(path), decode(result.output), 1 / MP4_TIMESCALE)
    video, audio = chunk_offsets(path.read_bytes())
    assert min(audio) < max(video) and min(video) < max(audio)  # interleaved, not one track after the other
    traffic = composed["assembly_bytes"]
    header = len(progressive.header(package_tracks(result.package, result.index, result.plan.origin_ticks)[0]))
    tables = _work_bytes(bench, "full", ".json")
    inits = sum(len((result.package / r.id / INIT).read_bytes()) for r in (result.index.video[0], *result.index.audios))
    # Written: the header; read: the tables, the init segments, the header again (the check that
    # it landed). Not a byte of media: the small pieces' runs borrow their seed from a large one.
    assert traffic["streamed"] == 2 * header + tables + inits
    assert traffic["copied"] >= sum(sizes) + header
    assert not bench.s3.list_objects_v2(Bucket="ff-work", Prefix=f"{pieces_prefix('full')}compose/").get("Contents")
    for bucket in ("ff-out", "ff-work"):
        assert not bench.s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_audio_without_pieces_is_read_from_its_segments(bench: Bench, tmp_path: Path) -> None:
    result = bench.result
    _stage(bench, "noaudio", audio_pieces=False)
    composed = compose_mp4(bench.svc, "noaudio", OPTIONS, result.plan, result.index, "outputs/noaudio.mp4",
                           threading.Event(), bench.min_part)
    assert composed is not None
    assert_same_playback(decode(_download(bench, "outputs/noaudio.mp4", tmp_path / "out.mp4")),
                         decode(result.output), 1 / MP4_TIMESCALE)


def test_a_job_without_video_pieces_is_remuxed(bench: Bench) -> None:
    result = bench.result
    _stage(bench, "old", video_pieces=False)
    assert compose_mp4(bench.svc, "old", OPTIONS, result.plan, result.index, "outputs/old.mp4",
                       threading.Event(), bench.min_part) is None
    meta = build_mp4(bench.svc, "old", result.plan, OPTIONS, result.index, "outputs/old.mp4", threading.Event())
    assert meta["frames"] == result.plan.total_frames and meta["assembly_bytes"]["copied"] == 0
    assert bench.s3.head_object(Bucket="ff-out", Key="outputs/old.mp4")["ContentLength"] == meta["size"]


def test_a_piece_that_does_not_match_its_stream_fails_and_publishes_nothing(bench: Bench) -> None:
    result = bench.result
    _stage(bench, "bad")
    rung = result.plan.rungs[0].id
    table_key, _ = piece_keys("bad", rung, result.plan.segment_range(result.plan.chunks[1]).start)
    table = json.loads(bench.s3.get_object(Bucket="ff-work", Key=table_key)["Body"].read())
    table["samples"]["durations"][0] += 1
    bench.s3.put_object(Bucket="ff-work", Key=table_key, Body=json.dumps(table).encode())
    with pytest.raises(MediaError, match="does not last its segments"):
        build_mp4(bench.svc, "bad", result.plan, OPTIONS, result.index, "outputs/bad.mp4", threading.Event(),
                  min_part=bench.min_part)
    with pytest.raises(NotFoundError):
        bench.svc.storage.head("ff-out", "outputs/bad.mp4")


def test_build_mp4_checks_the_composed_object_through_a_url(bench: Bench) -> None:
    result = bench.result
    _stage(bench, "checked")
    meta = build_mp4(bench.svc, "checked", result.plan, OPTIONS, result.index, "outputs/checked.mp4",
                     threading.Event(), min_part=bench.min_part)
    assert meta["frames"] == result.plan.total_frames
    assert meta["assembly_bytes"]["copied"] > 0
    assert [t["language"] for t in meta["audio_tracks"]] == [a.language for a in result.index.audios]


def test_pieces_are_written_only_for_a_composed_mp4(bench: Bench) -> None:
    result = bench.result
    folder = result.package / result.plan.rungs[0].id
    track = Track(result.plan.rungs[0].id, (folder / INIT).read_bytes(), {0: (folder / segment_name(0)).read_bytes()},
                  [], "")
    hls_only = dataclasses.replace(OPTIONS, outputs=("hls",))
    assert upload_mp4_pieces(bench.svc, "hls", hls_only, result.plan, [track]) == 0
    other = Track("h264-999", track.init, track.segments, [], "")
    assert upload_mp4_pieces(bench.svc, "hls", OPTIONS, result.plan, [other]) == 0
    assert upload_mp4_pieces(bench.svc, "hls", OPTIONS, result.plan, [track]) > 0
