"""Processor tasks: encode one chunk's every rung, or one part of the audio, into final segments."""
from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from chalicelib.logs import get_logger
from chalicelib.model.audioparts import AudioPart
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.kinds import FINAL_STATES, JobState, PartState, TaskKind, audio_part, part_of, task_payload
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.playback import stream_prefix
from chalicelib.model.tasks import Task, TaskSpec
from chalicelib.stores.services import Services
from workers.cancel import check_cancel
from workers.media.encode import (
    audio_tracks_of,
    encode_audio,
    encode_ladder,
    listed_segments,
    subtitle_path,
    track_folder,
)
from workers.media.images import ChunkImages, made_images
from workers.media.loudness import normalisation
from workers.media.package import Track, package_audio, package_chunk
from workers.tasks.images import candidate_prefix, publish_poster, upload_images
from workers.tasks.pieces import pieces_prefix, upload_mp4_pieces
from workers.tasks.publish import location, publish_progress, upload_subtitles, upload_track
from workers.tasks.sources import local_source

AUDIO_POLL_SECONDS = 0.5


def encode_part(svc: Services, task: Task, cancel: threading.Event) -> None:
    """Encode the part named by ``task`` from a local copy of the source (the encoder has no network).

    1. Encode (a chunk: every rung, its poster candidates and storyboard tiles at once from one
       decode; audio: one part of every track, its segments published while the encode runs).
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
            audio = plan.audio_parts[int(task.payload.get("index", 0))]
            tracks = _audio(svc, job_id, ProbeResult.from_dict(job["source"]), plan, audio, source, tmp, bucket,
                            prefix, cancel, loudness=options.loudness_target)
        else:
            chunk = plan.chunks[int(task.payload["index"])]
            images = ChunkImages.of(plan, chunk)
            files = encode_ladder(source, chunk, plan, options, tmp, timeout=settings.encode_timeout, cancel=cancel,
                                  images=images, threads=settings.encoder_threads)
            check_cancel(cancel)
            tracks = package_chunk(plan, chunk, files)
            for track in tracks:
                upload_track(svc, bucket, prefix, track)
            pictures = upload_images(svc, job_id, part, made_images(images, tmp))
    # The MP4's share of this part (its top rung, or its audio) as one piece the assembler copies
    # server-side: before the completion, so that the assembly finds every piece.
    upload_mp4_pieces(svc, job_id, options, plan, tracks)
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
        svc.storage.delete_prefix(settings.work_bucket, pieces_prefix(job_id))
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


def _audio(svc: Services, job_id: str, probe: ProbeResult, plan: Plan, part: AudioPart, source: str, tmp: str,
           bucket: str, prefix: str, cancel: threading.Event, *, loudness: float | None = None) -> list[Track]:
    """Encode ``part`` of every audio track into segments, uploading each as the segment muxer
    finishes it [each normalised to ``loudness`` LUFS: measured first, over the whole track (the
    plan has one part then)], and with the first part upload the text subtitles as WebVTT once
    the encode is done."""
    settings = svc.settings
    name = audio_part(part.index)
    failure: list[BaseException] = []
    filters: dict[str, str] = {}
    for audio in audio_tracks_of(plan, probe) if loudness is not None and probe.audio is not None else ():
        assert probe.audio is not None and loudness is not None
        # Each track measured on its own (a commentary is not as loud as the programme).
        one = dataclasses.replace(probe, audio=dataclasses.replace(probe.audio, index=audio.index))
        filters[audio.id], measured = normalisation(source, one, loudness, timeout=settings.encode_timeout,
                                                    cancel=cancel, workdir=tmp)
        get_logger().info("loudness measured", extra={"track": audio.id, "target": loudness,
                                                      "linear": measured.linear(loudness),
                                                      **dataclasses.asdict(measured)})
        check_cancel(cancel)

    def run() -> None:
        try:
            encode_audio(source, probe, plan, tmp, timeout=settings.encode_timeout, cancel=cancel,
                         track_loudness=filters, part=part)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the task's own thread below
            failure.append(exc)

    encoder = threading.Thread(target=run, name=f"audio-{job_id}", daemon=True)
    encoder.start()
    tracks = audio_tracks_of(plan, probe)
    published: dict[str, Track] = {}
    while True:
        running = encoder.is_alive()
        grew = False
        for audio in tracks:
            folder = track_folder(tmp, audio)
            done = published.get(audio.id)
            # The segment muxer lists a segment only once it has closed its file.
            new = part.kept(listed_segments(folder))[len(done.segments) if done else 0:]
            if not new:
                continue
            more = package_audio([os.path.join(folder, file) for file in new],
                                 first_number=part.first_segment + (len(done.segments) if done else 0),
                                 decode_time=part.start + (sum(done.durations) if done else 0),
                                 init=done.init if done else None, track_id=audio.id)
            upload_track(svc, bucket, prefix, more)
            published[audio.id] = more if done is None else Track(
                more.id, more.init, {**done.segments, **more.segments}, [*done.durations, *more.durations],
                more.codecs)
            grew = True
        if running and grew:
            svc.jobs.set_part(job_id, name, {"state": PartState.RUNNING,
                                             "tracks": {k: t.record() for k, t in published.items()}})
            publish_progress(svc, job_id)
        if not running:
            break
        encoder.join(AUDIO_POLL_SECONDS)
    if failure:
        raise failure[0]
    missing = [t.id for t in tracks if t.id not in published]
    if missing:
        raise MediaError(f"the audio encode produced no segments for {', '.join(missing)}")
    short = [t.id for t in tracks if part.segments is not None and len(published[t.id].segments) != part.segments]
    if short:
        raise MediaError(f"audio part {part.index} made too few segments for {', '.join(short)} "
                         f"(expected {part.segments})")
    for subtitle in plan.subtitles if part.index == 0 else ():
        upload_subtitles(svc, bucket, prefix, subtitle, Path(subtitle_path(tmp, subtitle)).read_bytes())
    return [published[t.id] for t in tracks]

