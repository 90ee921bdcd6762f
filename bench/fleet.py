"""A running local stack (bench.stackproc) and jobs sent through it with `framefleet transcode`."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import redis

from bench import procs
from bench.common import REPO, run_timed
from chalicelib.model.kinds import is_audio_part
from devstack.client import Client

CHUNK = re.compile(r"v\d{5}")


def audio_parts(parts: Mapping[str, Any]) -> list[str]:
    """The job's audio part names in queue order: ``audio``, then ``a00001``, ``a00002``…"""
    return sorted((n for n in parts if is_audio_part(n)), key=lambda n: (n != "audio", n))


def task_parts(record: Mapping[str, str], parts: Mapping[str, Any]) -> dict[str, str]:
    """Task id → part name, from the job's own task index (``tasks``, in enqueue order): the
    chunker enqueues the audio parts first, then the chunks by index; the assembly comes last.
    A retried task keeps its id, so retries do not shift the names."""
    ids = json.loads(record.get("tasks") or "[]")
    names = [*audio_parts(parts), *sorted(n for n in parts if CHUNK.fullmatch(n))]
    return {task_id: names[i] if i < len(names) else "assembly" for i, task_id in enumerate(ids)}


class Fleet:
    """``with Fleet(home, workers) as fleet:`` — the whole pipeline, up until the block ends."""

    def __init__(self, home: Path, workers: int, owners: int = 0) -> None:
        self.home = Path(home)
        self.workers = workers
        self.owners = owners
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.start_seconds = 0.0

    def __enter__(self) -> Self:
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.home / "stack", ignore_errors=True)  # a fresh Valkey (its AOF would replay a past run)
        info_path = self.home / "stack.json"
        info_path.unlink(missing_ok=True)
        # The events bench's webhook receiver listens on 127.0.0.1.
        env = {**os.environ, "LOG_LEVEL": "INFO", "POWERTOOLS_LOG_LEVEL": "INFO",
               "FRAMEFLEET_WEBHOOK_ALLOW_LOOPBACK": "1"}
        env.pop("REDIS_URL", None)  # the stack starts its own Valkey
        log = open(self.home / "stackproc.log", "ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.stackproc", "--workers", str(self.workers), "--home",
             str(self.home / "stack"), "--info", str(info_path), "--owners", str(self.owners)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + 120
        while not info_path.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                tail = (self.home / "stackproc.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"local stack did not start:\n{tail}")
            time.sleep(0.05)
        self.start_seconds = time.perf_counter() - started
        self.info = json.loads(info_path.read_text())
        self.client = Client(self.info["api_url"], self.info["api_key"])
        self.redis = redis.Redis.from_url(self.info["redis_url"], decode_responses=True)
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    def cpu(self) -> dict[str, dict[str, float]]:
        return procs.cpu_seconds(self.pid)

    def job_record(self, job_id: str) -> dict[str, str]:
        record: dict[str, str] = self.redis.hgetall(f"{self.info['key_prefix']}:job:{job_id}")  # type: ignore[assignment]
        return record

    def transcode(self, source: Path, out: Path, options: dict[str, Any] | None = None,
                  *, timeout: float = 3600) -> dict[str, Any]:
        """``framefleet transcode SOURCE -o OUT --api … --json``: the CLI's summary, the job, its tasks."""
        out.parent.mkdir(parents=True, exist_ok=True)
        flags = [f"--{name.replace('_', '-')}={_flag(value)}" for name, value in (options or {}).items()]
        argv = [sys.executable, "-m", "devstack.cli", "transcode", str(source), "-o", str(out),
                "--api", self.info["api_url"], "--api-key", self.info["api_key"], "--json", *flags]
        cpu_before = self.cpu()
        run = run_timed(argv, timeout=timeout, cwd=str(REPO))
        cpu_after = self.cpu()
        lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"framefleet transcode printed no summary (exit {run.returncode}): {run.stderr[-2000:]}")
        summary = json.loads(lines[-1])
        if summary.get("state") != "done":
            raise RuntimeError(f"job {summary.get('job_id')} ended {summary.get('state')}: {summary.get('error')}")
        job_id = summary["job_id"]
        view = self.client.job(job_id)
        record = self.job_record(job_id)
        marks = {k[2:]: float(v) for k, v in record.items() if k.startswith("t_")}
        return {
            "job_id": job_id,
            "output_path": str(out),
            "options": options or {},
            "summary": summary,
            "timings": view["timings"],
            "parts": view["parts"],
            "chunks_total": view["progress"]["chunks_total"],
            "output": view["output"] and {k: v for k, v in view["output"].items() if k != "url"},
            "marks": marks,
            "tasks": self.tasks(job_id, marks.get("awaiting_upload", 0.0), task_parts(record, view["parts"])),
            "client": {"wall": run.wall, "cpu": run.user + run.system, "max_rss_kib": run.max_rss_kib},
            "cpu": procs.cpu_delta(cpu_before, cpu_after),
        }

    def done_tasks(self, job_id: str, origin: float) -> list[dict[str, Any]]:
        """The job's "task done" entries in the workers' JSON logs: worker, task id, start, end
        (seconds after ``origin``) and the task's own seconds, in log order."""
        found = []
        for worker in self.info["workers"]:
            try:
                lines = Path(worker["log"]).read_text(errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                if job_id not in line or not line.startswith("{"):
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("job_id") != job_id or entry.get("message") != "task done":
                    continue
                end = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
                seconds = float(entry["seconds"])
                found.append({"worker": worker["name"], "task_id": str(entry.get("task_id")),
                              "start": round(end - seconds - origin, 3), "end": round(end - origin, 3),
                              "seconds": seconds})
        return found

    def tasks(self, job_id: str, origin: float, names: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every finished task of the job from the workers' JSON logs: worker, start, end (s after
        ``origin``) and its part (``names``: task id → part, from `task_parts`), sorted by start."""
        found = []
        for task in self.done_tasks(job_id, origin):
            task_id = task.pop("task_id")
            found.append({**task, "part": names.get(task_id, "?")})
        return sorted(found, key=lambda t: t["start"])


def _flag(value: Any) -> str:
    """A CLI flag's value: lists (``outputs``, ``codecs``, ladder heights) as comma lists."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v["height"]) if isinstance(v, dict) else str(v) for v in value)
    return str(value)
