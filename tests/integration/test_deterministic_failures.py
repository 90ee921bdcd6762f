"""A failure that another attempt would repeat ends the job at once, through the live stack: one
attempt, a plain reason, within seconds (transient ones are retried: tests/integration/test_faults.py)."""
from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.client import Client
from devstack.stack import Stack
from tests.support.avi import make_avi_mp3
from tests.support.stack import submit, wait_for
from workers.tasks.pieces import pieces_prefix


@pytest.fixture
def held_assembler(stack: Stack) -> Iterator[subprocess.Popen[bytes]]:
    """The assembler, stopped (SIGSTOP) until the test resumes it; resumed whatever happens."""
    assembler = next(w for w in stack.workers if w.name.startswith("assembler"))
    assert assembler.proc is not None
    assembler.proc.send_signal(signal.SIGSTOP)
    try:
        yield assembler.proc
    finally:
        assembler.proc.send_signal(signal.SIGCONT)


# The MP4 composed from the parts' pieces checks each piece against its track's init segment; with
# the pieces gone (a job planned before them) the assembler remuxes, and ffmpeg finds no audio.
REASONS = {"composed": "the MP4 piece of audio at segment 0 is not of this track's stream",
           "remuxed": "assembling output failed: input stream missing"}


@pytest.mark.parametrize("path", sorted(REASONS))
def test_a_broken_intermediate_of_our_own_fails_the_job_at_once(
        stack: Stack, held_assembler: subprocess.Popen[bytes], tmp_path: Path, path: str) -> None:
    """The issue's failure, made on purpose: the audio rendition's init segment replaced by the
    video's, so the audio is not what its pieces (or the remux) expect. Retrying cannot help."""
    from chalicelib.stores.services import get_services

    client = Client(stack.api_url)
    source = make_avi_mp3(tmp_path / "clip.avi", seconds=2.0, size="128x72")
    job_id = submit(client, source, {"x264_preset": "ultrafast", "outputs": ["mp4"]})
    wait_for(lambda: client.job(job_id)["state"] in ("assembling", "failed", "done"), "the parts", timeout=60)
    assert client.job(job_id)["state"] == "assembling"
    svc = get_services()
    bucket, prefix = svc.settings.work_bucket, f"work/{job_id}/stream/"
    keys = [o["Key"] for o in svc.storage.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    video_init = next(k for k in keys if k.endswith("/init.mp4") and "/audio/" not in k)
    svc.storage.s3.copy_object(Bucket=bucket, Key=f"{prefix}audio/init.mp4",
                               CopySource={"Bucket": bucket, "Key": video_init})
    if path == "remuxed":
        svc.storage.delete_prefix(bucket, pieces_prefix(job_id))
    resumed = time.monotonic()
    held_assembler.send_signal(signal.SIGCONT)
    status = client.wait(job_id, timeout=60)
    elapsed = time.monotonic() - resumed
    print(f"\nfailed in {elapsed:.1f} s: {status.get('error')}")
    assert status["state"] == "failed", status
    assert status["error"] == REASONS[path], status["error"]
    assert elapsed < 10, f"took {elapsed:.1f} s (retried?)"
    assert status["parts"]["assembly"]["attempt"] == 1, status["parts"]["assembly"]
    # Acked (just after the job failed), not waiting for another attempt.
    def settled() -> bool:
        depth = svc.assemble_queue.depth()
        return depth["ready"] == depth["inflight"] == depth["dead"] == 0

    wait_for(settled, "the assembly task to be acked", timeout=5)
    assert all(w.alive() for w in stack.workers)
