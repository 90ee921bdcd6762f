"""The one entry point of a worker: ``python -m workers --role processor|assembler|notifier [--name N]``.

The container (containers/Dockerfile's ENTRYPOINT) and the local stack both start workers this
way. Configuration comes from ``Settings`` (REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_AUTH_TOKEN
as ECS injects them). Stopping: ECS sends one SIGTERM and, ``stopTimeout`` (120 s, Fargate Spot's
warning) later, SIGKILL. The worker finishes its current task on the first SIGTERM; if that task
is still running FRAMEFLEET_STOP_GRACE_SECONDS (default 100) after it, it is stopped and given
back to the queue without spending an attempt (what a second SIGTERM does). The notifier (the
webhook sender) finishes the deliveries in flight on SIGTERM (each ends within
FRAMEFLEET_WEBHOOK_TIMEOUT).
"""
from __future__ import annotations

import argparse
import signal
import sys

from chalicelib.model.kinds import Role
from chalicelib.stores.clients import get_redis
from chalicelib.stores.services import get_services, webhook_store
from workers.loop import Worker
from workers.notify.sender import Sender
from workers.tasks import HANDLERS


def main(argv: list[str] | None = None) -> int:
    """Run one worker until it is stopped."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=[r.value for r in Role], required=True)
    parser.add_argument("--name")
    args = parser.parse_args(argv)
    svc = get_services()
    if args.role == Role.NOTIFIER:
        sender = Sender(svc, webhook_store(svc.settings, get_redis()), args.name)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: sender.stop.set())
        sender.run()
        return 0
    worker = Worker(svc, Role(args.role), HANDLERS, args.name)
    worker.install_signal_handlers(grace_seconds=svc.settings.stop_grace_seconds)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
