"""Tasks as the queue hands them out and as a job transition enqueues them (pure records)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskSpec:
    """A task to enqueue atomically with a job transition."""

    task_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Task:
    """A leased task. ``attempt`` counts pops so far, including this one (1-based)."""

    id: str
    payload: dict[str, Any]
    attempt: int
    lease_token: str
    queue: str


@dataclass(frozen=True)
class ReapedTask:
    """A task whose lease ended without ack: requeued (``dead=False``) or dead.

    When ``dead`` is True the task will never run again and the caller must fail its job.
    """

    id: str
    payload: dict[str, Any]
    attempt: int
    dead: bool
    error: str | None
    queue: str
