"""The MP4 composed in S3: its header built from the pieces' sample tables, its media copied server-side.

The output is one multipart upload whose every part is an UploadPartCopy: a piece of at least
S3's minimum part size as it is; consecutive smaller ones (the header, most chunks' pieces at
usual bit rates, the audio's) gathered into a run that is built server-side into a scratch
object (each piece appended as the small last part of a two-part upload behind the last minimum
part of the object so far: the run's pieces after enough of a seed, the head of a large piece or
else zeros kept in the work bucket for every job), then copied from it without the seed. The
media data interleaves the tracks as they play. The assembler itself only writes the header and
reads the sample tables: bytes that grow with the number of samples, not with the media. Any
error aborts the uploads.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.model.audioparts import AAC_FRAME
from chalicelib.model.errors import MediaError, NotFoundError
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.stores.services import Services
from workers.cancel import check_cancel
from workers.media.package import Track
from workers.media.progressive import MovieTrack, Samples, header, interleaved, join, segment_samples
from workers.media.stream import INIT, Index, Rendition, segment_name
from workers.tasks.pieces import composes_mp4, piece_keys, pieces_prefix
from workers.tasks.publish import location

MIN_PART = 5 * 1024**2  # S3's smallest part but the last
MAX_PART = 5 * 1024**3  # and its largest
MAX_PARTS = 10_000
WORKERS = 8  # S3 requests at once
# In the work bucket, under the work files' prefix (the assembler may write there; the lifecycle
# rule expires it like them, and the next assembly that needs it writes it again): the runs'
# seed, when a job has no piece to lend one.
SEED_PREFIX = "work/mp4-seed/"


@dataclass(frozen=True)
class Stored:
    """Bytes ``first``… (``size`` of them) of an S3 object."""

    bucket: str
    key: str
    size: int
    first: int = 0

    def cut(self, start: int, size: int) -> Stored:
        """``size`` bytes of this from ``start``."""
        return Stored(self.bucket, self.key, size, self.first + start)


@dataclass(frozen=True)
class Run:
    """Consecutive pieces too small to be parts on their own, made one part server-side: each
    appended in turn, as the small last part of a two-part upload, behind a seed of a minimum
    part whose bytes the MP4 then leaves out."""

    pieces: tuple[Stored, ...]

    @property
    def size(self) -> int:
        """Bytes of the pieces."""
        return sum(p.size for p in self.pieces)


Part = Stored | Run  # a part copied from one object's bytes, or from the object a run builds


@dataclass
class Traffic:
    """Bytes the assembler read or wrote itself, and bytes S3 copied for it."""

    streamed: int = 0
    copied: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, streamed: int = 0, copied: int = 0) -> None:
        """Count more."""
        with self._lock:
            self.streamed += streamed
            self.copied += copied

    def record(self) -> dict[str, int]:
        """The job output's ``assembly_bytes``."""
        return {"streamed": self.streamed, "copied": self.copied}


def plan_parts(pieces: Sequence[Stored], min_part: int = MIN_PART, max_part: int = MAX_PART) -> list[Part]:
    """The parts of an object made of ``pieces`` in order: a piece of at least ``min_part``
    bytes copied as it is (cut evenly at ``max_part``), smaller ones gathered into runs of at
    least ``min_part`` (the last one may be smaller: S3's last part may). No byte is sent."""
    parts: list[Part] = []
    run: list[Stored] = []
    for piece in pieces:
        if not run and piece.size >= min_part:
            count = -(-piece.size // max_part)
            parts += [piece.cut(piece.size * i // count, piece.size * (i + 1) // count - piece.size * i // count)
                      for i in range(count)]
            continue
        run.append(piece)
        if sum(p.size for p in run) >= min_part:
            parts.append(Run(tuple(run)))
            run = []
    if run:
        parts.append(run[0] if len(run) == 1 else Run(tuple(run)))
    if len(parts) > MAX_PARTS:
        raise MediaError(f"the MP4 would take {len(parts)} parts, more than S3's {MAX_PARTS}")
    if any(isinstance(p, Run) and p.size + min_part > max_part for p in parts):
        raise MediaError("a run of small pieces outgrows S3's largest part")
    return parts


@dataclass(frozen=True)
class _Upload:
    """One multipart upload: where it goes, and what a failure must abort."""

    svc: Services
    bucket: str
    key: str
    traffic: Traffic
    cancel: threading.Event

    def write(self, parts: Sequence[Stored], pool: ThreadPoolExecutor | None = None) -> None:
        """The object made of ``parts`` (copied server-side, every one but the last of a minimum
        part); aborted on any error."""
        storage = self.svc.storage
        upload_id = storage.create_multipart(self.key, "video/mp4", bucket=self.bucket)

        def copy(numbered: tuple[int, Stored]) -> dict[str, Any]:
            number, part = numbered
            check_cancel(self.cancel)
            etag = storage.copy_part(self.bucket, self.key, upload_id, number, part.bucket, part.key, part.first,
                                     part.first + part.size - 1)
            self.traffic.add(copied=part.size)
            return {"PartNumber": number, "ETag": etag}

        try:
            numbered = list(enumerate(parts, start=1))
            done = list(pool.map(copy, numbered) if pool is not None else map(copy, numbered))
            storage.complete_multipart(self.key, upload_id, done, bucket=self.bucket)
        except BaseException:
            storage.abort_multipart(self.key, upload_id, bucket=self.bucket)
            raise


def compose(svc: Services, bucket: str, key: str, pieces: Sequence[Stored], scratch: str, traffic: Traffic,
            cancel: threading.Event, min_part: int = MIN_PART) -> int:
    """Write ``pieces`` end to end as the object ``key``, server-side (all of it smaller than a
    part: read and sent); returns its size. Runs of small pieces are built under ``scratch`` (a
    work bucket prefix), deleted after with whatever else is there."""
    total = sum(p.size for p in pieces)
    try:
        if total < min_part:  # one small object: sent in one request, cheaper than any run
            data = b"".join(_get(svc, p.bucket, p.key, traffic, f"bytes={p.first}-{p.first + p.size - 1}")
                            for p in pieces)
            svc.storage.put_bytes(bucket, key, data, "video/mp4")
            traffic.add(streamed=len(data))
        else:
            _copy_all(svc, bucket, key, pieces, scratch, traffic, cancel, min_part)
    finally:
        svc.storage.delete_prefix(svc.settings.work_bucket, scratch)
    return total


def _copy_all(svc: Services, bucket: str, key: str, pieces: Sequence[Stored], scratch: str, traffic: Traffic,
              cancel: threading.Event, min_part: int) -> None:
    parts = plan_parts(pieces, min_part)
    work = svc.settings.work_bucket
    seed = next((p.cut(0, min_part) for p in pieces if p.size >= min_part), None)
    if seed is None and any(isinstance(p, Run) for p in parts):  # nothing to borrow a seed from
        seed = _shared_seed(svc, min_part, traffic)

    def built(numbered: tuple[int, Part]) -> Stored:
        number, part = numbered
        if isinstance(part, Stored):
            return part
        assert seed is not None
        grown, useful = seed, 0  # the object built so far, and how many of its last bytes are the run's
        for step, piece in enumerate(part.pieces):
            # Behind each piece, just the minimum part the rule asks for: the run so far (smaller
            # than one until its last piece) after enough of the seed, not all that came before.
            lead = grown.cut(grown.size - max(min_part, useful), max(min_part, useful))
            target = _Upload(svc, work, f"{scratch}run{number:05d}.{step}", traffic, cancel)
            target.write([lead, piece])
            grown, useful = Stored(work, target.key, lead.size + piece.size), useful + piece.size
        return Stored(work, grown.key, part.size, grown.size - part.size)

    with ThreadPoolExecutor(WORKERS) as pool:
        sources = list(pool.map(built, enumerate(parts)))
        _Upload(svc, bucket, key, traffic, cancel).write(sources, pool)


def _shared_seed(svc: Services, size: int, traffic: Traffic) -> Stored:
    """``size`` zero bytes in the work bucket, written by the first assembly that needs them and
    kept for the next ones (outside every job's prefix)."""
    seed = Stored(svc.settings.work_bucket, f"{SEED_PREFIX}{size}", size)
    try:
        if int(svc.storage.head(seed.bucket, seed.key).get("ContentLength", -1)) == size:
            return seed
    except NotFoundError:
        pass
    svc.storage.put_bytes(seed.bucket, seed.key, bytes(size), "application/octet-stream")
    traffic.add(streamed=size)
    return seed


def _stored(svc: Services, scratch: str, pieces: Sequence[bytes | Stored], traffic: Traffic) -> list[Stored]:
    """``pieces`` all in S3: each run of bytes the assembler holds (the header, segments read)
    written as one object under ``scratch``."""
    out: list[Stored] = []
    held: list[bytes] = []
    for piece in [*pieces, None]:
        if isinstance(piece, bytes):
            held.append(piece)
            continue
        if held:
            data = b"".join(held)
            key = f"{scratch}held{len(out):05d}"
            svc.storage.put_bytes(svc.settings.work_bucket, key, data, "application/octet-stream")
            traffic.add(streamed=len(data))
            out.append(Stored(svc.settings.work_bucket, key, len(data)))
            held = []
        if piece is not None:
            out.append(piece)
    return out


def _get(svc: Services, bucket: str, key: str, traffic: Traffic, byte_range: str = "") -> bytes:
    data: bytes = svc.storage.get_object(bucket, key, byte_range)["Body"].read()
    traffic.add(streamed=len(data))
    return data


@dataclass(frozen=True)
class _Span:
    """Consecutive segments of one track in the MP4: their table and where their media is."""

    samples: Samples
    media: bytes | Stored
    segments: int


def _piece(svc: Services, job_id: str, track: str, first: int, init_hash: str, traffic: Traffic) -> _Span | None:
    """The piece of ``track`` at segment ``first`` (None: not written)."""
    table_key, media_key = piece_keys(job_id, track, first)
    bucket = svc.settings.work_bucket
    try:
        record = json.loads(_get(svc, bucket, table_key, traffic))
    except NotFoundError:
        return None
    samples = Samples.from_dict(record["samples"])
    if record["first"] != first or record["init"] != init_hash:
        raise MediaError(f"the MP4 piece of {track} at segment {first} is not of this track's stream")
    return _Span(samples, Stored(bucket, media_key, samples.size), int(record["segments"]))


def _segment(svc: Services, bucket: str, folder: str, init: bytes, number: int, traffic: Traffic) -> _Span:
    """A segment's own table and media, read from the stream (a part that wrote no piece)."""
    samples, media = segment_samples(init, _get(svc, bucket, folder + segment_name(number), traffic))
    return _Span(samples, media, 1)


def _track(svc: Services, job_id: str, options: EncodeOptions, rendition: Rendition, starts: Collection[int],
           traffic: Traffic) -> tuple[bytes, list[_Span]] | None:
    """A track's init segment and spans (None when a piece that must be there is not):
    ``starts``: the segments that must start a piece (their tables read at once); any other
    segment without one is read from the stream."""
    bucket, prefix = location(svc, job_id, options)
    folder = f"{prefix}{rendition.id}/"
    init = _get(svc, bucket, folder + INIT, traffic)
    init_hash = Track(rendition.id, init, {}, [], "").init_hash
    with ThreadPoolExecutor(WORKERS) as pool:
        known = dict(zip(starts, pool.map(lambda n: _piece(svc, job_id, rendition.id, n, init_hash, traffic),
                                          starts)))
    runs: list[_Span] = []
    number = 0
    while number < len(rendition.durations):
        run = known[number] if number in known else _piece(svc, job_id, rendition.id, number, init_hash, traffic)
        if run is None:
            if number in starts:
                return None
            run = _segment(svc, bucket, folder, init, number, traffic)
        if run.samples.end - run.samples.decode_time != sum(rendition.durations[number:number + run.segments]):
            raise MediaError(f"the MP4 piece of {rendition.id} at segment {number} does not last its segments")
        runs.append(run)
        number += run.segments
    return init, runs


def compose_mp4(svc: Services, job_id: str, options: EncodeOptions, plan: Plan, index: Index, key: str,
                cancel: threading.Event, min_part: int = MIN_PART) -> dict[str, Any] | None:
    """Compose the job's MP4 at ``key`` of the output bucket from the pieces; returns what the
    output records of it (``assembly_bytes``, ``size``), or None when the job has no pieces
    (an older job, or subtitles: the remux makes it)."""
    if not composes_mp4(options, plan) or not index.video:
        return None
    traffic = Traffic()
    chunk_starts = [plan.segment_range(c).start for c in plan.chunks]
    video = _track(svc, job_id, options, index.video[0], chunk_starts, traffic)
    if video is None:
        return None
    tracks = [(video, MovieTrack(video[0], join([r.samples for r in video[1]]), plan.origin_ticks))]
    for rendition in index.audios:
        check_cancel(cancel)
        audio = _track(svc, job_id, options, rendition, (), traffic)
        assert audio is not None
        tracks.append((audio, MovieTrack(audio[0], join([r.samples for r in audio[1]]), AAC_FRAME,
                                         rendition.language, rendition is index.audio)))
    # Sound and picture interleaved as they play (a minute's audio piece after the video of its
    # start): a progressive player reads on from the front, and the small audio pieces are spread
    # among the video's instead of one long run at the end.
    spans = [runs for (_, runs), _ in tracks]
    order = interleaved([[movie.seconds(run.samples.decode_time) for run in runs] for (_, runs), movie in tracks])
    head = header([t for _, t in tracks],
                  [(index, len(spans[index][number].samples.chunks)) for index, number in order])
    scratch = f"{pieces_prefix(job_id)}compose/"
    pieces = _stored(svc, scratch, [head, *(spans[index][number].media for index, number in order)], traffic)
    check_cancel(cancel)
    size = compose(svc, svc.settings.output_bucket, key, pieces, scratch, traffic, cancel, min_part)
    stored = int(svc.storage.head(svc.settings.output_bucket, key).get("ContentLength", -1))
    if stored != size:
        raise MediaError(f"the composed MP4 has {stored} bytes, expected {size}")
    got = svc.storage.get_object(svc.settings.output_bucket, key, f"bytes=0-{len(head) - 1}")["Body"].read()
    traffic.add(streamed=len(got))
    if got != head:
        raise MediaError("the composed MP4 does not start with the header built for it")
    return {"assembly_bytes": traffic.record()}
