"""Putting a job's stream where players read it: segments as chunks finish, playlists as it grows.

Segments go straight to their final keys (DASH's ``$Number$`` template needs fixed names), so
nothing is copied or re-muxed later. A retried chunk writes the same names again: the encoders
are deterministic for the same input and settings, and the job's record (sizes, durations) is
that of the attempt that completed first.
"""
from __future__ import annotations

import time
from typing import Any

from chalicelib.model.kinds import JobState
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.playback import CONTENT_TYPES, MANIFEST, SUBTITLES, stream_prefix
from chalicelib.model.tracks import SubtitleTrack
from chalicelib.stores.services import Services
from chalicelib.stores.storage import work_prefix
from workers.media import dash, hls
from workers.media.package import Track
from workers.media.stream import INIT, Index, collect, segment_name

IMMUTABLE = "public, max-age=31536000, immutable"
# A growing EVENT playlist must be re-read: a CDN may keep it about a second.
LIVE = "public, max-age=1"
FINAL = "public, max-age=300"
LOCK = "publish"
LOCK_SECONDS = 30.0


def location(svc: Services, job_id: str, options: EncodeOptions) -> tuple[str, str]:
    """(bucket, prefix) of a job's segments: the output bucket when it streams, else scratch space
    in the work bucket (an mp4-only job's segments only feed its MP4)."""
    if options.streaming:
        return svc.settings.output_bucket, stream_prefix(job_id)
    return svc.settings.work_bucket, f"{work_prefix(job_id)}stream/"


def _type(name: str) -> str:
    return CONTENT_TYPES.get(name[name.rfind("."):], "application/octet-stream")


def upload_track(svc: Services, bucket: str, prefix: str, track: Track) -> None:
    """Write a track's init segment and media segments under ``prefix``/``track.id``/."""
    folder = f"{prefix}{track.id}/"
    svc.storage.put_bytes(bucket, folder + INIT, track.init, "video/mp4", IMMUTABLE)
    for number, data in sorted(track.segments.items()):
        svc.storage.put_bytes(bucket, folder + segment_name(number), data, _type(".m4s"), IMMUTABLE)


def upload_subtitles(svc: Services, bucket: str, prefix: str, track: SubtitleTrack, vtt: bytes) -> None:
    """Write a subtitle track's WebVTT under ``prefix``/``track.id``/ (one file: the whole video)."""
    svc.storage.put_bytes(bucket, f"{prefix}{track.id}/{SUBTITLES}", vtt, "text/vtt; charset=utf-8", IMMUTABLE)


def write_index(svc: Services, bucket: str, prefix: str, index: Index, options: EncodeOptions) -> None:
    """Write the playlists of ``index`` (and, once complete, the DASH manifest)."""
    cache = FINAL if index.complete else LIVE
    if "hls" in options.outputs:
        for name, text in hls.playlists(index).items():
            svc.storage.put_bytes(bucket, prefix + name, text.encode(), _type(name), cache)
    if index.complete and "dash" in options.outputs:
        svc.storage.put_bytes(bucket, prefix + MANIFEST, dash.manifest(index).encode(), _type(MANIFEST), cache)


def publish_progress(svc: Services, job_id: str) -> None:
    """Publish the EVENT playlists of what is done so far; the first time, the job becomes
    playable (``playable_at`` and the ``job.playable`` event).

    1. Take the job's publish lock; if another worker holds it, that worker publishes our part
       too (step 4), so return.
    2. Re-read the job: only an encoding (or assembling, not yet final) HLS job publishes.
    3. Write playlists of the contiguous chunks done (and audio beside them); parts only ever get
       done, so successive lock holders write growing playlists.
    4. Release the lock, and go again if a part finished while we held it.
    """
    while True:
        token = svc.jobs.lock(job_id, LOCK, LOCK_SECONDS)
        if token is None:
            return
        try:
            job = svc.jobs.get(job_id)
            options = EncodeOptions.from_dict(job.get("options") or {})
            if job["state"] not in (JobState.ENCODING, JobState.ASSEMBLING) or "hls" not in options.outputs:
                return
            plan = Plan.from_dict(job["plan"])
            index = collect(plan, svc.jobs.parts(job_id))
            if index.segments == 0 or index.complete or index.segments <= int(job.get("published_segments") or 0):
                return
            bucket, prefix = location(svc, job_id, options)
            write_index(svc, bucket, prefix, index, options)
            svc.jobs.record_published(job_id, index.segments)
        finally:
            svc.jobs.unlock(job_id, LOCK, token)
        if collect(plan, svc.jobs.parts(job_id)).segments <= index.segments:
            return


def publish_final(svc: Services, job_id: str, plan: Plan, options: EncodeOptions,
                  parts: dict[str, dict[str, Any]], wait: float = LOCK_SECONDS) -> Index:
    """Write the VOD playlists and the DASH manifest of the complete stream (under the publish
    lock, so that no progress publisher writes an EVENT playlist after them)."""
    deadline = time.monotonic() + wait
    token = svc.jobs.lock(job_id, LOCK, LOCK_SECONDS)
    while token is None and time.monotonic() < deadline:
        time.sleep(0.05)
        token = svc.jobs.lock(job_id, LOCK, LOCK_SECONDS)
    try:
        index = collect(plan, parts)
        if options.streaming:
            bucket, prefix = location(svc, job_id, options)
            write_index(svc, bucket, prefix, index, options)
        return index
    finally:
        if token is not None:
            svc.jobs.unlock(job_id, LOCK, token)


def renditions(index: Index) -> list[dict[str, Any]]:
    """What the job's output says of each rendition."""
    out = []
    for r in (*index.video, *index.audios):
        item: dict[str, Any] = {"id": r.id, "kind": r.kind, "codecs": r.codecs, "bandwidth": r.peak_bitrate,
                                "average_bandwidth": r.average_bitrate, "segments": len(r.durations)}
        if r.kind == "video":
            item.update(codec=r.codec, width=r.width, height=r.height, frame_rate=round(r.fps, 3))
        else:
            item.update(language=r.language, name=r.name, default=r.default)
        out.append(item)
    out += [{"id": t.id, "kind": "subtitles", "codecs": "wvtt", "language": t.language, "name": t.name,
             "forced": t.forced} for t in index.subtitles]
    return out
