"""Processor tasks: encode one chunk's every rung, or the whole audio track, into final segments."""
from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from chalicelib.logs import get_logger
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.kinds import FINAL_STATES, JobState, PartName, PartState, TaskKind, part_of, task_payload
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.playback import stream_prefix
from chalicelib.model.tasks import Task, TaskSpec
from chalicelib.stores.services import Services
from workers.cancel import check_cancel
from workers.media.encode import SEGMENT_LIST, encode_audio, encode_ladder
from workers.media.images import ChunkImages, made_images
from workers.media.package import Track, package_audio, package_chunk
from workers.tasks.images import candidate_prefix, publish_poster, upload_images
from workers.tasks.publish import location, publish_progress, upload_track
from workers.tasks.sources import local_source

AUDIO_POLL_SECONDS = 0.5


def encode_part(svc: Services, task: Task, cancel: threading.Event) -> None:
    """Encode the part named by ``task`` from a local copy of the source (the encoder has no network).

    1. Encode (a chunk: every rung, its poster candidates and storyboard tiles at once from one
       decode; audio: the whole track, its segments published while the encode runs).
    2. Package and check the segments, upload them (and a chunk's images) to their final names.
    3. Record the part (its segments' durations and sizes, its tiles) and publish the playlists
       so far, and the poster once the chunks of its window are done.
    """
    job_id = task.payload["job_id"]
    job = svc.jobs.get(job_id)
    plan = Plan.from_dict(job["plan"])
    options = EncodeOptions.from_dict(job["options"])
    part = part_of(task.payload)
    settings = svc.settings
    # The version the chunker probed, whatever was uploaded to the key since.
    source = str(local_source(svc, job))
    check_cancel(cancel)
    bucket, prefix = location(svc, job_id, options)
    started = time.monotonic()
    pictures: dict[str, Any] = {}  # a chunk's poster candidates and storyboard tiles
    with tempfile.TemporaryDirectory(prefix="ff-part-", dir=settings.work_dir or None) as tmp:
        if task.payload["kind"] == TaskKind.AUDIO:
            tracks = [_audio(svc, job_id, ProbeResult.from_dict(job["source"]), plan, source, tmp, bucket, prefix,
                             cancel)]
        else:
            chunk = plan.chunks[int(task.payload["index"])]
            images = ChunkImages.of(plan, chunk)
            files = encode_ladder(source, chunk, plan, options, tmp, timeout=settings.encode_timeout, cancel=cancel,
                                  images=images)
            check_cancel(cancel)
            tracks = package_chunk(plan, chunk, files)
            for track in tracks:
                upload_track(svc, bucket, prefix, track)
            pictures = upload_images(svc, job_id, part, made_images(images, tmp))
    check_cancel(cancel)
    status: dict[str, Any] = {"state": PartState.DONE, "attempt": task.attempt,
                              "seconds": round(time.monotonic() - started, 3),
                              "bytes": sum(sum(t.record()["sizes"]) + len(t.init) for t in tracks),
                              "tracks": {t.id: t.record() for t in tracks}}
    if task.payload["kind"] != TaskKind.AUDIO:
        status["frames"] = plan.chunks[int(task.payload["index"])].frame_count
        status.update(pictures)
    assembly = TaskSpec(uuid.uuid4().hex, task_payload(job_id, TaskKind.ASSEMBLE))
    outcome = svc.jobs.complete_part(job_id, part, status, assembly)
    if outcome == "ignored" and svc.jobs.state(job_id) in (JobState.FAILED, JobState.CANCELLED):
        # The job ended while we encoded and its stream was taken down: so are our segments
        # (and our images, in the output bucket even when the segments are scratch).
        svc.storage.delete_prefix(bucket, prefix)
        svc.storage.delete_prefix(settings.output_bucket, stream_prefix(job_id))
        svc.storage.delete_prefix(settings.work_bucket, candidate_prefix(job_id))
    elif outcome == "duplicate":  # it wrote the same names with the same bytes
        if "poster" in status and svc.jobs.state(job_id) in FINAL_STATES:
            svc.storage.delete_prefix(settings.work_bucket, candidate_prefix(job_id, part))  # its work files are gone
    else:
        publish_progress(svc, job_id)
        if "poster" in status:
            _poster(svc, job_id, plan)


def _poster(svc: Services, job_id: str, plan: Plan) -> None:
    """Publish the poster if this chunk completed the poster window (the assembly does otherwise)."""
    if svc.jobs.get(job_id).get("poster_time") is not None:
        return
    try:
        publish_poster(svc, job_id, plan, svc.jobs.parts(job_id))
    except Exception:  # noqa: BLE001 - the part is recorded: the assembly publishes the poster instead
        get_logger().warning("poster not published yet", exc_info=True)


def _audio(svc: Services, job_id: str, probe: ProbeResult, plan: Plan, source: str, tmp: str, bucket: str,
           prefix: str, cancel: threading.Event) -> Track:
    """Encode the audio track into segments, uploading each as the segment muxer finishes it."""
    settings = svc.settings
    failure: list[BaseException] = []

    def run() -> None:
        try:
            encode_audio(source, probe, plan, tmp, timeout=settings.encode_timeout, cancel=cancel)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the task's own thread below
            failure.append(exc)

    encoder = threading.Thread(target=run, name=f"audio-{job_id}", daemon=True)
    encoder.start()
    published: Track | None = None
    while True:
        running = encoder.is_alive()
        finished = _listed(tmp)
        # The segment muxer lists a segment only once it has closed its file.
        new = finished[len(published.segments) if published else 0:]
        if new:
            more = package_audio([os.path.join(tmp, name) for name in new],
                                 first_number=len(published.segments) if published else 0,
                                 decode_time=sum(published.durations) if published else 0,
                                 init=published.init if published else None)
            upload_track(svc, bucket, prefix, more)
            published = more if published is None else Track(
                more.id, more.init, {**published.segments, **more.segments}, [*published.durations, *more.durations],
                more.codecs)
            if running:
                svc.jobs.set_part(job_id, PartName.AUDIO, {"state": PartState.RUNNING,
                                                           "tracks": {more.id: published.record()}})
                publish_progress(svc, job_id)
        if not running:
            break
        encoder.join(AUDIO_POLL_SECONDS)
    if failure:
        raise failure[0]
    if published is None:
        raise MediaError("the audio encode produced no segments")
    return published


def _listed(folder: str) -> list[str]:
    """Segment files the segment muxer has closed, in order (its CSV list)."""
    listing = Path(folder) / SEGMENT_LIST
    if not listing.exists():
        return []
    names = [line.split(",", 1)[0] for line in listing.read_text().splitlines() if line.strip()]
    return [n for n in names if (Path(folder) / n).exists()]
