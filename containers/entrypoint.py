"""Entry point of the worker container: ``entrypoint.py --role processor|assembler``.

- REDIS_URL: taken as is when set; otherwise built from REDIS_HOST, REDIS_PORT and
  REDIS_AUTH_TOKEN (ECS injects the token from Secrets Manager) as ``rediss://`` — the
  ElastiCache group has in-transit encryption and AUTH on.
- Stopping: ECS sends one SIGTERM and, ``stopTimeout`` (120 s, Fargate Spot's warning) later,
  SIGKILL. The worker finishes its current task on the first SIGTERM; if that task is still
  running FRAMEFLEET_STOP_GRACE_SECONDS (default 100) after it, it is stopped and given back to
  the queue without spending an attempt (what a second SIGTERM does), before SIGKILL can lose
  its lease.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping
from urllib.parse import quote

DEFAULT_STOP_GRACE_SECONDS = 100.0


def redis_url(env: Mapping[str, str]) -> str | None:
    """REDIS_URL, or one built from REDIS_HOST/REDIS_PORT/REDIS_AUTH_TOKEN; None if neither."""
    if env.get("REDIS_URL"):
        return env["REDIS_URL"]
    host = env.get("REDIS_HOST")
    if not host:
        return None
    token = env.get("REDIS_AUTH_TOKEN", "")
    auth = f":{quote(token, safe='')}@" if token else ""
    return f"rediss://{auth}{host}:{env.get('REDIS_PORT') or '6379'}/0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="framefleet-worker")
    parser.add_argument("--role", choices=["processor", "assembler"], required=True)
    parser.add_argument("--name")
    args = parser.parse_args(argv)
    url = redis_url(os.environ)
    if url:
        os.environ["REDIS_URL"] = url
    grace = float(os.environ.get("FRAMEFLEET_STOP_GRACE_SECONDS") or DEFAULT_STOP_GRACE_SECONDS)

    from chalicelib.services import get_services
    from chalicelib.worker import Worker

    worker = Worker(get_services(), args.role, args.name)
    worker.install_signal_handlers()
    on_stop = signal.getsignal(signal.SIGTERM)
    timers: list[threading.Timer] = []

    def give_back() -> None:
        if not worker.abort.is_set():
            worker.log.warning("stop grace over: giving the current task back", extra={"grace": grace})
            worker.abort.set()

    def on_sigterm(signum: int, frame: object) -> None:
        on_stop(signum, frame)  # type: ignore[operator]
        if not timers:
            timers.append(threading.Timer(grace, give_back))
            timers[0].daemon = True
            timers[0].start()

    signal.signal(signal.SIGTERM, on_sigterm)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
