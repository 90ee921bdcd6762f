"""Processor tasks: encode one video chunk, or the whole audio track, and upload it."""
from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path

from chalicelib.model.facts import ProbeResult
from chalicelib.model.kinds import PartState, TaskKind, part_of, task_payload
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.tasks import Task, TaskSpec
from chalicelib.stores.services import Services
from chalicelib.stores.storage import work_prefix
from workers.cancel import check_cancel
from workers.media.encode import encode_audio, encode_chunk
from workers.tasks.sources import local_source


def encode_part(svc: Services, task: Task, cancel: threading.Event) -> None:
    """Encode the part named by ``task`` from a local copy of the source (the encoder has no network)."""
    job_id = task.payload["job_id"]
    job = svc.jobs.get(job_id)
    plan = Plan.from_dict(job["plan"])
    options = EncodeOptions.from_dict(job["options"])
    is_audio = task.payload["kind"] == TaskKind.AUDIO
    part = part_of(task.payload)
    settings = svc.settings
    # The version the chunker probed, whatever was uploaded to the key since.
    source = str(local_source(svc, job))
    check_cancel(cancel)
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
    status = {"state": PartState.DONE, "key": key, "attempt": task.attempt, "seconds": encode_seconds, "bytes": size}
    if not is_audio:
        status["frames"] = plan.chunks[int(task.payload["index"])].frame_count
    assembly = TaskSpec(uuid.uuid4().hex, task_payload(job_id, TaskKind.ASSEMBLE))
    outcome = svc.jobs.complete_part(job_id, part, status, assembly)
    if outcome in ("duplicate", "ignored"):
        # Someone else finished this part first, or the job ended: our copy is garbage.
        svc.storage.delete(settings.work_bucket, key)
