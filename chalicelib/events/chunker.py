"""The chunking Lambda: an uploaded source → probe over HTTP → plan → one task per part."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.logs import get_logger
from chalicelib.media.probe import probe
from chalicelib.model import estimate
from chalicelib.model.errors import InvalidMediaError, NotFoundError, public_reason
from chalicelib.model.facts import ProbeResult
from chalicelib.model.kinds import JobState, PartState, Role, TaskKind, audio_part, chunk_part, task_payload
from chalicelib.model.ladder import pixel_seconds
from chalicelib.model.limits import Principal, limits_for
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from chalicelib.model.tasks import TaskSpec
from chalicelib.stores.services import Services
from chalicelib.stores.storage import job_id_from_key

MAX_PREPARE_ATTEMPTS = 3


def uploaded_keys(body: str) -> list[tuple[str, str]]:
    """(bucket, key) of every ObjectCreated record in an S3 event notification body."""
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        return []
    keys = []
    for record in event.get("Records", []) if isinstance(event, dict) else []:
        if str(record.get("eventName", "")).startswith("ObjectCreated"):
            s3 = record.get("s3", {})
            # S3 URL-encodes keys in notifications (spaces become '+').
            keys.append((s3.get("bucket", {}).get("name", ""), unquote_plus(s3.get("object", {}).get("key", ""))))
    return keys


def handle_message(svc: Services, body: str) -> None:
    """Process one SQS message from the upload bucket's notifications (at-least-once safe)."""
    log = get_logger()
    for bucket, key in uploaded_keys(body):
        job_id = job_id_from_key(key)
        if job_id is None or bucket != svc.settings.upload_bucket:
            log.info("ignoring object that is not a job upload", extra={"bucket": bucket, "key": key})
            continue
        log.append_keys(job_id=job_id)
        try:
            prepare_job(svc, job_id, key)
        except Exception as exc:
            # Transient trouble (S3/Redis blips) deserves a redelivery; a job that keeps failing
            # here must still end `failed` rather than wait forever in `probing`.
            attempts = svc.jobs.bump(job_id, "prepare_attempts")
            if attempts >= MAX_PREPARE_ATTEMPTS:
                log.exception("giving up on job preparation")
                svc.jobs.fail(job_id, f"could not prepare the job after {attempts} attempts: {public_reason(exc)}")
                continue
            svc.jobs.update(job_id, claim_at=0)  # let the redelivered event take over at once
            raise
        finally:
            log.remove_keys(["job_id"])


def prepare_job(svc: Services, job_id: str, key: str) -> None:
    """Claim the job, probe and validate the source, plan chunks and enqueue them."""
    log = get_logger()
    token = uuid.uuid4().hex
    claimed = svc.jobs.claim(job_id, token, svc.settings.claim_stale_seconds)
    if claimed != "claimed":
        # Duplicate S3 event, or the job was cancelled/finished: one upload makes one job.
        log.info("upload event ignored", extra={"claim": claimed})
        return
    svc.jobs.transition(job_id, [JobState.QUEUED, JobState.PROBING], JobState.PROBING)
    job = svc.jobs.get(job_id)
    if job["source_key"] != key:
        svc.jobs.fail(job_id, "upload arrived under an unexpected key")
        return
    bucket, version = svc.settings.upload_bucket, None
    try:
        head = svc.storage.head(bucket, key)
        # Everything reads this very version from now on: a second upload to the key changes nothing.
        version = head.get("VersionId") or None
        limits = {**limits_for(svc.settings, Principal(job.get("owner", ""))), **(job.get("limits") or {})}
        if time.time() - job["created_at"] > svc.settings.upload_window_seconds:
            raise InvalidMediaError("the upload arrived after the job's upload window closed")
        size = int(head["ContentLength"])
        if size > limits["max_upload_bytes"]:
            raise InvalidMediaError(f"file is {size} bytes, over the {int(limits['max_upload_bytes'])}-byte limit")
        if size == 0:
            raise InvalidMediaError("the uploaded file is empty")
        if job.get("size") and size != job["size"]:
            raise InvalidMediaError(f"the uploaded file is {size} bytes, but the job was created for {job['size']}")
        url = svc.storage.presigned_get(bucket, key, int(svc.settings.probe_timeout) + 60, version_id=version)
        result = probe(url, timeout=svc.settings.probe_timeout)
        check_limits(result, limits)
        options = EncodeOptions.from_dict(job.get("options") or {})
        plan = plan_chunks(result, options, audio_part_seconds=svc.settings.audio_part_seconds)
        cost = compute_cost(plan)
        owner = str(job.get("owner", ""))
        charged, used = svc.usage.charge(owner, cost, limits.get("max_pixel_seconds_per_day"))
        if not charged:
            quota = limits["max_pixel_seconds_per_day"]
            raise InvalidMediaError(f"this video needs {cost:.3g} pixel-seconds of encoding, and only "
                                    f"{max(0.0, quota - used):.3g} of your daily {quota:.3g} are left "
                                    "(the quota resets at 00:00 UTC)")
    except NotFoundError:
        svc.jobs.fail(job_id, "the uploaded file is gone (deleted before it could be processed)")
        return
    except InvalidMediaError as exc:
        log.info("rejected upload", extra={"reason": str(exc)})
        svc.jobs.fail(job_id, str(exc))
        # A rejected source is not kept (nor billed) for the retention period.
        svc.storage.delete(bucket, key, version)
        return
    tasks = [TaskSpec(uuid.uuid4().hex, task_payload(job_id, TaskKind.CHUNK, c.index))
             for c in plan.chunks]
    status = {chunk_part(c.index): {"state": PartState.QUEUED, "frames": c.frame_count} for c in plan.chunks}
    # First in line: the audio parts are few and long (a minute of audio each), so starting them
    # early keeps them off the job's critical path (they would otherwise start after every chunk).
    audio = [TaskSpec(uuid.uuid4().hex, task_payload(job_id, TaskKind.AUDIO, part.index or None))
             for part in plan.audio_parts]
    tasks[:0] = audio
    status.update({audio_part(part.index): {"state": PartState.QUEUED} for part in plan.audio_parts})
    svc.jobs.update(job_id, probe=result.summary(), source=without_frame_times(result).to_dict(), size=size,
                    source_version=version, estimate=job_estimate(svc, job_id, plan, options, result, size))
    started = svc.jobs.start_encoding(job_id, token, plan.to_dict(), status, len(plan.chunks), len(audio), tasks)
    if not started:  # cancelled meanwhile, or another chunker took over: this one charged for nothing
        svc.usage.refund(owner, cost)
    log.info("planned", extra={"chunks": len(plan.chunks), "frames": plan.total_frames, "started": started})


def job_estimate(svc: Services, job_id: str, plan: Plan, options: EncodeOptions, result: ProbeResult,
                 size: int) -> dict[str, Any]:
    """When the job will be ready and what it costs, from the fleet and the queue as they are now
    and how the last jobs went (README "The estimate before encoding")."""
    settings = svc.settings
    assert result.video is not None
    source = estimate.Source(size=size, duration=result.video.duration, fps=plan.fps, width=result.video.width,
                             height=result.video.height)
    processors = svc.fleet.seen(Role.PROCESSOR, settings.worker_seen_seconds) if svc.fleet else []
    assemblers = svc.fleet.seen(Role.ASSEMBLER, settings.worker_seen_seconds) if svc.fleet else []
    ahead = svc.fleet.work_ahead() if svc.fleet else []
    learnt = estimate.correction(svc.fleet.outcomes() if svc.fleet else [])
    own = len(plan.chunks) + len(plan.audio_parts)
    if settings.max_processors > 0:
        fleet = estimate.scaled_fleet(settings, len(processors), len(assemblers),
                                      own + sum(w.ready + w.inflight for w in ahead))
    else:
        fleet = estimate.local_fleet(processors, assemblers)
    made = estimate.estimate(plan, options, source, fleet, ahead, estimate.prices(settings, max(1, fleet.workers)),
                             made_at=time.time(), correction=learnt)
    if svc.fleet:
        svc.fleet.remember(job_id)
    return made.to_dict()


def compute_cost(plan: Plan) -> float:
    """What a job costs against the daily quota: output pixels × seconds, over every rung."""
    return pixel_seconds(plan.rungs, plan.video_duration)


def without_frame_times(result: ProbeResult) -> ProbeResult:
    """The probe without its per-frame tables (the plan already holds what encoders need)."""
    if result.video is None:
        return result
    return replace(result, video=replace(result.video, frame_times=(), keyframes=()))


def check_limits(result: ProbeResult, limits: dict[str, float]) -> None:
    """Reject sources over the owner's duration/resolution limits, or without video."""
    if result.video is None:
        raise InvalidMediaError("the file has no video stream (audio-only or not a video)")
    if result.video.frame_count == 0:
        raise InvalidMediaError("the video stream has no frames")
    if result.video.duration > limits["max_duration_seconds"]:
        raise InvalidMediaError(f"video is {result.video.duration:.0f} s long, over the "
                                f"{limits['max_duration_seconds']:.0f} s limit")
    if result.video.width * result.video.height > limits["max_pixels"]:
        raise InvalidMediaError(f"resolution {result.video.width}x{result.video.height} is over the limit")
