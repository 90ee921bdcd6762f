"""A worker killed with SIGKILL must not leave its ffmpeg running (PR_SET_PDEATHSIG)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path


def _pids_with(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_ffmpeg_dies_with_its_parent(tmp_path: Path) -> None:
    marker = f"orphan-{uuid.uuid4().hex}"
    out = tmp_path / f"{marker}.mp4"
    script = (
        "from chalicelib.media import sandbox\nfrom workers.media.binary import ffmpeg_binary\n"
        f"sandbox.run([ffmpeg_binary(), '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',"
        f" '-c:v', 'libx264', '-preset', 'veryslow', '-y', {str(out)!r}], timeout=120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 20
    while not [p for p in _pids_with(marker) if p != parent.pid]:
        assert time.monotonic() < deadline, "ffmpeg never started"
        time.sleep(0.05)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while [p for p in _pids_with(marker) if p != parent.pid]:
        assert time.monotonic() < deadline, "ffmpeg outlived its SIGKILLed parent"
        time.sleep(0.05)
