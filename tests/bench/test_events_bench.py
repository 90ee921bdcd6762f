"""A smoke run of the events bench (bench/events.py): webhook latency and status lag measured on a
real stack, and its section written into a copy of the doc."""
from __future__ import annotations

import json
from pathlib import Path

from bench import events


def test_the_events_bench_measures_deliveries_and_lag(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## Performance findings\n\nkept\n")
    assert events.main(["--smoke", "--work", str(tmp_path / "work"), "--cache", str(tmp_path / "sources"),
                        "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert text.index(events.HEADING) < text.index("## Performance findings") and "kept" in text
    assert "Every signature verified: True" in text
    result = json.loads((tmp_path / "work" / "events.json").read_text())
    assert result["real_jobs"]["all"]["n"] == 4 * result["real_jobs"]["jobs"]
    assert result["burst"]["all"]["n"] == result["burst"]["events"]
    lag = result["status_lag"]
    assert lag["long_poll"]["p50"] < lag["polling"]["p50"]  # the long poll sees done first, typically by far
