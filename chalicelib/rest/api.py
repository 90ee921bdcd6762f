"""What the REST routes do; ``app.py`` only parses requests and shapes responses."""
from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import Any

from chalicelib.model.errors import (
    ConflictError,
    LimitExceededError,
    NotFoundError,
    StorageRejectedError,
    ValidationError,
)
from chalicelib.model.kinds import FINAL_STATES, STATES, JobState
from chalicelib.model.ladder import build_ladder, pixel_seconds
from chalicelib.model.limits import Principal, limits_for
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import output_size
from chalicelib.model.playback import stream_prefix
from chalicelib.rest.views import job_view
from chalicelib.stores.jobs import new_job_id
from chalicelib.stores.services import Services
from chalicelib.stores.storage import VIDEO_EXTENSIONS, source_key

MAX_PAGE = 100
DECLARED_FPS = 30.0  # a browser does not tell the frame rate; it changes rates, not the rungs' sizes


def _require(body: Any, name: str, kind: type) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValidationError(f"'{name}' is required and must be a {kind.__name__}")
    return value


def create_job(svc: Services, who: Principal, body: Any) -> dict[str, Any]:
    """Validate an upload request, create the job and presign its upload."""
    filename = _require(body, "filename", str).strip()
    size = _require(body, "size", int)
    content_type = _require(body, "content_type", str).strip().lower() or "application/octet-stream"
    if not 0 < len(filename) <= 255 or "/" in filename or "\\" in filename:
        raise ValidationError("'filename' must be a plain file name of 1-255 characters")
    ext = PurePosixPath(filename).suffix.lower().lstrip(".")
    if ext not in VIDEO_EXTENSIONS:
        raise ValidationError(f"'.{ext}' is not a video file type we accept ({', '.join(sorted(VIDEO_EXTENSIONS))})")
    if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
        raise ValidationError(f"content type '{content_type}' is not a video type")
    limits = limits_for(svc.settings, who)
    limit = int(limits["max_upload_bytes"])
    if not 0 < size <= limit:
        raise ValidationError(f"size must be between 1 byte and {limit} bytes (got {size})")
    _check_declared(body, limits)
    raw_options = body.get("options") or {}
    if "preset" in body:
        raw_options = {**raw_options, "preset": body["preset"]}
    options = EncodeOptions.from_dict(raw_options)
    _check_quota(svc, who, body, options, limits)

    job_id = new_job_id()
    key = source_key(job_id, ext)
    svc.jobs.create({"id": job_id, "owner": who.owner, "filename": filename, "size": size,
                     "content_type": content_type, "source_key": key, "options": options.to_dict(),
                     "limits": limits, "part_size": svc.settings.part_size}, max_active=limits["max_active_jobs"],
                    upload_window=svc.settings.upload_window_seconds)
    # The policy pins the exact declared size: nothing bigger (or smaller) can be posted.
    post = svc.storage.presigned_post(key, content_type, size, size)
    return {
        "job_id": job_id,
        "state": JobState.AWAITING_UPLOAD.value,
        "key": key,
        "upload": {"method": "POST", "url": post["url"], "fields": post["fields"]},
        "multipart": {"part_size": svc.settings.part_size, "max_parts": 10000},
        "expires_in": svc.settings.upload_url_expiry,
        "upload_expires_at": round(time.time() + svc.settings.upload_window_seconds),
        "options": options.to_dict(),
    }


def _check_quota(svc: Services, who: Principal, body: dict[str, Any], options: EncodeOptions,
                 limits: dict[str, float]) -> None:
    """Refuse before any upload a video whose declared size and length would not fit in what is
    left of the owner's daily compute quota (the chunker charges the real figure)."""
    duration, width, height = (body.get(name) for name in ("duration", "width", "height"))
    if not (duration and width and height):
        return
    out_w, out_h = output_size(int(width), int(height), options.max_width, options.max_height)
    cost = pixel_seconds(build_ladder(options, out_w, out_h, DECLARED_FPS), float(duration))
    left = limits["max_pixel_seconds_per_day"] - svc.usage.used(who.owner)
    if cost > left:
        raise LimitExceededError(f"this video needs about {cost:.3g} pixel-seconds of encoding, and "
                                 f"{max(0.0, left):.3g} of your daily quota are left (it resets at 00:00 UTC)")


def _check_declared(body: dict[str, Any], limits: dict[str, float]) -> None:
    """Optional facts the client read from the file (a browser's <video> metadata), checked
    before any upload; the chunker checks the real values again."""
    declared = {name: body.get(name) for name in ("duration", "width", "height")}
    for name, value in declared.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValidationError(f"'{name}' must be a non-negative number")
    if declared["duration"] and declared["duration"] > limits["max_duration_seconds"]:
        raise ValidationError(f"video is {declared['duration']:.0f} s long, over your "
                              f"{limits['max_duration_seconds']:.0f} s limit")
    if declared["width"] and declared["height"] and declared["width"] * declared["height"] > limits["max_pixels"]:
        raise ValidationError(f"resolution {declared['width']}x{declared['height']} is over your limit")


def _awaiting_upload(svc: Services, who: Principal, job_id: str) -> dict[str, Any]:
    job = svc.jobs.get(job_id, who.owner)
    if job["state"] != JobState.AWAITING_UPLOAD:
        raise ConflictError(f"job is {job['state']}; uploads are only accepted while awaiting_upload")
    if time.time() - job["created_at"] >= svc.settings.upload_window_seconds:
        raise ConflictError("the upload window of this job has closed; create a new job for this file")
    return job


def _part_plan(job: dict[str, Any], settings_part_size: int) -> tuple[int, int]:
    """(part size, number of parts) of the job's multipart upload: fixed when the job was created."""
    part_size = int(job.get("part_size") or settings_part_size)
    return part_size, max(1, -(-int(job["size"]) // part_size))


S3_MIN_PART, S3_MAX_PART, S3_MAX_PARTS = 5 * 1024**2, 5 * 1024**3, 10_000


def create_multipart(svc: Services, who: Principal, job_id: str, body: Any = None) -> dict[str, Any]:
    """Start a multipart upload of the job's source (Uppy ``createMultipartUpload``). The client
    may choose its part size (``{"part_size": n}``); every part but the last then has exactly it."""
    job = _awaiting_upload(svc, who, job_id)
    wanted = body.get("part_size") if isinstance(body, dict) else None
    if wanted is not None:
        if isinstance(wanted, bool) or not isinstance(wanted, int) or not S3_MIN_PART <= wanted <= S3_MAX_PART:
            raise ValidationError(f"'part_size' must be an integer from {S3_MIN_PART} to {S3_MAX_PART} bytes")
        if -(-int(job["size"]) // wanted) > S3_MAX_PARTS:
            raise ValidationError(f"'part_size' {wanted} would make more than {S3_MAX_PARTS} parts")
        svc.jobs.update(job_id, part_size=wanted)
        job["part_size"] = wanted
    upload_id = svc.storage.create_multipart(job["source_key"], job["content_type"])
    part_size, count = _part_plan(job, svc.settings.part_size)
    return {"upload_id": upload_id, "key": job["source_key"], "part_size": part_size, "parts": count}


def sign_part(svc: Services, who: Principal, job_id: str, upload_id: str, part_number: str) -> dict[str, Any]:
    """Presign one part (Uppy ``signPart``)."""
    job = _awaiting_upload(svc, who, job_id)
    if not part_number.isdigit() or not 1 <= int(part_number) <= 10000:
        raise ValidationError("part number must be 1-10000")
    number = int(part_number)
    part_size, count = _part_plan(job, svc.settings.part_size)
    if number > count:
        raise ValidationError(f"a {job['size']}-byte file has {count} parts of {part_size} bytes; there is no part "
                              f"{number}")
    # The URL signs the part's exact length: S3 refuses a bigger (or smaller) body.
    length = part_size if number < count else int(job["size"]) - (count - 1) * part_size
    url = svc.storage.sign_part(job["source_key"], upload_id, number, length)
    return {"url": url, "expires_in": svc.settings.upload_url_expiry, "content_length": length}


def list_parts(svc: Services, who: Principal, job_id: str, upload_id: str) -> dict[str, Any]:
    """Parts already stored (Uppy ``listParts``, used to resume)."""
    job = _awaiting_upload(svc, who, job_id)
    return {"parts": svc.storage.list_parts(job["source_key"], upload_id)}


def complete_multipart(svc: Services, who: Principal, job_id: str, upload_id: str, body: Any) -> dict[str, Any]:
    """Finish the upload (Uppy ``completeMultipartUpload``); S3 then triggers the chunker."""
    job = _awaiting_upload(svc, who, job_id)
    parts = _require(body, "parts", list)
    if not parts or not all(isinstance(p, dict) and "PartNumber" in p and "ETag" in p for p in parts):
        raise ValidationError("'parts' must be a non-empty list of {PartNumber, ETag}")
    part_size, count = _part_plan(job, svc.settings.part_size)
    stored = {int(p["PartNumber"]): int(p["Size"]) for p in svc.storage.list_parts(job["source_key"], upload_id)}
    named = {int(p["PartNumber"]) for p in parts if str(p["PartNumber"]).isdigit()}
    if named != set(range(1, count + 1)) or set(stored) != named:
        raise ValidationError(f"the upload needs exactly parts 1-{count}; {len(set(stored) & named)} of them are "
                              "stored: upload the missing ones, then complete again")
    if sum(stored.values()) != job["size"]:
        raise ValidationError(f"the uploaded parts add up to {sum(stored.values())} bytes, but the job was created "
                              f"for {job['size']}")
    try:
        svc.storage.complete_multipart(job["source_key"], upload_id, parts)
    except StorageRejectedError as exc:
        raise ValidationError(f"the upload could not be completed: {exc}") from exc
    return {"key": job["source_key"], "state": JobState.AWAITING_UPLOAD}


def abort_multipart(svc: Services, who: Principal, job_id: str, upload_id: str) -> None:
    """Abort the upload (Uppy ``abortMultipartUpload``)."""
    job = svc.jobs.get(job_id, who.owner)
    svc.storage.abort_multipart(job["source_key"], upload_id)


MAX_WAIT_SECONDS = 25.0  # API Gateway ends a request at 29 s


def get_job(svc: Services, who: Principal, job_id: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """Status of one of the caller's jobs. With ``wait=S&since=V``: answered as soon as the job's
    ``version`` is newer than ``V``, or after ``S`` seconds (at most 25) with the job unchanged;
    a final job answers at once."""
    job = svc.jobs.get(job_id, who.owner)
    wait, since = _wait_params(params or {})
    if wait > 0 and int(job.get("version") or 0) <= since and job["state"] not in FINAL_STATES:
        with svc.jobs.waiting(who.owner, svc.settings.max_waiting_requests):
            svc.jobs.wait_for_change(job_id, since, wait)
        job = svc.jobs.get(job_id, who.owner)
    return job_view(svc, job)


def _wait_params(params: dict[str, str]) -> tuple[float, int]:
    try:
        wait = float(params.get("wait") or 0)
        since = int(params.get("since") or -1)
    except ValueError as exc:
        raise ValidationError("'wait' must be a number of seconds and 'since' a job version") from exc
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise ValidationError(f"'wait' must be between 0 and {MAX_WAIT_SECONDS:.0f} seconds")
    return wait, since


LIST_ORDERS = ("newest", "oldest")


def list_jobs(svc: Services, who: Principal, params: dict[str, str]) -> dict[str, Any]:
    """A page of the caller's jobs (filtered by ``state`` and ``q``, in ``order``); ``next`` is the
    cursor of the following page."""
    try:
        n = min(max(int(params.get("limit") or 20), 1), MAX_PAGE)
        cursor = float(params["before"]) if params.get("before") else None
    except ValueError as exc:
        raise ValidationError("'limit' must be an integer and 'before' a cursor from a previous page") from exc
    states = frozenset(s for s in (params.get("state") or "").split(",") if s)
    if not states <= set(STATES):
        raise ValidationError(f"'state' must be a comma list of {', '.join(STATES)}")
    order = params.get("order") or "newest"
    if order not in LIST_ORDERS:
        raise ValidationError(f"'order' must be one of {', '.join(LIST_ORDERS)}")
    query = (params.get("q") or "").strip()
    if len(query) > 255:
        raise ValidationError("'q' must be at most 255 characters")
    page, after = svc.jobs.page(who.owner, n, cursor, states=states, name=query, oldest_first=order == "oldest")
    return {"jobs": [job_view(svc, j, with_parts=False) for j in page],
            "next": repr(after) if after is not None else None}


MAX_BULK = 100


def delete_jobs(svc: Services, who: Principal, body: Any) -> dict[str, Any]:
    """Delete several of the caller's jobs; ids that are unknown (or not theirs) are reported."""
    ids = _require(body, "job_ids", list)
    if not 1 <= len(ids) <= MAX_BULK or not all(isinstance(i, str) for i in ids):
        raise ValidationError(f"'job_ids' must be a list of 1-{MAX_BULK} job ids")
    deleted, missing = [], []
    for job_id in dict.fromkeys(ids):
        try:
            delete_job(svc, who, job_id)
        except NotFoundError:
            missing.append(job_id)
        else:
            deleted.append(job_id)
    return {"deleted": deleted, "not_found": missing}


def cancel_job(svc: Services, who: Principal, job_id: str) -> dict[str, Any]:
    """Cancel a job: queued tasks are dropped, running ones notice and stop."""
    job = svc.jobs.get(job_id, who.owner)
    if job["state"] in FINAL_STATES:
        raise ConflictError(f"job is already {job['state']}")
    if svc.jobs.cancel(job_id):
        svc.discard_work(job_id)
    return get_job(svc, who, job_id)


def delete_job(svc: Services, who: Principal, job_id: str) -> None:
    """Delete a job and everything it stored (cancelling it first if it is still running)."""
    job = svc.jobs.get(job_id, who.owner)
    if job["state"] not in FINAL_STATES:
        svc.jobs.cancel(job_id)
    svc.discard_work(job_id)
    svc.storage.delete(svc.settings.upload_bucket, job["source_key"], job.get("source_version") or None)
    if (job.get("output") or {}).get("key"):
        svc.storage.delete(svc.settings.output_bucket, job["output"]["key"])
    svc.storage.delete_prefix(svc.settings.output_bucket, stream_prefix(job_id))
    svc.jobs.delete(job_id)


def health(svc: Services) -> dict[str, Any]:
    """Liveness of Redis and the queues' depth."""
    svc.redis.ping()
    return {"status": "ok", "queues": {name.value: queue.depth() for name, queue in svc.queues.items()}}

