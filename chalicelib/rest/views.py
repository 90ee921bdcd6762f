"""The public JSON shape of a job (what ``GET /jobs/{id}`` and the listing return)."""
from __future__ import annotations

import time
from typing import Any

from chalicelib.model.kinds import FINAL_STATES, STATES, JobState, PartState
from chalicelib.stores.services import Services

_STAGE_NAMES = {JobState.AWAITING_UPLOAD: "upload", JobState.QUEUED: "queue", JobState.PROBING: "probe",
                JobState.ENCODING: "encode", JobState.ASSEMBLING: "assemble"}


def stage_timings(job: dict[str, Any]) -> dict[str, float]:
    """Seconds spent in each stage, from the state-entry timestamps."""
    marks = [(s, job.get(f"t_{s}")) for s in STATES]
    entered = [(s, t) for s, t in marks if t is not None]
    entered.sort(key=lambda st: st[1])
    out: dict[str, float] = {}
    for (state, start), (_, end) in zip(entered, entered[1:]):
        if state in _STAGE_NAMES:
            out[_STAGE_NAMES[state]] = round(end - start, 3)
    if entered:
        last = entered[-1][1] if job["state"] in FINAL_STATES else None
        out["total"] = round((last or job["updated_at"]) - entered[0][1], 3)
    return out


def job_view(svc: Services, job: dict[str, Any], with_parts: bool = True) -> dict[str, Any]:
    """The public JSON shape of a job."""
    parts_total = job.get("parts_total", 0)
    done = job.get("chunks_done", 0) + (1 if job.get("audio") == PartState.DONE else 0)
    state = job["state"]
    percent = 100.0 if state == JobState.DONE else (round(100.0 * done / parts_total, 1) if parts_total else 0.0)
    view: dict[str, Any] = {
        "job_id": job["id"],
        "state": state,
        "filename": job.get("filename"),
        "size": job.get("size"),
        "content_type": job.get("content_type"),
        "options": job.get("options"),
        "created_at": job.get("created_at"),
        "updated_at": job.get("updated_at"),
        "progress": {"chunks_done": job.get("chunks_done", 0), "chunks_total": job.get("chunks_total", 0),
                     "audio": job.get("audio"), "percent": percent},
        "timings": stage_timings(job),
        "probe": job.get("probe"),
        "error": job.get("error") if state in (JobState.FAILED, JobState.CANCELLED) else None,
        "output": None,
    }
    if state == JobState.AWAITING_UPLOAD and job.get("created_at"):
        view["upload_expires_at"] = round(job["created_at"] + svc.settings.upload_window_seconds)
    if with_parts:
        # Where a part's file sits in the work bucket is ours, not the caller's business.
        view["parts"] = {name: {k: v for k, v in part.items() if k != "key"}
                         for name, part in svc.jobs.parts(job["id"]).items()}
    if state == JobState.DONE and job.get("output"):
        output = {k: v for k, v in job["output"].items() if k != "key"}  # where it sits is ours
        output["url"] = svc.storage.presigned_get(svc.settings.output_bucket, job["output"]["key"],
                                                  svc.settings.download_url_expiry, output.get("filename"))
        output["url_expires_at"] = round(time.time() + svc.settings.download_url_expiry)
        view["output"] = output
    return view
