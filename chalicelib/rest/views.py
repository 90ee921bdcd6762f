"""The public JSON shape of a job (what ``GET /jobs/{id}`` and the listing return)."""
from __future__ import annotations

import time
from typing import Any

from chalicelib.model import estimate, playback
from chalicelib.model.kinds import FINAL_STATES, STATES, JobState, PartState
from chalicelib.stores.clients import playback_secret
from chalicelib.stores.services import Services

_PLAYING = (JobState.ENCODING, JobState.ASSEMBLING, JobState.DONE)
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


# Expiry rounded up to this: the same link for a while, so a reloaded page hits the caches.
PLAYBACK_EXPIRY_STEP = 600


def playback_view(svc: Services, job: dict[str, Any]) -> dict[str, Any]:
    """``playable_at`` and, once the stream plays, its token URLs (HLS master; DASH when done)."""
    options = job.get("options") or {}
    outputs = options.get("outputs") or []
    state = job["state"]
    playable = job.get("playable_at") or (job.get(f"t_{JobState.DONE}") if state == JobState.DONE else None)
    view: dict[str, Any] = {"playable_at": playable if state in _PLAYING else None,
                            "playback_url": None, "dash_url": None, "playback_expires_at": None}
    settings = svc.settings
    if state not in _PLAYING or not playable or not settings.playback_base_url:
        return view
    secret = playback_secret(settings)
    step = PLAYBACK_EXPIRY_STEP
    expires = -(-(int(time.time()) + settings.playback_url_expiry) // step) * step
    token = playback.sign(secret, job["id"], expires)
    if "hls" in outputs:
        view["playback_url"] = playback.playback_url(settings.playback_base_url, token, job["id"])
    if "dash" in outputs and state == JobState.DONE:
        view["dash_url"] = playback.playback_url(settings.playback_base_url, token, job["id"], playback.MANIFEST)
    if view["playback_url"] or view["dash_url"]:
        view["playback_expires_at"] = expires
    return view


def signed_url(svc: Services, job_id: str, name: str) -> str | None:
    """The token URL of ``name`` in the job's stream folder (None without a playback base URL)."""
    settings = svc.settings
    if not settings.playback_base_url:
        return None
    step = PLAYBACK_EXPIRY_STEP
    expires = -(-(int(time.time()) + settings.playback_url_expiry) // step) * step
    token = playback.sign(playback_secret(settings), job_id, expires)
    return playback.playback_url(settings.playback_base_url, token, job_id, name)


def image_view(svc: Services, job: dict[str, Any]) -> dict[str, Any]:
    """``poster_url`` once the poster is written, ``storyboard_url`` (its WebVTT) once done."""
    state = job["state"]
    ended = state in (JobState.FAILED, JobState.CANCELLED)
    poster = signed_url(svc, job["id"], playback.POSTER) if job.get("poster_time") is not None and not ended else None
    storyboard = (job.get("output") or {}).get("storyboard") if state == JobState.DONE else None
    return {"poster_url": poster,
            "storyboard_url": signed_url(svc, job["id"], playback.STORYBOARD) if storyboard else None}


def estimate_view(svc: Services, job: dict[str, Any], with_parts: bool) -> dict[str, Any]:
    """``estimate`` (made after probing) and, once done, ``actual`` next to it; the listing reads no
    part records, so its ``actual`` has no cost."""
    parts = svc.jobs.parts(job["id"]) if with_parts and job["state"] == JobState.DONE else None
    return {"estimate": job.get("estimate"), "actual": estimate.actual(job, parts)}


def job_view(svc: Services, job: dict[str, Any], with_parts: bool = True) -> dict[str, Any]:
    """The public JSON shape of a job."""
    parts_total = job.get("parts_total", 0)
    # A job planned before the audio had parts has one, and no counter.
    audio_done = job.get("audio_total", 1) if job.get("audio") == PartState.DONE else job.get("audio_done", 0)
    done = job.get("chunks_done", 0) + audio_done
    state = job["state"]
    percent = 100.0 if state == JobState.DONE else (round(100.0 * done / parts_total, 1) if parts_total else 0.0)
    view: dict[str, Any] = {
        "job_id": job["id"],
        "state": state,
        "version": job.get("version", 0),
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
        view["parts"] = {name: {k: v for k, v in part.items() if k not in ("key", "tracks", "poster", "storyboard")}
                         for name, part in svc.jobs.parts(job["id"]).items()}
    view.update(playback_view(svc, job))
    view.update(estimate_view(svc, job, with_parts))
    view.update(image_view(svc, job))
    if state == JobState.DONE and job.get("output"):
        view["output"] = {k: v for k, v in job["output"].items() if k != "key"}  # where it sits is ours
    if state == JobState.DONE and (job.get("output") or {}).get("key"):
        output = view["output"]
        output["url"] = svc.storage.presigned_get(svc.settings.output_bucket, job["output"]["key"],
                                                  svc.settings.download_url_expiry, output.get("filename"))
        output["url_expires_at"] = round(time.time() + svc.settings.download_url_expiry)
        view["output"] = output
    return view
