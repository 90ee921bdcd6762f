"""Webhook rules: signatures the Standard Webhooks library accepts, the backoff, allowed URLs."""
from __future__ import annotations

import ipaddress
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from chalicelib.model.errors import ValidationError
from chalicelib.model.webhooks import (
    check_events,
    check_url,
    forbidden_address,
    new_secret,
    retry_delay,
    sign_headers,
)


def test_signatures_verify_with_the_standard_webhooks_library() -> None:
    secret, body, now = new_secret(), b'{"type":"job.done","data":{}}', int(time.time())
    headers = sign_headers([secret], "msg_1-0", now, body)
    assert Webhook(secret).verify(body, headers) == {"type": "job.done", "data": {}}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)


def test_after_a_rotation_either_secret_verifies() -> None:
    old, new, body = new_secret(), new_secret(), b"{}"
    headers = sign_headers([new, old], "msg_2-0", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)


def test_retries_back_off_and_cover_a_day() -> None:
    delays = [retry_delay(n, 5.0) for n in range(1, 15)]
    assert delays[:4] == [5.0, 15.0, 45.0, 135.0]
    assert all(b >= a for a, b in zip(delays, delays[1:])) and max(delays) == 8 * 3600
    assert sum(delays[:11]) > 86400  # the window ends after at most a dozen attempts


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1",  # noqa: S104 "::1", "fe80::1", "fd00:ec2::254",
                                     "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "240.0.0.1"])
def test_inside_addresses_are_refused(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is not None


def test_loopback_only_when_allowed() -> None:
    assert forbidden_address(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert forbidden_address(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert forbidden_address(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", ["", "example.com/x", "ftp://example.com/", "http://", "http://u:p@example.com/",
                                 "http://example.com:99999/", "https://" + "a" * 2050, 42])
def test_bad_urls(url: object) -> None:
    with pytest.raises(ValidationError):
        check_url(url)


def test_events_are_known_types() -> None:
    assert check_events(None) == [] and check_events(["job.done", "job.done"]) == ["job.done"]
    with pytest.raises(ValidationError, match="job.finished"):
        check_events(["job.finished"])
