"""The S3 object layout (pure functions)."""
from __future__ import annotations

from chalicelib.stores.jobs import new_job_id
from chalicelib.stores.storage import job_id_from_key, output_key, source_key


def test_s3_layout_round_trips_and_rejects_other_keys() -> None:
    job_id = new_job_id()
    key = source_key(job_id, "mov")
    assert key == f"uploads/{job_id}/source.mov" and job_id_from_key(key) == job_id
    for other in ("outputs/x/source.mp4", "uploads/x/other.mp4", "uploads/x/y/source.mp4", "source.mp4"):
        assert job_id_from_key(other) is None
    assert output_key(job_id, "My Holiday (1).MOV") == f"outputs/{job_id}/My_Holiday__1_.mp4"
    assert output_key(job_id, "../../etc/passwd").startswith(f"outputs/{job_id}/")
