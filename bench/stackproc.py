"""``python -m bench.stackproc``: the local stack in a process of its own, for the benches.

The API server and the upload-event consumer (the chunking Lambda's handler) run in this process,
the workers are its children, so the benches can measure each one's memory and CPU apart from
the bench itself. It writes what the benches need (URLs, keys, pids) to ``--info`` as JSON and
runs until SIGTERM.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--owners", type=int, default=0, help="extra API keys, one per owner, for load tests")
    args = parser.parse_args()

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())

    from chalicelib.stores.services import get_services
    from devstack.stack import start_stack

    stack = start_stack(workers=args.workers, home=Path(args.home))
    try:
        keys = get_services().keys
        unlimited = {"max_active_jobs": 10**9}
        # The local owner's key keeps its default limits; the bench owner has none (a load test
        # creates thousands of jobs), and so do the load-test owners.
        bench_key = keys.create("bench", "benchmarks", unlimited)
        owner_keys = [keys.create(f"load-{i}", "load test", unlimited) for i in range(args.owners)]
        info = {
            "pid": os.getpid(),
            "api_url": stack.api_url,
            "api_key": bench_key,
            "owner_keys": owner_keys,
            "redis_url": stack.settings.redis_url,
            "key_prefix": stack.settings.key_prefix,
            "s3_url": stack.s3_url,
            "home": str(stack.home),
            "workers": [{"name": w.name, "pid": w.proc.pid, "log": str(w.log_path)} for w in stack.workers
                        if w.proc is not None],
        }
        tmp = Path(args.info + ".tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, args.info)
        stopping.wait()
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
