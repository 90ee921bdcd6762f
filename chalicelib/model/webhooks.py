"""Webhooks' vocabulary and pure rules: event types, Standard Webhooks signatures, the retry
schedule and which receiver URLs and addresses are allowed.

Signatures follow the Standard Webhooks spec (https://www.standardwebhooks.com): the secret is
``whsec_`` + base64 of random bytes; ``webhook-signature`` is a space-separated list of
``v1,{base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))}``, one per secret still valid (the
new and, after a rotation, the previous one), so the ``standardwebhooks`` package verifies them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from enum import StrEnum
from urllib.parse import urlsplit

from chalicelib.model.errors import ValidationError
from chalicelib.model.kinds import JobState

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not one
MAX_URL_LENGTH = 2048
MAX_STORED_RESPONSE = 1024  # bytes of a receiver's answer kept on the delivery record


class EventType(StrEnum):
    """What a webhook tells (``type`` of the payload)."""

    JOB_UPLOADED = "job.uploaded"      # the source arrived and was queued for probing
    JOB_ENCODING = "job.encoding"      # probed and planned: its tasks are queued
    JOB_PLAYABLE = "job.playable"      # the first segments of the stream are published
    JOB_DONE = "job.done"
    JOB_FAILED = "job.failed"
    JOB_CANCELLED = "job.cancelled"
    WEBHOOK_DISABLED = "webhook.disabled"  # an endpoint failed too long and was switched off


EVENT_TYPES = tuple(EventType)
FINAL_EVENTS = {JobState.DONE: EventType.JOB_DONE, JobState.FAILED: EventType.JOB_FAILED,
                JobState.CANCELLED: EventType.JOB_CANCELLED}


class DeliveryStatus(StrEnum):
    """Where a delivery (one event to one endpoint) is."""

    PENDING = "pending"        # waiting for its next attempt
    SENDING = "sending"        # claimed by a sender (the claim lapses if the sender dies)
    SUCCEEDED = "succeeded"
    FAILED = "failed"          # gave up: retried for the whole window, or the endpoint is gone


class EndpointState(StrEnum):
    """Whether an endpoint gets deliveries."""

    ENABLED = "enabled"
    DISABLED = "disabled"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,…`` signature of a message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def sign_headers(secrets_valid: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret still valid."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets_valid)}


def retry_delay(attempt: int, base_seconds: float) -> float:
    """Seconds before attempt ``attempt + 1`` after ``attempt`` failed: base × 3^(n-1), capped at
    8 h (5 s, 15 s, 45 s … with the default base; attempts go on until the retry window ends)."""
    return float(min(base_seconds * 3.0 ** max(0, attempt - 1), 8 * 3600.0))


def check_url(url: object) -> str:
    """A receiver URL as given by a user: http(s), a host, no credentials; a literal address must
    be one we may deliver to (a host name is checked again at each delivery, after resolving)."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH:
        raise ValidationError(f"'url' must be a string of 1-{MAX_URL_LENGTH} characters")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("'url' must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValidationError("'url' must not carry credentials; verify the signature instead")
    try:
        _ = parts.port
    except ValueError as exc:
        raise ValidationError("'url' has an invalid port") from exc
    return parts.geturl()


def check_events(events: object) -> list[str]:
    """The event types an endpoint subscribes to (empty: all)."""
    if events is None:
        return []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValidationError("'events' must be a list of event types")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(f"unknown event types {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return sorted(set(events))


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address, or None when it is a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def forbidden_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool = False) -> str | None:
    """Why a receiver at ``ip`` must not be reached (None: it may).

    Only globally routable unicast addresses pass: loopback, private (RFC 1918, ULA), carrier
    NAT, link-local (the instance metadata service at 169.254.169.254), multicast, reserved and
    unspecified addresses are refused, also when wrapped as IPv4-mapped or NAT64 IPv6.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return forbidden_address(ip.ipv4_mapped, allow_loopback)
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            return forbidden_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), allow_loopback)
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address (such as the instance metadata service)"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "not a unicast internet address"
    if ip.is_private or not ip.is_global:
        return "a private network address"
    return None
