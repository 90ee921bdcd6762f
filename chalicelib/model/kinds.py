"""The task protocol's vocabulary: job states, task kinds, worker roles, queues and part names.

Every module that speaks of a state, a kind or a role uses these ``StrEnum``s (rq's
``JobStatus`` is the model): they compare equal to, hash like and serialise as their values,
so Redis, JSON and Lua see plain strings.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    """Where a job is in its life (README "Job states")."""

    AWAITING_UPLOAD = "awaiting_upload"
    QUEUED = "queued"
    PROBING = "probing"
    ENCODING = "encoding"
    ASSEMBLING = "assembling"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATES = (JobState.AWAITING_UPLOAD, JobState.QUEUED, JobState.PROBING, JobState.ENCODING,
                 JobState.ASSEMBLING)
FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
STATES = tuple(JobState)


class TaskKind(StrEnum):
    """What a task asks a worker to do."""

    CHUNK = "chunk"        # encode one video chunk
    AUDIO = "audio"        # encode one part of the audio tracks (the whole of them, when one part)
    ASSEMBLE = "assemble"  # put a job's parts together and publish the output


class QueueName(StrEnum):
    """The work queues (Redis lists)."""

    PROCESS = "process"    # video chunks and the audio track
    ASSEMBLE = "assemble"  # one task per job, after its last part


class Role(StrEnum):
    """What a worker process (an ECS service) does: which queue it drains."""

    PROCESSOR = "processor"
    ASSEMBLER = "assembler"
    NOTIFIER = "notifier"    # drains no task queue: fans out the event outbox, delivers webhooks

    @property
    def queue(self) -> QueueName:
        """The queue this role drains (KeyError for the notifier, which drains none)."""
        return ROLE_QUEUES[self]


ROLE_QUEUES: Mapping[Role, QueueName] = {Role.PROCESSOR: QueueName.PROCESS, Role.ASSEMBLER: QueueName.ASSEMBLE}
KIND_QUEUES: Mapping[TaskKind, QueueName] = {TaskKind.CHUNK: QueueName.PROCESS, TaskKind.AUDIO: QueueName.PROCESS,
                                             TaskKind.ASSEMBLE: QueueName.ASSEMBLE}


class PartState(StrEnum):
    """A part's status on the job's dashboard."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    RETRIED = "retried"


class PartName(StrEnum):
    """The named parts of a job's status; video chunks are ``chunk_part(index)``."""

    AUDIO = "audio"
    ASSEMBLY = "assembly"


def chunk_part(index: int) -> str:
    """The part name of video chunk ``index`` (``v00000``…)."""
    return f"v{index:05d}"


def audio_part(index: int) -> str:
    """The part name of audio part ``index``: ``audio`` for the first (the name it had when the
    audio was one task), then ``a00001``…"""
    return PartName.AUDIO if index == 0 else f"a{index:05d}"


def is_audio_part(name: str) -> bool:
    """Whether a part name is one of the audio's."""
    return name == PartName.AUDIO or (len(name) == 6 and name[0] == "a" and name[1:].isdigit())


def task_payload(job_id: str, kind: TaskKind, index: int | None = None) -> dict[str, Any]:
    """The JSON payload of a task."""
    payload: dict[str, Any] = {"job_id": job_id, "kind": kind}
    if index is not None:
        payload["index"] = index
    return payload


def part_of(payload: Mapping[str, Any]) -> str:
    """The job part a task payload works on."""
    kind = TaskKind(payload["kind"])
    if kind is TaskKind.AUDIO:
        return audio_part(int(payload.get("index", 0)))
    if kind is TaskKind.ASSEMBLE:
        return PartName.ASSEMBLY
    return chunk_part(int(payload["index"]))


def describe(payload: Mapping[str, Any]) -> str:
    """A task in words, for failure reasons ("chunk 3", "audio encoding", "assembly")."""
    kind = payload.get("kind")
    if kind == TaskKind.AUDIO:
        return f"audio part {payload['index']}" if payload.get("index") else "audio encoding"
    if kind == TaskKind.ASSEMBLE:
        return "assembly"
    return f"chunk {payload.get('index')}"
