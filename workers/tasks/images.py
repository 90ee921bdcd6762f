"""A job's images in its stream folder (output bucket, every job, mp4-only ones too): each chunk's
storyboard sheets as it finishes, the poster once the poster window's chunks are done, the
storyboard's WebVTT at assembly (from the part records: no image is read)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from chalicelib.model.kinds import JobState, PartState, chunk_part
from chalicelib.model.plan import Plan
from chalicelib.model.playback import CONTENT_TYPES, POSTER, POSTER_WEBP, STORYBOARD, stream_prefix
from chalicelib.stores.services import Services
from chalicelib.stores.storage import work_prefix
from workers.media.images import (
    Candidate,
    MadeImages,
    in_poster_window,
    pick_poster,
    sheet_name,
    storyboard_vtt,
    tile_interval,
    to_webp,
)
from workers.tasks.publish import FINAL, IMMUTABLE

JPEG = CONTENT_TYPES[".jpg"]


def candidate_prefix(job_id: str, part: str = "") -> str:
    """Where (a chunk's) poster candidates wait in the work bucket until the poster is chosen."""
    return f"{work_prefix(job_id)}poster/{part}"


def candidate_key(job_id: str, part: str, name: str) -> str:
    """A chunk's poster candidate in the work bucket."""
    return f"{candidate_prefix(job_id, part)}-{name}"


def upload_images(svc: Services, job_id: str, part: str, made: MadeImages) -> dict[str, Any]:
    """Upload a chunk's sprite sheets (to their final names) and the poster candidates that may
    win (to the work bucket); returns what its part record keeps of them."""
    record = made.record()
    settings = svc.settings
    for number, path in enumerate(made.sheets):
        svc.storage.upload_file(path, settings.output_bucket, stream_prefix(job_id) + sheet_name(part, number), JPEG,
                                IMMUTABLE)
    for candidate in record.get("poster", []):
        svc.storage.upload_file(made.folder / candidate["file"], settings.work_bucket,
                                candidate_key(job_id, part, candidate["file"]), JPEG)
    return record


def publish_poster(svc: Services, job_id: str, plan: Plan, parts: dict[str, dict[str, Any]]) -> float | None:
    """Write the poster (JPEG and WebP) once every chunk of the poster window is done and record
    its time (``poster_time``); its time, or None while a window chunk is still to come.

    Every caller that sees the same done parts picks the same candidate and writes the same
    bytes, so racing callers (two chunks finishing together, the assembly) need no lock.
    """
    window = [chunk_part(c.index) for c in plan.chunks if in_poster_window(c)]
    if any((parts.get(name) or {}).get("state") != PartState.DONE for name in window):
        return None
    found = [(name, Candidate(**c)) for name in window for c in parts[name].get("poster", [])]
    chosen = pick_poster([c for _, c in found])
    if chosen is None:
        return None  # chunks encoded before posters existed
    part = next(name for name, c in found if c is chosen)
    settings = svc.settings
    with tempfile.TemporaryDirectory(prefix="ff-poster-", dir=settings.work_dir or None) as tmp:
        jpeg, webp = Path(tmp) / POSTER, Path(tmp) / POSTER_WEBP
        svc.storage.download_file(settings.work_bucket, candidate_key(job_id, part, chosen.file), jpeg)
        to_webp(jpeg, webp, timeout=settings.encode_timeout)
        for path in (jpeg, webp):
            svc.storage.upload_file(path, settings.output_bucket, stream_prefix(job_id) + path.name,
                                    CONTENT_TYPES[path.suffix], IMMUTABLE)
    svc.jobs.update(job_id, poster_time=chosen.time)
    if svc.jobs.state(job_id) in (JobState.FAILED, JobState.CANCELLED):
        # The job ended while we wrote: its stream folder was taken down before our files landed.
        svc.storage.delete_prefix(settings.output_bucket, stream_prefix(job_id))
    return chosen.time


def write_storyboard(svc: Services, job_id: str, plan: Plan, parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Write the storyboard's WebVTT from the chunks' records; what the job's output says of it."""
    boards = {name: record["storyboard"] for name, record in parts.items() if record.get("storyboard")}
    text = storyboard_vtt(plan.video_duration, boards)
    svc.storage.put_bytes(svc.settings.output_bucket, stream_prefix(job_id) + STORYBOARD, text.encode(),
                          CONTENT_TYPES[".vtt"], FINAL)
    return {"interval": tile_interval(plan.video_duration), "tiles": sum(b["count"] for b in boards.values())}
