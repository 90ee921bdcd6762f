"""The assembly task: final playlists and manifest from the records, the MP4 composed in S3 (or remuxed), publish."""
from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from chalicelib.model.kinds import JobState, PartName, PartState
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.playback import SUBTITLES, stream_prefix
from chalicelib.model.tasks import Task
from chalicelib.stores.services import Services
from chalicelib.stores.storage import output_key, work_prefix
from workers.cancel import check_cancel
from workers.media.mux import remux
from workers.media.package import AUDIO_ID
from workers.media.stream import INIT, Index, segment_name
from workers.media.verify import verify_output, verify_stream
from workers.tasks.images import publish_poster, write_storyboard
from workers.tasks.mp4 import MIN_PART, compose_mp4
from workers.tasks.publish import location, publish_final, renditions

DOWNLOADS = 8  # segments fetched at once for the MP4
VERIFY_URL_SECONDS = 3600  # the check of a composed MP4 reads it through this long


def assemble_job(svc: Services, task: Task, cancel: threading.Event) -> None:
    """Finish ``task``'s job.

    1. Check the stream against the plan from the part records (no segment is read).
    2. Write the VOD playlists, the DASH manifest and the storyboard's WebVTT (and the poster, if
       no chunk task could).
    3. If the job wants the MP4: compose it in S3 from the chunks' pieces (its header built from
       their sample tables, its media copied server-side) and check it through a URL, or for
       older jobs and subtitles fetch the top H.264 rung's and the audio's segments, remux,
       verify, upload.
    4. Record the output and clean up the work files (or, if cancelled meanwhile, the output).
    """
    job_id = task.payload["job_id"]
    job = svc.jobs.get(job_id)
    if job["state"] != JobState.ASSEMBLING:
        return
    plan = Plan.from_dict(job["plan"])
    options = EncodeOptions.from_dict(job["options"])
    parts = svc.jobs.parts(job_id)
    settings = svc.settings
    index = publish_final(svc, job_id, plan, options, parts)
    verify_stream(plan, index, parts)
    check_cancel(cancel)
    output: dict[str, Any] = {"outputs": list(options.outputs), "renditions": renditions(index),
                              "source_size": job.get("size"), "storyboard": write_storyboard(svc, job_id, plan, parts),
                              # what of the source the output leaves out, and why (bitmap subtitles…)
                              "notes": list(plan.notes)}
    if job.get("poster_time") is None:  # no chunk could publish it (its task died just after the part)
        publish_poster(svc, job_id, plan, parts)
    key = None
    if "mp4" in options.outputs:
        key = output_key(job_id, job.get("filename") or "video.mp4")
        output.update(build_mp4(svc, job_id, plan, options, index, key, cancel), key=key, filename=Path(key).name)
    svc.jobs.set_part(job_id, PartName.ASSEMBLY, {"state": PartState.DONE, "attempt": task.attempt})
    if svc.jobs.transition(job_id, [JobState.ASSEMBLING], JobState.DONE, output=output):
        svc.storage.delete_prefix(settings.work_bucket, work_prefix(job_id))
    else:  # cancelled while we worked
        if key:
            svc.storage.delete(settings.output_bucket, key)
        svc.storage.delete_prefix(settings.output_bucket, stream_prefix(job_id))


def build_mp4(svc: Services, job_id: str, plan: Plan, options: EncodeOptions, index: Index, key: str,
              cancel: threading.Event, *, min_part: int = MIN_PART) -> dict[str, Any]:
    """Write the MP4 at ``key`` of the output bucket, checked against the plan; returns what the
    output records of it. Composed in S3 from the chunks' pieces where they are (see
    ``workers.tasks.mp4``; ``min_part``: S3's smallest part), else remuxed from the segments
    (older jobs; subtitles)."""
    settings = svc.settings
    audio = plan.audio_duration if plan.has_audio else None
    try:
        composed = compose_mp4(svc, job_id, options, plan, index, key, cancel, min_part)
        if composed is not None:
            url = svc.storage.presigned_get(settings.output_bucket, key, VERIFY_URL_SECONDS)
            return {**verify_output(url, plan, audio), **composed}
    except BaseException:
        svc.storage.delete(settings.output_bucket, key)  # never published unchecked
        raise
    with tempfile.TemporaryDirectory(prefix="ff-asm-", dir=settings.work_dir or None) as tmp:
        out = Path(tmp) / "output.mp4"
        remux_mp4(svc, job_id, options, index, Path(tmp), out, cancel)
        meta = verify_output(str(out), plan, audio)
        svc.storage.upload_file(out, settings.output_bucket, key, "video/mp4")
    return {**meta, "assembly_bytes": {"streamed": _segment_bytes(index) + int(meta["size"]), "copied": 0}}


def remux_mp4(svc: Services, job_id: str, options: EncodeOptions, index: Index, tmp: Path, out: Path,
              cancel: threading.Event) -> None:
    """Remux the MP4 from the top H.264 rung and the audio (the only step that reads segments)."""
    bucket, prefix = location(svc, job_id, options)
    video = _join(svc, bucket, f"{prefix}{index.video[0].id}/", len(index.video[0].durations), tmp / "video.mp4")
    check_cancel(cancel)
    audio = None
    alternates: list[tuple[str, str]] = []
    subtitles: list[tuple[str, str]] = []
    if index.audio is not None:
        audio = _join(svc, bucket, f"{prefix}{AUDIO_ID}/", len(index.audio.durations), tmp / "audio.mp4")
        for track in index.alternates:
            path = _join(svc, bucket, f"{prefix}{track.id}/", len(track.durations), tmp / f"{track.id}.mp4")
            alternates.append((str(path), track.language))
    for subtitle in index.subtitles:
        path = tmp / f"{subtitle.id}.vtt"
        svc.storage.download_file(bucket, f"{prefix}{subtitle.id}/{SUBTITLES}", path)
        subtitles.append((str(path), subtitle.language))
    remux(str(video), str(audio) if audio else None, str(out), timescale=index.video[0].timescale,
          timeout=svc.settings.encode_timeout, cancel=cancel,
          languages=[index.audio.language] if index.audio else [], alternates=alternates, subtitles=subtitles)


def _segment_bytes(index: Index) -> int:
    """Bytes of the segments the remux downloads (the subtitles' WebVTT aside)."""
    return sum(sum(r.sizes) for r in (index.video[0], *index.audios))


def _join(svc: Services, bucket: str, folder: str, count: int, path: Path) -> Path:
    """Download a rendition's init and ``count`` segments into one fragmented MP4 at ``path``."""
    names = [INIT, *(segment_name(n) for n in range(count))]
    pieces = path.parent / f"{path.stem}-pieces"
    pieces.mkdir()

    def fetch(name: str) -> Path:
        target = pieces / name
        svc.storage.download_file(bucket, folder + name, target)
        return target

    with ThreadPoolExecutor(DOWNLOADS) as pool, path.open("wb") as joined:
        for piece in pool.map(fetch, names):
            with piece.open("rb") as handle:
                shutil.copyfileobj(handle, joined)
            piece.unlink()
    return path
