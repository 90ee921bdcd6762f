"""Settings: the one reader of the environment."""
from __future__ import annotations

from chalicelib.model.settings import Settings, redis_url_from_parts


def test_settings_from_env_parses_types_and_plain_names() -> None:
    s = Settings.from_env({"FRAMEFLEET_LEASE_SECONDS": "7.5", "FRAMEFLEET_MAX_ATTEMPTS": "5",
                           "REDIS_URL": "redis://h:1/2", "FRAMEFLEET_UPLOAD_BUCKET": "b", "LOG_LEVEL": "DEBUG"})
    assert s.lease_seconds == 7.5 and s.max_attempts == 5 and s.redis_url == "redis://h:1/2"
    assert s.upload_bucket == "b" and s.log_level == "DEBUG"
    assert Settings.from_env(s.env()) == s  # what children inherit is what the parent had


def test_redis_url_from_the_ecs_environment() -> None:
    url = redis_url_from_parts
    assert url({"REDIS_HOST": "master.example.cache.amazonaws.com", "REDIS_PORT": "6379",
                "REDIS_AUTH_TOKEN": "t0k/en"}) == "rediss://:t0k%2Fen@master.example.cache.amazonaws.com:6379/0"
    assert url({"REDIS_HOST": "h"}) == "rediss://h:6379/0"
    assert url({}) is None
    assert Settings.from_env({"REDIS_HOST": "h"}).redis_url == "rediss://h:6379/0"
    assert Settings.from_env({"REDIS_URL": "redis://x:1/0", "REDIS_HOST": "ignored"}).redis_url == "redis://x:1/0"
    assert Settings.from_env({"FRAMEFLEET_STOP_GRACE_SECONDS": "7"}).stop_grace_seconds == 7.0
