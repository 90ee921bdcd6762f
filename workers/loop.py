"""The worker loop (what the Fargate containers run): pop, heartbeat, execute, settle.

One worker runs one task at a time, with the handler registered for the task's kind (handlers
are injected, as rq injects ``job_class``). A heartbeat thread extends the task's lease and
watches the job; if the job is cancelled/failed or the lease is lost, the running ffmpeg is
stopped. Every worker also runs the reaper, which returns tasks of dead workers to the queue.
Each outcome of a task has one handler below (``handle_success``, ``handle_abandoned``,
``handle_failure``, ``handle_retry``); which failure is which, ``errors.is_retryable`` decides:

- fail the job at once: bad input, a failed verification (InvalidMediaError, VerificationError);
  ffmpeg exiting non-zero on the source or on our own intermediates, its crashes, our own limits
  (CPU, file size) (MediaError); invalid job options (ValidationError);
- retry: a timeout (MediaTimeoutError: a loaded machine); ffmpeg killed from outside (SIGKILL:
  the OOM killer, SIGTERM), out of disk, network or disk I/O (``sandbox.classify_failure``); S3
  and Redis I/O (StorageError, redis and botocore errors, OSError); anything unknown;
- the reaper gives the task back (an attempt spent): a lost lease, a killed worker;
- ack, or give back without spending an attempt: the job ended elsewhere, the worker is stopping
  (JobAbandoned).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Mapping

from chalicelib.logs import get_logger
from chalicelib.model.errors import JobAbandoned, MediaError, is_retryable, public_reason
from chalicelib.model.kinds import FINAL_STATES, PartState, Role, TaskKind, describe, part_of
from chalicelib.model.tasks import Task
from chalicelib.stores.services import Services
from workers.cancel import Handler

CANCEL_POLL_SECONDS = 5.0
BEAT_SECONDS = 2.0  # presence refreshes at most this often (FRAMEFLEET_WORKER_SEEN_SECONDS counts them)


def retry_delay(attempt: int) -> float:
    """Seconds to wait before a failed attempt's task is retried: 2, 4, 8 … up to 30."""
    return float(min(30, 2**attempt))


class Worker:
    """Runs the tasks of one role's queue until stopped."""

    def __init__(self, svc: Services, role: Role, handlers: Mapping[TaskKind, Handler],
                 name: str | None = None) -> None:
        self.svc = svc
        self.role = Role(role)
        self.queue = svc.queue(self.role.queue)
        self.handlers = dict(handlers)
        # No host name: a worker's name shows in job views.
        self.name = name or f"{self.role}-{secrets.token_hex(4)}"
        self.stop = threading.Event()      # finish the current task, then exit
        self.abort = threading.Event()     # stop the current task now and give it back
        self._last_reap = 0.0
        self._last_beat = -BEAT_SECONDS
        self.cpus = len(os.sched_getaffinity(0))
        self.host = host_id()
        self.log = get_logger()

    def install_signal_handlers(self, grace_seconds: float | None = None) -> None:
        """SIGTERM/SIGINT: finish the current task; a second signal, or ``grace_seconds`` after
        the first, stops it and gives it back to the queue (before ECS's SIGKILL can lose its
        lease)."""
        timers: list[threading.Timer] = []

        def on_signal(signum: int, _frame: object) -> None:
            if self.stop.is_set():
                self.abort.set()
            self.stop.set()
            self.log.info("stop requested", extra={"signal": signum})
            if grace_seconds is not None and not timers:
                timers.append(threading.Timer(grace_seconds, self._give_back, args=(grace_seconds,)))
                timers[0].daemon = True
                timers[0].start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _give_back(self, grace: float) -> None:
        if not self.abort.is_set():
            self.log.warning("stop grace over: giving the current task back", extra={"grace": grace})
            self.abort.set()

    def run(self) -> None:
        """Loop until ``stop`` is set."""
        self.log.info("worker started", extra={"worker": self.name, "role": self.role})
        while not self.stop.is_set():
            self.beat()
            self.reap_if_due()
            task = self.queue.pop(timeout=1.0)
            if task is not None and self.stop.is_set():
                self.queue.release(task)  # the stop came while we waited: don't start it, give it back
            elif task is not None:
                self.execute(task)
        self.leave()
        self.log.info("worker stopped", extra={"worker": self.name})

    def beat(self) -> None:
        """Tell the presence registry this worker is alive (at most every BEAT_SECONDS); a Redis
        blip only skips a beat."""
        now = time.monotonic()
        if self.svc.fleet is None or now - self._last_beat < BEAT_SECONDS:
            return
        self._last_beat = now
        try:
            self.svc.fleet.beat(self.role, self.name, self.cpus, self.host)
        except Exception:  # presence is advisory (the estimate counts it)
            self.log.warning("presence beat failed", exc_info=True)

    def leave(self) -> None:
        """Leave the presence registry (a stopped worker no longer counts)."""
        if self.svc.fleet is None:
            return
        try:
            self.svc.fleet.leave(self.role, self.name)
        except Exception:  # it ages out of the count anyway
            self.log.warning("presence leave failed", exc_info=True)

    def reap_if_due(self) -> None:
        """Return expired tasks (any queue) to the ready list; fail jobs whose tasks are exhausted."""
        now = time.monotonic()
        if now - self._last_reap < max(1.0, self.svc.settings.lease_seconds / 4):
            return
        self._last_reap = now
        for queue in self.svc.queues.values():
            for reaped in queue.reap():
                job_id = reaped.payload.get("job_id", "")
                if reaped.dead:
                    self.svc.fail_job(job_id, f"{describe(reaped.payload)} failed after {reaped.attempt} "
                                               f"attempts: {reaped.error}")
                else:
                    self.svc.jobs.set_part(job_id, part_of(reaped.payload), {"state": PartState.RETRIED,
                                                                             "attempt": reaped.attempt})
                self.log.warning("reaped task", extra={"job_id": job_id, "dead": reaped.dead})
        for job_id in self.svc.jobs.sweep_stalled(self.svc.settings.claim_stale_seconds * 3):
            self.log.warning("failed a job whose preparation never finished", extra={"job_id": job_id})

    def execute(self, task: Task) -> None:
        """Run one task with a heartbeat, then settle it with the handler of its outcome."""
        job_id = task.payload["job_id"]
        self.log.append_keys(job_id=job_id, task_id=task.id, attempt=task.attempt)
        cancel = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(task, cancel), daemon=True)
        started = time.monotonic()
        try:
            handler = self.handlers[TaskKind(task.payload["kind"])]
            if self.svc.jobs.state(job_id) in FINAL_STATES | {None}:
                raise JobAbandoned("job is no longer active")
            beat.start()
            self.svc.jobs.set_part(job_id, part_of(task.payload), {"state": PartState.RUNNING,
                                                                   "attempt": task.attempt, "worker": self.name})
            handler(self.svc, task, cancel)
        except JobAbandoned as exc:
            self.handle_abandoned(task, exc)
        except Exception as exc:  # noqa: BLE001 - every failure is settled: at once, or retried by the queue
            if is_retryable(exc):
                self.handle_retry(task, exc, cancel)
            else:
                self.handle_failure(task, exc)
        else:
            self.handle_success(task, time.monotonic() - started)
        finally:
            cancel.set()
            if beat.is_alive():
                beat.join(timeout=5)
            self.log.remove_keys(["job_id", "task_id", "attempt"])

    def handle_success(self, task: Task, seconds: float) -> None:
        """The handler finished its work (it recorded its own result on the job).

        1. Ack the task: it leaves the queue for good.
        2. Log how long it took.
        """
        self.queue.ack(task)
        self.log.info("task done", extra={"seconds": round(seconds, 3)})

    def handle_abandoned(self, task: Task, exc: JobAbandoned) -> None:
        """The job ended elsewhere, the lease was lost or the worker is stopping.

        1. Stopping (abort) while the job is still active: give the task back without spending
           an attempt, so another worker runs it.
        2. Otherwise the task is moot: ack it.
        3. Log why.
        """
        if self.abort.is_set() and self.svc.jobs.state(task.payload["job_id"]) not in FINAL_STATES:
            self.queue.release(task)
        else:
            self.queue.ack(task)
        self.log.info("task abandoned", extra={"reason": str(exc)})

    def handle_failure(self, task: Task, exc: Exception) -> None:
        """A failure that another attempt would repeat (bad input, a failed verification, ffmpeg
        rejecting the source or our own intermediates).

        1. Fail the job at once with the plain reason and discard its work.
        2. Ack the task: nothing is retried.
        3. Log the reason (and the trace of anything that is not a media error: a bug).
        """
        reason = public_reason(exc)
        self.svc.fail_job(task.payload["job_id"], reason)
        self.queue.ack(task)
        self.log.info("job failed", extra={"reason": reason, "error": type(exc).__name__},
                      exc_info=not isinstance(exc, MediaError))

    def handle_retry(self, task: Task, exc: Exception, cancel: threading.Event) -> None:
        """A failure that may pass (an S3 or Redis outage, a timeout, an encoder killed from outside): try again.

        1. Log the trace.
        2. Back off, still holding the lease with the heartbeat running: an outage must not
           burn every attempt within a second.
        3. Give the task back as a failed attempt; when that was the last attempt, fail the job
           with the reason, otherwise mark the part as retried.
        """
        reason = public_reason(exc)
        self.log.exception("task failed")
        cancel.wait(retry_delay(task.attempt))
        outcome = self.queue.fail(task, reason)
        job_id = task.payload["job_id"]
        if outcome is not None and outcome.dead:
            self.svc.fail_job(job_id, f"{describe(task.payload)} failed after {task.attempt} attempts: {reason}")
        else:
            self.svc.jobs.set_part(job_id, part_of(task.payload), {"state": PartState.RETRIED,
                                                                   "attempt": task.attempt, "error": reason})

    def _heartbeat(self, task: Task, cancel: threading.Event) -> None:
        # Often enough to renew the lease well before it lapses, and to notice a cancel quickly.
        interval = min(max(0.2, self.svc.settings.lease_seconds / 4), CANCEL_POLL_SECONDS)
        while not cancel.wait(interval):
            if self.abort.is_set():
                cancel.set()
                return
            self.beat()
            try:
                alive = self.queue.heartbeat(task)
                state = self.svc.jobs.state(task.payload["job_id"])
            except Exception:  # a Redis blip: keep working; the lease covers it
                self.log.warning("heartbeat failed", exc_info=True)
                continue
            if not alive or state in FINAL_STATES or state is None:
                self.log.info("abandoning task", extra={"lease_alive": alive, "job_state": state})
                cancel.set()
                return


def host_id() -> str:
    """An opaque id of the machine (host name and boot id hashed): workers on one machine share its cores."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            boot = handle.read().strip()
    except OSError:
        boot = ""
    return hashlib.sha256(f"{socket.gethostname()}/{boot}".encode()).hexdigest()[:12]
