"""Which errors another attempt can fix: the one decision the worker loop asks for."""
from __future__ import annotations

import pickle

import pytest

from chalicelib.model.errors import (
    InvalidMediaError,
    InvalidOptionsError,
    MediaError,
    MediaTimeoutError,
    StorageError,
    VerificationError,
    is_retryable,
    public_reason,
)


@pytest.mark.parametrize(("error", "retryable"), [
    (InvalidMediaError("not a video"), False),
    (VerificationError("3 frames, expected 4"), False),
    (MediaError("assembling output failed: input stream missing"), False),  # ffmpeg repeats itself
    (InvalidOptionsError("crf must be 0-51"), False),
    (MediaTimeoutError("encoding chunk 3 timed out after 300s"), True),
    (MediaError("encoding chunk 3 failed: killed (possibly out of memory)", retryable=True), True),
    (StorageError("S3 is unwell"), True),
    (ConnectionError("connection reset"), True),  # Redis, botocore, sockets: outages
    (OSError("No space left on device"), True),
    (KeyError("a bug"), True),  # unknown: retried, as before
])
def test_is_retryable(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_the_raiser_may_overrule_the_class_default_and_it_survives_pickling() -> None:
    error = VerificationError("output verification failed: probe timed out", retryable=True)
    assert is_retryable(error) and not is_retryable(VerificationError("x"))
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert str(again) == str(error) and is_retryable(again)


def test_public_reason_keeps_media_reasons_only() -> None:
    assert public_reason(MediaError("assembling output failed: input stream missing")) == \
        "assembling output failed: input stream missing"
    assert "bucket" not in public_reason(StorageError("bucket ff-work: 503"))
