"""The job view's stage timings."""
from __future__ import annotations

import pytest

from chalicelib.rest.views import stage_timings


@pytest.mark.parametrize("job,expected", [
    ({"state": "done", "updated_at": 9.0, "t_awaiting_upload": 0.0, "t_queued": 2.0, "t_probing": 2.5,
      "t_encoding": 3.0, "t_assembling": 8.0, "t_done": 9.0},
     {"upload": 2.0, "queue": 0.5, "probe": 0.5, "encode": 5.0, "assemble": 1.0, "total": 9.0}),
    ({"state": "encoding", "updated_at": 4.0, "t_awaiting_upload": 0.0, "t_queued": 1.0, "t_probing": 1.0,
      "t_encoding": 2.0}, {"upload": 1.0, "queue": 0.0, "probe": 1.0, "total": 4.0}),
])
def test_stage_timings_come_from_state_entry_times(job: dict, expected: dict) -> None:
    assert stage_timings(job) == expected
