"""Container health check: Redis answers PING within 3 s and the pinned ffmpeg is executable.

Exit 0 when healthy, 1 (with the reason on stderr) otherwise. Used by the Dockerfile's
HEALTHCHECK and the ECS task definitions' healthCheck.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from entrypoint import redis_url  # noqa: E402 - sibling module, also when run as a script


def check(env: dict[str, str] | None = None) -> str | None:
    """None when healthy, else the reason."""
    import redis

    from chalicelib.ffmpeg import ffmpeg_binary

    env = dict(os.environ if env is None else env)
    url = redis_url(env) or "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3, retry_on_timeout=False)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        return f"redis unreachable: {exc}"
    finally:
        client.close()
    binary = env.get("FFMPEG_BINARY") or ffmpeg_binary()
    if not os.access(binary, os.X_OK):
        return f"ffmpeg not executable: {binary}"
    return None


if __name__ == "__main__":
    reason = check()
    if reason:
        print(f"unhealthy: {reason}", file=sys.stderr)
    sys.exit(1 if reason else 0)
