"""The MP4's pieces: each part's media data of the MP4's tracks as one work object, beside its sample table.

The assembler composes the MP4's ``mdat`` from these objects server-side (S3 UploadPartCopy) and
builds the ``moov`` from their tables, so it never reads the media itself. A piece is named after
its first global segment number: the assembler finds a chunk's from the plan and walks an audio
track's from segment 0, whatever the parts were called. A retried part writes the same names with
the same bytes; the table goes last, so a table found means its media is whole.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.stores.services import Services
from chalicelib.stores.storage import work_prefix
from workers.media.package import AUDIO_ID, Track
from workers.media.progressive import Samples, track_samples


def pieces_prefix(job_id: str) -> str:
    """Where a job's MP4 pieces are (in the work bucket, deleted with the job's work files)."""
    return f"{work_prefix(job_id)}mp4/"


def piece_keys(job_id: str, track_id: str, first: int) -> tuple[str, str]:
    """(table key, media key) of the piece of ``track_id`` starting at segment ``first``."""
    base = f"{pieces_prefix(job_id)}{track_id}/{first:06d}"
    return f"{base}.json", f"{base}.media"


def mp4_track_ids(plan: Plan) -> frozenset[str]:
    """The tracks the MP4 holds: the top H.264 rung and every audio track."""
    audio = {t.id for t in plan.audio_tracks} or ({AUDIO_ID} if plan.has_audio else set())
    return frozenset({plan.rungs[0].id, *audio} if plan.rungs else audio)


def composes_mp4(options: EncodeOptions, plan: Plan) -> bool:
    """Whether the job's MP4 is composed from pieces (the subtitles' mov_text still needs the remux)."""
    return "mp4" in options.outputs and not plan.subtitles


def piece_record(track: Track, samples: Samples) -> dict[str, Any]:
    """What a piece's table object holds."""
    numbers = sorted(track.segments)
    return {"track": track.id, "first": numbers[0], "segments": len(numbers), "init": track.init_hash,
            "samples": samples.to_dict()}


def upload_mp4_pieces(svc: Services, job_id: str, options: EncodeOptions, plan: Plan, tracks: list[Track]) -> int:
    """Write the piece of each of ``tracks`` (a chunk's, or an audio part's) that the MP4 holds;
    returns the bytes written. Nothing when the job's MP4 is not composed."""
    if not composes_mp4(options, plan):
        return 0
    wanted = mp4_track_ids(plan)
    written = 0
    for track in tracks:
        if track.id not in wanted or not track.segments:
            continue
        numbers = sorted(track.segments)
        samples, media = track_samples(track.init, [track.segments[n] for n in numbers])
        table_key, media_key = piece_keys(job_id, track.id, numbers[0])
        table = json.dumps(piece_record(track, samples), separators=(",", ":")).encode()
        svc.storage.put_bytes(svc.settings.work_bucket, media_key, media, "application/octet-stream")
        svc.storage.put_bytes(svc.settings.work_bucket, table_key, table, "application/json")
        written += len(media) + len(table)
    return written
