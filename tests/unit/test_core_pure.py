"""Pure logic of the control plane: settings, S3 layout, event parsing, timings."""
from __future__ import annotations

import json

import pytest

from chalicelib import jobs as J
from chalicelib.api import _timings
from chalicelib.chunker import uploaded_keys
from chalicelib.config import Settings
from chalicelib.storage import job_id_from_key, output_key, source_key


def test_settings_from_env_parses_types_and_plain_names() -> None:
    s = Settings.from_env({"FRAMEFLEET_LEASE_SECONDS": "7.5", "FRAMEFLEET_MAX_ATTEMPTS": "5",
                           "REDIS_URL": "redis://h:1/2", "FRAMEFLEET_UPLOAD_BUCKET": "b", "LOG_LEVEL": "DEBUG"})
    assert s.lease_seconds == 7.5 and s.max_attempts == 5 and s.redis_url == "redis://h:1/2"
    assert s.upload_bucket == "b" and s.log_level == "DEBUG"
    assert Settings.from_env(s.env()) == s  # what children inherit is what the parent had


def test_s3_layout_round_trips_and_rejects_other_keys() -> None:
    job_id = J.new_job_id()
    key = source_key(job_id, "mov")
    assert key == f"uploads/{job_id}/source.mov" and job_id_from_key(key) == job_id
    for other in ("outputs/x/source.mp4", "uploads/x/other.mp4", "uploads/x/y/source.mp4", "source.mp4"):
        assert job_id_from_key(other) is None
    assert output_key(job_id, "My Holiday (1).MOV") == f"outputs/{job_id}/My_Holiday__1_.mp4"
    assert output_key(job_id, "../../etc/passwd").startswith(f"outputs/{job_id}/")


def test_s3_event_parsing_decodes_keys_and_ignores_test_events() -> None:
    body = json.dumps({"Records": [
        {"eventName": "ObjectCreated:Post", "s3": {"bucket": {"name": "b"}, "object": {"key": "uploads/a/source+x.mp4"}}},
        {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "b"}, "object": {"key": "uploads/a/s.mp4"}}},
    ]})
    assert uploaded_keys(body) == [("b", "uploads/a/source x.mp4")]
    assert uploaded_keys(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    assert uploaded_keys("not json") == [] and uploaded_keys("[1, 2]") == []


@pytest.mark.parametrize("job,expected", [
    ({"state": "done", "updated_at": 9.0, "t_awaiting_upload": 0.0, "t_queued": 2.0, "t_probing": 2.5,
      "t_encoding": 3.0, "t_assembling": 8.0, "t_done": 9.0},
     {"upload": 2.0, "queue": 0.5, "probe": 0.5, "encode": 5.0, "assemble": 1.0, "total": 9.0}),
    ({"state": "encoding", "updated_at": 4.0, "t_awaiting_upload": 0.0, "t_queued": 1.0, "t_probing": 1.0,
      "t_encoding": 2.0}, {"upload": 1.0, "queue": 0.0, "probe": 1.0, "total": 4.0}),
])
def test_stage_timings_come_from_state_entry_times(job: dict, expected: dict) -> None:
    assert _timings(job) == expected


def test_part_names_sort_in_chunk_order() -> None:
    names = [J.part_name(i) for i in (0, 9, 10, 99999)]
    assert names == sorted(names) and names[0] == "v00000"
