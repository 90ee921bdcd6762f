"""Parsing the S3 event notifications the chunker receives."""
from __future__ import annotations

import json

from chalicelib.events.chunker import uploaded_keys


def test_s3_event_parsing_decodes_keys_and_ignores_test_events() -> None:
    body = json.dumps({"Records": [
        {"eventName": "ObjectCreated:Post",
         "s3": {"bucket": {"name": "b"}, "object": {"key": "uploads/a/source+x.mp4"}}},
        {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "b"}, "object": {"key": "uploads/a/s.mp4"}}},
    ]})
    assert uploaded_keys(body) == [("b", "uploads/a/source x.mp4")]
    assert uploaded_keys(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    assert uploaded_keys("not json") == [] and uploaded_keys("[1, 2]") == []
