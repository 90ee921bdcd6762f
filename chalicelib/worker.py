"""The worker loop (what the Fargate containers run): pop, heartbeat, execute, complete.

One worker runs one task at a time. A heartbeat thread extends the task's lease and watches
the job; if the job is cancelled/failed or the lease is lost, the running ffmpeg is stopped.
Any worker also runs the reaper, which returns tasks of dead workers to the queue.
"""
from __future__ import annotations

import signal
import socket
import threading
import time
from typing import Callable

from chalicelib import jobs as J
from chalicelib.errors import InvalidMediaError, JobAbandoned, VerificationError
from chalicelib.logs import get_logger
from chalicelib.queue import ReliableQueue, Task
from chalicelib.services import ASSEMBLE_QUEUE, PROCESS_QUEUE, Services

Handler = Callable[[Services, Task, threading.Event], None]
# Failures that another attempt cannot fix: the job fails at once with the reason.
TERMINAL_ERRORS = (InvalidMediaError, VerificationError)
CANCEL_POLL_SECONDS = 5.0
ROLES = {"processor": PROCESS_QUEUE, "assembler": ASSEMBLE_QUEUE}


class Worker:
    """Runs tasks of one role until stopped."""

    def __init__(self, svc: Services, role: str, name: str | None = None) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}")
        self.svc = svc
        self.role = role
        self.queue: ReliableQueue = svc.queue(ROLES[role])
        self.name = name or f"{role}-{socket.gethostname()}-{id(self):x}"
        self.stop = threading.Event()      # finish the current task, then exit
        self.abort = threading.Event()     # stop the current task now and give it back
        self._last_reap = 0.0
        self.log = get_logger()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: finish the current task (Fargate gives stopTimeout); twice: release it."""
        def on_signal(signum: int, _frame: object) -> None:
            if self.stop.is_set():
                self.abort.set()
            self.stop.set()
            self.log.info("stop requested", extra={"signal": signum})

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> None:
        """Loop until ``stop`` is set."""
        self.log.info("worker started", extra={"worker": self.name, "role": self.role})
        while not self.stop.is_set():
            self.reap_if_due()
            task = self.queue.pop(timeout=1.0)
            if task is not None and self.stop.is_set():
                self.queue.release(task)  # the stop came while we waited: don't start it, give it back
            elif task is not None:
                self.execute(task)
        self.log.info("worker stopped", extra={"worker": self.name})

    def reap_if_due(self) -> None:
        """Return expired tasks (any queue) to the ready list; fail jobs whose tasks are exhausted."""
        now = time.monotonic()
        if now - self._last_reap < max(1.0, self.svc.settings.lease_seconds / 4):
            return
        self._last_reap = now
        for queue in (self.svc.process_queue, self.svc.assemble_queue):
            for reaped in queue.reap():
                job_id = reaped.payload.get("job_id", "")
                if reaped.dead:
                    self.svc.fail_job(job_id, f"{_describe(reaped.payload)} failed after {reaped.attempt} "
                                               f"attempts: {reaped.error}")
                else:
                    self.svc.jobs.set_part(job_id, _part(reaped.payload), {"state": "retried",
                                                                          "attempt": reaped.attempt})
                self.log.warning("reaped task", extra={"job_id": job_id, "dead": reaped.dead})
        for job_id in self.svc.jobs.sweep_stalled(self.svc.settings.claim_stale_seconds * 3):
            self.log.warning("failed a job whose preparation never finished", extra={"job_id": job_id})

    def execute(self, task: Task) -> None:
        """Run one task with a heartbeat; record the outcome on the queue and the job."""
        from chalicelib.assembler import assemble_job
        from chalicelib.processor import process_part

        job_id = task.payload["job_id"]
        self.log.append_keys(job_id=job_id, task_id=task.id, attempt=task.attempt)
        handler: Handler = assemble_job if self.role == "assembler" else process_part
        cancel = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(task, cancel), daemon=True)
        started = time.monotonic()
        try:
            if self.svc.jobs.state(job_id) in J.FINAL_STATES | {None}:
                raise JobAbandoned("job is no longer active")
            beat.start()
            self.svc.jobs.set_part(job_id, _part(task.payload), {"state": "running", "attempt": task.attempt,
                                                                "worker": self.name})
            handler(self.svc, task, cancel)
            self.queue.ack(task)
            self.log.info("task done", extra={"seconds": round(time.monotonic() - started, 3)})
        except JobAbandoned as exc:
            if self.abort.is_set() and not self.svc.jobs.state(job_id) in J.FINAL_STATES:
                self.queue.release(task)  # shutting down: give it back without spending an attempt
            else:
                self.queue.ack(task)
            self.log.info("task abandoned", extra={"reason": str(exc)})
        except TERMINAL_ERRORS as exc:
            self.svc.fail_job(job_id, str(exc))
            self.queue.ack(task)
            self.log.info("job failed", extra={"reason": str(exc)})
        except Exception as exc:  # noqa: BLE001 - any other error is retried by the queue
            reason = f"{type(exc).__name__}: {exc}"[:500]
            self.log.exception("task failed")
            # Back off before giving the task back (still holding the lease, heartbeat running):
            # an outage of S3 or Redis must not burn every attempt within a second.
            cancel.wait(retry_delay(task.attempt))
            outcome = self.queue.fail(task, reason)
            if outcome is not None and outcome.dead:
                self.svc.fail_job(job_id, f"{_describe(task.payload)} failed after {task.attempt} attempts: "
                                           f"{reason}")
            else:
                self.svc.jobs.set_part(job_id, _part(task.payload), {"state": "retried", "attempt": task.attempt,
                                                                    "error": reason})
        finally:
            cancel.set()
            if beat.is_alive():
                beat.join(timeout=5)
            self.log.remove_keys(["job_id", "task_id", "attempt"])

    def _heartbeat(self, task: Task, cancel: threading.Event) -> None:
        # Often enough to renew the lease well before it lapses, and to notice a cancel quickly.
        interval = min(max(0.2, self.svc.settings.lease_seconds / 4), CANCEL_POLL_SECONDS)
        while not cancel.wait(interval):
            if self.abort.is_set():
                cancel.set()
                return
            try:
                alive = self.queue.heartbeat(task)
                state = self.svc.jobs.state(task.payload["job_id"])
            except Exception:  # noqa: BLE001 - Redis blip: keep working; the lease covers it
                self.log.warning("heartbeat failed", exc_info=True)
                continue
            if not alive or state in J.FINAL_STATES or state is None:
                self.log.info("abandoning task", extra={"lease_alive": alive, "job_state": state})
                cancel.set()
                return


def retry_delay(attempt: int) -> float:
    """Seconds to wait before a failed attempt's task is retried: 2, 4, 8 … up to 30."""
    return float(min(30, 2**attempt))


def check_cancel(cancel: threading.Event) -> None:
    """Raise JobAbandoned if the task was cancelled (call between steps of a handler)."""
    if cancel.is_set():
        raise JobAbandoned("task cancelled, job finished elsewhere or lease lost")


def _part(payload: dict) -> str:
    kind = payload.get("kind")
    return J.AUDIO_PART if kind == "audio" else ("assembly" if kind == "assemble" else J.part_name(payload["index"]))


def _describe(payload: dict) -> str:
    kind = payload.get("kind")
    return {"audio": "audio encoding", "assemble": "assembly"}.get(kind, f"chunk {payload.get('index')}")
