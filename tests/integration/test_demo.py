"""`make demo` end to end on a short clip: render, the whole local stack, a summary line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_renders_transcodes_and_summarises(tmp_path: Path) -> None:
    folder = tmp_path / "demo"  # relative to the demo's own cwd below, as `make demo` passes .demo
    argv = [sys.executable, "-m", "devstack.demo", "--dir", "demo", "--seconds", "3", "--workers", "1"]
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["state"] == "done" and summary["output"]["frames"] == 90, summary
    package = folder / "package"
    assert (package / "master.m3u8").is_file() and (package / "manifest.mpd").is_file()
    (mp4,) = package.glob("*.mp4")
    assert mp4.stat().st_size > 0
    assert {r["id"] for r in summary["output"]["renditions"]} == {"h264-1080", "h264-720", "h264-540", "h264-360",
                                                                  "h264-240", "audio"}
