"""Processor tasks: encode one video chunk, or the whole audio track, and upload it."""
from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path

from chalicelib import jobs as J
from chalicelib.encode import encode_audio, encode_chunk
from chalicelib.options import EncodeOptions
from chalicelib.plan import Plan
from chalicelib.probe import ProbeResult
from chalicelib.queue import Task
from chalicelib.services import Services
from chalicelib.storage import work_prefix
from chalicelib.worker import check_cancel


def process_part(svc: Services, task: Task, cancel: threading.Event) -> None:
    """Encode the part named by ``task`` from the source (read over a presigned URL)."""
    job_id = task.payload["job_id"]
    job = svc.jobs.get(job_id)
    plan = Plan.from_dict(job["plan"])
    options = EncodeOptions.from_dict(job["options"])
    is_audio = task.payload["kind"] == "audio"
    part = J.AUDIO_PART if is_audio else J.part_name(int(task.payload["index"]))
    settings = svc.settings
    source = svc.storage.presigned_get(settings.upload_bucket, job["source_key"],
                                       int(settings.encode_timeout) + 300)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ff-part-", dir=settings.work_dir or None) as tmp:
        out = Path(tmp) / (f"{part}.m4a" if is_audio else f"{part}.mp4")
        if is_audio:
            encode_audio(source, ProbeResult.from_dict(job["source"]), options, str(out),
                         timeout=settings.encode_timeout, cancel=cancel)
        else:
            chunk = plan.chunks[int(task.payload["index"])]
            encode_chunk(source, chunk, plan, options, str(out), timeout=settings.encode_timeout, cancel=cancel)
        check_cancel(cancel)
        encode_seconds = round(time.monotonic() - started, 3)
        # A unique key per attempt: a stalled worker that wakes up late cannot overwrite the
        # part that the job's record points at.
        key = f"{work_prefix(job_id)}{part}-{uuid.uuid4().hex[:12]}{out.suffix}"
        svc.storage.upload_file(out, settings.work_bucket, key, "audio/mp4" if is_audio else "video/mp4")
        size = out.stat().st_size
    check_cancel(cancel)
    status = {"state": "done", "key": key, "attempt": task.attempt, "seconds": encode_seconds, "bytes": size}
    assembly = J.TaskSpec(uuid.uuid4().hex, {"job_id": job_id, "kind": "assemble"})
    outcome = svc.jobs.complete_part(job_id, part, status, assembly)
    if outcome in ("duplicate", "ignored"):
        # Someone else finished this part first, or the job ended: our copy is garbage.
        svc.storage.delete(settings.work_bucket, key)
