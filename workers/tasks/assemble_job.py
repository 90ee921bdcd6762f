"""The assembly task: concatenate chunks without re-encoding, mux audio, verify, publish."""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from chalicelib.model.kinds import JobState, PartName, PartState, chunk_part
from chalicelib.model.plan import Plan
from chalicelib.model.tasks import Task
from chalicelib.stores.services import Services
from chalicelib.stores.storage import output_key, work_prefix
from workers.cancel import check_cancel
from workers.media.mux import assemble
from workers.media.verify import verify_output


def assemble_job(svc: Services, task: Task, cancel: threading.Event) -> None:
    """Build, verify and upload the output of ``task``'s job, then record it and clean up."""
    job_id = task.payload["job_id"]
    job = svc.jobs.get(job_id)
    if job["state"] != JobState.ASSEMBLING:
        return
    plan = Plan.from_dict(job["plan"])
    parts = svc.jobs.parts(job_id)
    settings = svc.settings
    with tempfile.TemporaryDirectory(prefix="ff-asm-", dir=settings.work_dir or None) as tmp:
        chunk_paths = []
        for chunk in plan.chunks:
            path = Path(tmp) / f"{chunk_part(chunk.index)}.mp4"
            svc.storage.download_file(settings.work_bucket, parts[chunk_part(chunk.index)]["key"], path)
            chunk_paths.append(str(path))
            check_cancel(cancel)
        audio_path = None
        if plan.has_audio:
            audio_path = str(Path(tmp) / "audio.m4a")
            svc.storage.download_file(settings.work_bucket, parts[PartName.AUDIO]["key"], audio_path)
        out = Path(tmp) / "output.mp4"
        assemble(chunk_paths, plan.chunks, audio_path, str(out), timeout=settings.encode_timeout, cancel=cancel)
        check_cancel(cancel)
        audio_expected = plan.audio_duration if plan.has_audio else None
        meta = verify_output(str(out), plan, audio_expected)
        key = output_key(job_id, job.get("filename") or "video.mp4")
        svc.storage.upload_file(out, settings.output_bucket, key, "video/mp4")
    output = {**meta, "key": key, "filename": Path(key).name, "source_size": job.get("size")}
    svc.jobs.set_part(job_id, PartName.ASSEMBLY, {"state": PartState.DONE, "attempt": task.attempt})
    if svc.jobs.transition(job_id, [JobState.ASSEMBLING], JobState.DONE, output=output):
        svc.storage.delete_prefix(settings.work_bucket, work_prefix(job_id))
    else:  # cancelled while we worked
        svc.storage.delete(settings.output_bucket, key)
