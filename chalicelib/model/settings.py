"""Runtime configuration: the only reader of ``FRAMEFLEET_*`` environment variables."""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote

GIB = 1024**3


@dataclass(frozen=True)
class Settings:
    """Every tunable of framefleet; the README documents each one (env var = upper-case name)."""

    upload_bucket: str = "framefleet"
    work_bucket: str = "framefleet"
    output_bucket: str = "framefleet"
    upload_queue: str = "framefleet-upload-events"
    aws_region: str = "us-east-1"
    s3_endpoint_url: str = ""          # empty = AWS; locally the moto server
    sqs_endpoint_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    # On AWS: the Secrets Manager secret ({"token": …}) holding Valkey's AUTH token, read once per
    # process at its first Redis use, so the token is in no environment variable of the Lambdas.
    redis_auth_secret_arn: str = ""
    key_prefix: str = "ff"             # namespace of every Redis key
    max_upload_bytes: int = 5 * GIB
    max_duration_seconds: float = 4 * 3600.0
    max_pixels: int = 8192 * 4320
    upload_url_expiry: int = 900       # seconds; presigned POST / part URLs
    download_url_expiry: int = 3600
    # Streaming delivery (chalicelib/model/playback.py): where `{token}/{job_id}/…` paths are
    # served (CloudFront on AWS, the local server's /play locally), the HMAC secret the tokens are
    # signed with (on AWS the Secrets Manager secret {"secret": …} instead), their lifetime.
    playback_base_url: str = ""
    playback_secret: str = ""
    playback_secret_arn: str = ""
    playback_url_expiry: int = 6 * 3600
    lease_seconds: float = 120.0       # visibility timeout of a task; heartbeats extend it
    max_attempts: int = 3
    job_retention_seconds: int = 7 * 24 * 3600
    probe_timeout: float = 120.0
    encode_timeout: float = 1800.0
    claim_stale_seconds: float = 300.0  # a chunker claim older than this may be taken over
    # The audio is encoded in parallel parts of about this length (0: one task for the whole audio).
    audio_part_seconds: float = 60.0
    work_dir: str = ""                 # scratch space for workers; empty = system temp dir
    # Threads of each chunk's decoder, filters and encoders (0: ffmpeg's own choice, from every
    # core of the machine). One thread per local processor on 2 cores measured slower (a chunk
    # left alone at the end of a job runs on one core while the other idles): docs/BENCHMARKS.md.
    encoder_threads: int = 0
    part_size: int = 64 * 1024**2      # multipart part size the API recommends to clients
    log_level: str = "INFO"
    auth: str = "apikey"               # apikey | none
    max_active_jobs: int = 20          # per owner, unless the owner's key says otherwise
    # Per owner and UTC day: output pixels × seconds planned (2e11 ≈ 27 hours of 1080p).
    max_pixel_seconds_per_day: float = 2e11
    upload_window_seconds: int = 86400  # a job still awaiting its upload after this stops counting
    stop_grace_seconds: float = 100.0  # a stopping worker gives its task back after this (ECS stopTimeout 120)
    # The estimate (chalicelib/model/estimate.py; README "Estimate"). max_processors 0: a fixed fleet,
    # the processors seen in the last worker_seen_seconds (local); N: autoscaled 0..N by the backlog
    # bands (AWS: the template's MaxProcessors), new ones taking tasks after scale_out_seconds.
    max_processors: int = 0
    worker_seen_seconds: float = 15.0
    scale_out_seconds: float = 120.0
    # Fargate task sizes (infra/template.yaml) and us-east-1 list prices (Linux/x86).
    processor_vcpu: float = 2.0
    processor_memory_gb: float = 4.0
    assembler_vcpu: float = 1.0
    assembler_memory_gb: float = 2.0
    fargate_vcpu_hour_usd: float = 0.04048
    fargate_gb_hour_usd: float = 0.004445
    fargate_spot_share: float = 0.8     # processors beyond the first on Spot (capacity provider weights 1:4)
    fargate_spot_discount: float = 0.67
    fargate_vcpu_speed: float = 0.56    # a Fargate vCPU's encode speed against a core the calibration ran on
    # Webhooks (chalicelib/stores/webhooks.py, workers/notify/): endpoints per owner; concurrent
    # deliveries per sender; the first retry's delay (then ×3, capped at 8 h) and how long an
    # event is retried; an endpoint failing this long is disabled; loopback receivers (local
    # development and tests only; private and link-local addresses are always refused).
    max_webhooks: int = 20
    webhook_concurrency: int = 16
    webhook_timeout: float = 10.0
    webhook_retry_base_seconds: float = 5.0
    webhook_retry_window_seconds: float = 86400.0
    webhook_disable_after_seconds: float = 5 * 86400.0
    webhook_secret_grace_seconds: float = 86400.0
    webhook_allow_loopback: bool = False
    max_waiting_requests: int = 10     # per owner: GET /jobs/{id}?wait= requests blocked at once

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from FRAMEFLEET_* / well-known environment variables."""
        env = dict(os.environ if env is None else env)
        if not env.get("REDIS_URL") and (composed := redis_url_from_parts(env)):
            env["REDIS_URL"] = composed
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"FRAMEFLEET_{f.name.upper()}")
            if raw is None and f.name in _PLAIN_NAMES:
                raw = env.get(_PLAIN_NAMES[f.name])
            if raw is None or raw == "":
                continue
            kind: type[Any] = type(f.default)
            values[f.name] = kind(raw) if kind is not bool else raw.lower() in ("1", "true", "yes")
        return cls(**values)

    def env(self) -> dict[str, str]:
        """These settings as environment variables (to hand to child processes)."""
        return {f"FRAMEFLEET_{f.name.upper()}": str(getattr(self, f.name)) for f in fields(self)}


def redis_url_from_parts(env: Mapping[str, str]) -> str | None:
    """``rediss://`` URL from REDIS_HOST, REDIS_PORT and REDIS_AUTH_TOKEN (what ECS injects: the
    ElastiCache group has in-transit encryption and AUTH on); None without REDIS_HOST."""
    host = env.get("REDIS_HOST")
    if not host:
        return None
    token = env.get("REDIS_AUTH_TOKEN", "")
    auth = f":{quote(token, safe='')}@" if token else ""
    return f"rediss://{auth}{host}:{env.get('REDIS_PORT') or '6379'}/0"


# Variables that keep their conventional names.
_PLAIN_NAMES = {"redis_url": "REDIS_URL", "aws_region": "AWS_DEFAULT_REGION", "log_level": "LOG_LEVEL"}


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings.from_env()
