"""Container health check: Redis answers PING within 3 s and the pinned ffmpeg is executable.

``python -m workers.healthcheck``: exit 0 when healthy, 1 (with the reason on stderr)
otherwise. Used by the Dockerfile's HEALTHCHECK and the ECS task definitions' healthCheck.
"""
from __future__ import annotations

import os
import sys

import redis

from chalicelib.model.settings import Settings
from workers.media.binary import ffmpeg_binary


def check(settings: Settings | None = None) -> str | None:
    """None when healthy, else the reason."""
    settings = settings or Settings.from_env()
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3,
                                  retry_on_timeout=False)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        return f"redis unreachable: {exc}"
    finally:
        client.close()
    binary = ffmpeg_binary()
    if not os.access(binary, os.X_OK):
        return f"ffmpeg not executable: {binary}"
    return None


if __name__ == "__main__":
    reason = check()
    if reason:
        print(f"unhealthy: {reason}", file=sys.stderr)
    sys.exit(1 if reason else 0)
