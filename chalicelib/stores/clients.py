"""Lazily built, process-wide clients for S3, SQS and Redis (never created at import time)."""
from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import boto3
import redis
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from chalicelib.model.errors import StorageError
from chalicelib.model.settings import Settings, get_settings

# Standard retry mode backs off on throttling and connection errors (an S3 outage of a few
# seconds must not fail a chunk); signature v4 is required for presigned multipart URLs.
_BOTO_CONFIG = BotoConfig(
    signature_version="s3v4",
    retries={"mode": "standard", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=60,
    s3={"addressing_style": "path"},
)


def _client(service: str, endpoint: str, settings: Settings) -> Any:
    return boto3.session.Session().client(
        service,
        region_name=settings.aws_region,
        endpoint_url=endpoint or None,
        config=_BOTO_CONFIG,
    )


@functools.lru_cache(maxsize=1)
def get_s3() -> Any:
    """The S3 client (moto server locally, AWS otherwise)."""
    settings = get_settings()
    return _client("s3", settings.s3_endpoint_url, settings)


@functools.lru_cache(maxsize=1)
def get_sqs() -> Any:
    """The SQS client."""
    settings = get_settings()
    return _client("sqs", settings.sqs_endpoint_url or settings.s3_endpoint_url, settings)


def make_redis(url: str) -> redis.Redis:
    """A Redis client that retries with exponential backoff across restarts and failovers.

    After an ElastiCache failover the old primary, now a replica, answers writes on connections
    that are still open with READONLY, while the primary endpoint already names the new primary:
    a READONLY reply closes the connection and retries on a new one, like a dropped connection
    (the refused write did nothing, so retrying it is safe).
    """
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=5.0, base=0.1), retries=12),
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                        redis.exceptions.ReadOnlyError],
    )


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` as its AUTH token (replacing any)."""
    parts = urlsplit(url)
    netloc = f":{quote(password, safe='')}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve_redis_url(settings: Settings, secrets: Any | None = None) -> str:
    """The Redis URL to connect to: ``REDIS_URL`` (or REDIS_HOST/PORT), with the AUTH token from
    Secrets Manager when ``redis_auth_secret_arn`` is set."""
    if not settings.redis_auth_secret_arn:
        return settings.redis_url
    client = secrets or _client("secretsmanager", "", settings)
    try:
        secret = client.get_secret_value(SecretId=settings.redis_auth_secret_arn)["SecretString"]
        token = json.loads(secret)["token"]
    except (BotoCoreError, ClientError, KeyError, ValueError) as exc:
        raise StorageError("could not read the Valkey AUTH token from Secrets Manager") from exc
    return with_password(settings.redis_url, str(token))


def resolve_playback_secret(settings: Settings, secrets: Any | None = None) -> bytes:
    """The HMAC secret of playback tokens: ``playback_secret``, or the ``{"secret": …}`` Secrets
    Manager secret ``playback_secret_arn`` (the one the CloudFront function's key store holds)."""
    if not settings.playback_secret_arn:
        return settings.playback_secret.encode()
    client = secrets or _client("secretsmanager", "", settings)
    try:
        secret = client.get_secret_value(SecretId=settings.playback_secret_arn)["SecretString"]
        return str(json.loads(secret)["secret"]).encode()
    except (BotoCoreError, ClientError, KeyError, ValueError) as exc:
        raise StorageError("could not read the playback signing secret from Secrets Manager") from exc


@functools.lru_cache(maxsize=4)
def playback_secret(settings: Settings) -> bytes:
    """``settings``' playback secret, read once per process (per Lambda container)."""
    return resolve_playback_secret(settings)


@functools.lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """The Redis client for ``REDIS_URL`` (its token read from Secrets Manager where configured)."""
    return make_redis(resolve_redis_url(get_settings()))


def reset_clients() -> None:
    """Forget cached settings and clients (the environment changed)."""
    get_settings.cache_clear()
    for getter in (get_s3, get_sqs, get_redis, playback_secret):
        getter.cache_clear()
