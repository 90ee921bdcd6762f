"""A smoke run of the estimate bench (bench/estimate.py) on tiny jobs, and its section's splice
into a copy of the doc (the other sections stay as they are)."""
from __future__ import annotations

from pathlib import Path

from bench import estimate, report
from bench.common import smoke_profile
from bench.fleet import Fleet


def test_the_estimate_bench_measures_tiny_jobs_and_writes_its_section(tmp_path: Path) -> None:
    profile = smoke_profile()
    with Fleet(tmp_path / "fleet", profile.workers) as fleet:
        result = estimate.run(fleet, profile, tmp_path / "sources", tmp_path, log=lambda message: None)
    rows = result["rows"]
    assert len(rows) == 4 and all("estimate" in r for r in rows), rows
    for row in rows:
        assert row["estimate"]["workers"] == profile.workers and row["estimate"]["ready_in_seconds"] > 0
        assert row["actual"]["ready_in_seconds"] > 0 and row["actual"]["cost_usd"] > 0
        assert row["error"]["ready_in_seconds"] is not None
    assert all(r["processor_cpu_seconds"] > 0 for r in rows if r["group"] == "alone")
    summary = result["summary"]
    assert summary["jobs"] == 4 and 0 <= summary["ready_in_seconds"]["p50"] <= summary["ready_in_seconds"]["p95"]
    result["seconds"] = 1.0
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\n## 8. Streaming\n\nkept\n\n## Performance findings\n\nkept too\n")
    report.splice_section(doc, report.estimate_section(result))
    first = doc.read_text()
    assert first.index("## 8. Streaming") < first.index(report.ESTIMATE_HEADING) < first.index("## Performance")
    report.splice_section(doc, report.estimate_section(result))  # again: replaced, not added
    assert doc.read_text() == first and first.count("kept") == 2
