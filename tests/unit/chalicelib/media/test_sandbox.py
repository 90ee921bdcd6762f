"""Sandboxed runner and failure descriptions (uses only coreutils, no ffmpeg)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError, MediaTimeoutError


def test_timeout_kills_whole_process_group() -> None:
    started = time.monotonic()
    with pytest.raises(MediaTimeoutError, match="timed out after 0.5s"):
        sandbox.run(["sh", "-c", "sleep 30 & sleep 30"], 0.5)
    assert time.monotonic() - started < 5


def test_rlimits_applied_and_stdin_closed() -> None:
    code = (
        "import os, resource; print(resource.getrlimit(resource.RLIMIT_CORE)[0],"
        " resource.getrlimit(resource.RLIMIT_NOFILE)[0], resource.getrlimit(resource.RLIMIT_AS)[0],"
        " os.path.samefile('/proc/self/fd/0', os.devnull))"
    )
    result = sandbox.run([sys.executable, "-c", code], 30)
    core, nofile, address_space, stdin_is_devnull = result.stdout.decode().split()
    assert (int(core), int(nofile), int(address_space)) == (0, 256, sandbox.DEFAULT_LIMITS.address_space)
    assert stdin_is_devnull == "True"


def test_file_size_limit() -> None:
    limits = sandbox.Limits(file_size=1000)
    with pytest.raises(MediaError, match="output size limit exceeded"):
        sandbox.run(["head", "-c", "5000", "/dev/zero"], 10, limits=limits)


def test_nonzero_exit_reason_uses_stderr_tail() -> None:
    with pytest.raises(MediaError, match=r"^probe failed: second / third$"):
        sandbox.run(["sh", "-c", "echo first >&2; echo second >&2; echo third >&2; exit 1"], 10, what="probe")
    result = sandbox.run(["sh", "-c", "echo oops >&2; exit 3"], 10, check=False)
    assert result.returncode == 3 and result.stderr.strip() == "oops"


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("[mov,mp4 @ 0x1] moov atom not found\nin.mp4: Invalid data found when processing input", "no moov box"),
        ("in.mp4: Invalid data found when processing input", "unrecognized or unsupported container"),
        ("Protocol 'file' not on whitelist 'https'!", "disallowed protocol"),
        ("Format m4v detected only with low score... Format not on whitelist 'mov,mp4'", "disallowed format"),
        ("[matroska,webm @ 0x1] EBML header parsing failed", "not a valid Matroska file (bad EBML header)"),
        ("[mov,mp4 @ 0x1] stream 0, missing mandatory atoms, broken header", "stsz/stco/stsc"),
        ("", "exited with status 1"),
    ],
)
def test_describe_failure(stderr: str, reason: str) -> None:
    assert reason in sandbox.describe_failure(stderr, 1)


def test_describe_signal() -> None:
    assert sandbox.describe_failure("", -24) == "CPU time limit exceeded"


@pytest.mark.parametrize(("stderr", "returncode", "retryable"), [
    # ffmpeg repeats itself on the same bytes: the source's or our own intermediates'
    ("in.mp4: Invalid data found when processing input", 1, False),
    ("Stream map '1:a:0' matches no streams.", 1, False),
    ("[aac @ 0x1] Some error nobody has seen before", 1, False),
    ("", 1, False),
    ("", -24, False),  # SIGXCPU: our CPU limit, the same work next time
    ("", -25, False),  # SIGXFSZ: our output size limit
    ("", -11, False),  # SIGSEGV: a crash on this input
    ("", -6, False),   # SIGABRT
    # the machine, the network, or someone else
    ("", -9, True),    # SIGKILL we did not send: the kernel's OOM killer
    ("", -15, True),
    ("Exiting normally, received signal 15.", 255, True),
    ("av_interleaved_write_frame(): No space left on device", 1, True),
    ("[https @ 0x1] Server returned 503 Service Unavailable", 1, True),
    ("[tcp @ 0x1] Connection reset by peer", 1, True),
    ("/tmp/sources/a.mp4: No such file or directory", 1, True),  # our local copy was evicted
    ("", 125, True),   # the sandbox could not be set up on this machine
    ("[https @ 0x1] Server returned 404 Not Found", 1, False),
])
def test_classify_failure_says_whether_a_retry_can_help(stderr: str, returncode: int, retryable: bool) -> None:
    failure = sandbox.classify_failure(stderr, returncode)
    assert failure.retryable is retryable and failure.reason == sandbox.describe_failure(stderr, returncode)


@pytest.mark.parametrize(("script", "retryable"), [
    ("echo 'in.avi: Invalid data found when processing input' >&2; exit 1", False),
    ("kill -SEGV $$", False),
    ("kill -KILL $$", True),
    ("echo 'No space left on device' >&2; exit 1", True),
])
def test_run_raises_a_media_error_that_knows_if_it_is_retryable(script: str, retryable: bool) -> None:
    from chalicelib.model.errors import is_retryable

    with pytest.raises(MediaError) as failed:
        sandbox.run(["sh", "-c", script], 10, what="encoding chunk 0")
    assert str(failed.value).startswith("encoding chunk 0 failed: ")
    assert is_retryable(failed.value) is retryable


def test_long_reason_is_truncated() -> None:
    assert len(sandbox.describe_failure("x" * 5000, 1)) <= 300


def test_cancel_stops_the_child_quickly() -> None:
    import threading

    from chalicelib.model.errors import JobAbandoned

    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(JobAbandoned):
        sandbox.run(["sleep", "30"], 60, cancel=cancel)
    assert time.monotonic() - started < 3


def test_the_probes_frame_tables_are_capped_by_the_declared_length() -> None:
    from chalicelib.media.probe import MAX_FRAMES, frame_cap

    assert frame_cap(10.0) == 2 * 10 * 240 + 10_000  # a 10 s file may not carry a million frames
    assert frame_cap(0.0) == MAX_FRAMES and frame_cap(10**7) == MAX_FRAMES
    assert frame_cap(0.04, "avi") == MAX_FRAMES  # an AVI's length is a header field that may lie


def test_the_address_space_limit_fits_the_host(tmp_path: Path) -> None:
    from chalicelib.media.sandbox import GIB, fitted_limits, host_memory_bytes

    assert host_memory_bytes({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}, str(tmp_path)) == 512 * 1024**2
    (tmp_path / "sys/fs/cgroup").mkdir(parents=True)
    (tmp_path / "sys/fs/cgroup/memory.max").write_text("2147483648\n")  # a 2 GiB Fargate task
    assert host_memory_bytes({}, str(tmp_path)) == 2 * GIB
    (tmp_path / "sys/fs/cgroup/memory.max").write_text("max\n")
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/meminfo").write_text("MemTotal:       24576000 kB\n")
    assert host_memory_bytes({}, str(tmp_path)) == 24576000 * 1024
    assert fitted_limits(512 * 1024**2).address_space == int(512 * 1024**2 * 0.8)  # below the Lambda's memory
    assert fitted_limits(64 * GIB).address_space == 6 * GIB
    assert fitted_limits(None).address_space == 6 * GIB


def test_without_a_workdir_relative_paths_are_the_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    result = sandbox.run([sys.executable, "-c", "import os; open('out/rel.txt', 'w').write(os.environ['HOME'])"], 30)
    assert result.returncode == 0 and (tmp_path / "out" / "rel.txt").exists()
    assert (tmp_path / "out" / "rel.txt").read_text() != os.environ.get("HOME")  # still not our HOME
