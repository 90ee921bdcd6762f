"""Pure parts of the queue: payload validation and settings checks (no server)."""
from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest

from chalicelib.model.errors import FramefleetError, QueueError
from chalicelib.stores.queue import ReliableQueue, encode_payload


def test_encode_payload_returns_job_id_and_compact_json() -> None:
    job_id, text = encode_payload({"job_id": "j1", "chunk": 3, "seek": 1.5})
    assert job_id == "j1"
    assert json.loads(text) == {"job_id": "j1", "chunk": 3, "seek": 1.5}
    assert " " not in text


@pytest.mark.parametrize(
    "payload",
    [
        ["job_id", "j1"],
        {"chunk": 1},
        {"job_id": ""},
        {"job_id": 7},
        {"job_id": "j1", "when": object()},
        {"job_id": "j1", "x": float("nan")},
    ],
    ids=["not-a-dict", "no-job-id", "empty-job-id", "int-job-id", "unserializable", "nan"],
)
def test_encode_payload_rejects_bad_payloads(payload: Any) -> None:
    with pytest.raises(QueueError):
        encode_payload(payload)
    assert issubclass(QueueError, FramefleetError)


@pytest.mark.parametrize(
    "kwargs", [{"lease_seconds": 0}, {"max_attempts": 0}, {"poll_interval": -1}]
)
def test_queue_rejects_nonsense_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ReliableQueue(mock.Mock(), "process", **kwargs)


def test_keys_are_namespaced() -> None:
    queue = ReliableQueue(mock.Mock(), "process", prefix="ff", lease_seconds=0.5)
    assert queue.key("ready") == "ff:q:process:ready"
    assert queue.lease_ms == 500
