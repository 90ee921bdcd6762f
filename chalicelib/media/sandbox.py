"""Input hardening flags for ffmpeg and a sandboxed runner for every child that reads user media."""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import IO, NamedTuple

from chalicelib.model.errors import JobAbandoned, MediaError, MediaTimeoutError

GIB = 1024**3

# Demuxer names (as ffmpeg spells them) allowed to parse user input. A demuxer matches when any of
# its comma-separated names is listed. Deliberately absent: hls, dash, concat, image2, subfile,
# data, tee, lavfi, raw elementary streams and everything else that can reference other files.
FORMAT_WHITELIST = ",".join(
    [
        "mov", "mp4", "m4a", "3gp", "3g2", "mj2",
        "matroska", "webm",
        "avi", "mpegts", "mpeg", "flv", "asf", "ogg", "mxf",
    ]
)
# Local user files are plain files; presigned URLs need https (plus the layers it stacks on).
LOCAL_PROTOCOLS = "file"
REMOTE_PROTOCOLS = "http,https,tcp,tls"
MAX_STREAMS = 16
PROBESIZE = 50_000_000  # bytes
ANALYZEDURATION = 20_000_000  # microseconds
STDERR_TAIL_BYTES = 16_384
CANCEL_POLL_SECONDS = 0.25

GLOBAL_ARGS = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to a child process (bytes / seconds / count).

    Measured (2 cores, MALLOC_ARENA_MAX=2): a 1080p libx264 encode needs ~0.75 GiB of address
    space at veryfast and ~1 GiB at medium; x264 threads scale with cores, so 6 GiB leaves room
    for a 6-vCPU Lambda while still stopping a decompression bomb.
    """

    address_space: int = 6 * GIB
    file_size: int = 16 * GIB
    open_files: int = 256
    cpu_seconds: int | None = None  # None: derived from the timeout


def host_memory_bytes(env: dict[str, str] | None = None, root: str = "/") -> int | None:
    """The memory this process may use: the Lambda's configured size, else the cgroup's limit
    (ECS/Fargate, containers), else the machine's; None if none can be read."""
    env = dict(os.environ if env is None else env)
    if env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").isdigit():
        return int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]) * 1024**2
    for path in ("sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = open(os.path.join(root, path)).read().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 2**60:  # cgroup v1 says "no limit" with a huge number
            return int(raw)
    try:
        for line in open(os.path.join(root, "proc/meminfo")):
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def fitted_limits(memory: int | None) -> Limits:
    """Limits whose address space stays below the host's memory (80 %, at most 6 GiB): a child
    is stopped by its rlimit before the kernel's OOM killer takes the worker or the Lambda."""
    if memory is None:
        return Limits()
    return replace(Limits(), address_space=max(256 * 1024**2, min(Limits().address_space, int(memory * 0.8))))


DEFAULT_LIMITS = fitted_limits(host_memory_bytes())


@dataclass(frozen=True)
class RunResult:
    """Outcome of a finished child process."""

    returncode: int
    stdout: bytes
    stderr: str


def is_remote(source: str) -> bool:
    """True for http(s) URLs (presigned GETs), False for local paths."""
    return source.lower().startswith(("http://", "https://"))


def protocol_whitelist(source: str) -> str:
    """Protocols ffmpeg may use to read ``source`` (never nested/indirect ones)."""
    return REMOTE_PROTOCOLS if is_remote(source) else LOCAL_PROTOCOLS


# An S3 blip must not kill a long chunk encode: ffmpeg's http client re-opens the presigned URL
# at the current offset (a range request) with backoff up to this many seconds between tries.
RECONNECT_ARGS = ["-reconnect", "1", "-reconnect_on_network_error", "1", "-reconnect_on_http_error", "5xx",
                  "-reconnect_delay_max", "10", "-reconnect_delay_total_max", "60"]


def input_args(source: str) -> list[str]:
    """Hardened ``-i`` arguments for a user-supplied input (local path or http(s) URL)."""
    return [
        *(RECONNECT_ARGS if is_remote(source) else []),
        "-protocol_whitelist", protocol_whitelist(source),
        "-format_whitelist", FORMAT_WHITELIST,
        "-max_streams", str(MAX_STREAMS),
        "-probesize", str(PROBESIZE),
        "-analyzeduration", str(ANALYZEDURATION),
        # The child runs in its own scratch folder: a local path must not depend on our cwd.
        "-i", source if is_remote(source) else os.path.abspath(source),
    ]


_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_PR_CAPBSET_DROP = 24
# Loaded before any fork: the child between fork and exec must not dlopen.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
# What a decoder child gets of the environment: no credentials, no Redis URL, no settings.
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"


def child_environment(workdir: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a child: a PATH, a locale and its own scratch as HOME/TMPDIR."""
    return {"PATH": CHILD_PATH, "LC_ALL": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir,
            # Fewer glibc malloc arenas keeps virtual size (RLIMIT_AS) proportional to real use.
            "MALLOC_ARENA_MAX": "2", **(extra or {})}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


# (audit arch, socket, io_uring_setup) per machine; io_uring can open sockets too.
_SYSCALLS = {"x86_64": (0xC000003E, 41, 425), "aarch64": (0xC00000B7, 198, 425)}
_AF_UNIX = 1


def _no_network_filter() -> _SockFprog | None:
    """A seccomp program: socket() of any family but AF_UNIX fails with EACCES, io_uring with
    EPERM, and every syscall of a foreign ABI (i386 on x86_64: socketcall) fails."""
    import platform

    known = _SYSCALLS.get(platform.machine())
    if known is None:
        return None
    arch, sys_socket, sys_uring = known
    ld, jeq, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
    allow, eacces, eperm = 0x7FFF0000, 0x00050000 | 13, 0x00050000 | 1
    program = [
        (ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, eperm),  # seccomp_data.arch
        (ld, 0, 0, 0),                                          # seccomp_data.nr
        (jeq, 3, 0, sys_socket), (jeq, 1, 0, sys_uring), (ret, 0, 0, allow),
        (ret, 0, 0, eperm),
        (ld, 0, 0, 16), (jeq, 0, 1, _AF_UNIX), (ret, 0, 0, allow),  # args[0]: the family
        (ret, 0, 0, eacces),
    ]
    filters = (_SockFilter * len(program))(*(_SockFilter(*insn) for insn in program))
    return _SockFprog(len(program), filters)


_NO_NETWORK = _no_network_filter() if _LIBC is not None else None

# Landlock (Linux 5.13+): writes confined to the child's own folder. Kernels without it (Lambda's
# and Fargate's 5.10 today) run the child without this layer; the other layers still apply.
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_WRITE_FILE, _FS_REMOVE_DIR, _FS_REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_FS_MAKE = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_FS_TRUNCATE = 1 << 14  # ABI 3


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock_abi() -> int:
    if _LIBC is None:
        return 0
    abi = _LIBC.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return int(abi) if abi > 0 else 0


LANDLOCK_ABI = _landlock_abi()
_WRITES = _FS_WRITE_FILE | _FS_REMOVE_DIR | _FS_REMOVE_FILE | _FS_MAKE | (_FS_TRUNCATE if LANDLOCK_ABI >= 3 else 0)
_RULESET = _RulesetAttr(_WRITES)


def _confine_writes(folder: str) -> None:
    """In the child, before exec: from now on it may create, change or delete files only below
    ``folder`` (and write to ``/dev/null``); reading is not restricted."""
    assert _LIBC is not None
    ruleset = _LIBC.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(_RULESET), ctypes.c_size_t(8),
                            ctypes.c_uint32(0))
    if ruleset < 0:
        os._exit(125)
    for path, rights in ((folder, _WRITES), ("/dev/null", _FS_WRITE_FILE | (_WRITES & _FS_TRUNCATE))):
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = _PathBeneathAttr(rights, fd)
        if _LIBC.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            os._exit(125)
        os.close(fd)
    if _LIBC.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
        os._exit(125)
    os.close(ruleset)


def protect_parent() -> None:
    """Make this process non-dumpable: a child of the same user can then neither read its
    ``/proc/<pid>/environ`` (AWS keys, the Valkey token) nor attach to it."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _limiter(limits: Limits, timeout: float, network: bool, writable: str | None) -> Callable[[], None]:
    cpu = limits.cpu_seconds or int(timeout * max(os.cpu_count() or 1, 1)) + 5

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.address_space, limits.address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if _LIBC is not None:
            # If the worker is SIGKILLed mid-chunk, its ffmpeg must not run on as an orphan.
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.geteuid() == 0:
                # Root (a developer's machine, CI): exec must not hand the decoder root's
                # capabilities (reading any process's memory or environment, any file).
                for cap in range(64):
                    _LIBC.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
            # No privilege can be gained by exec (setuid binaries), which seccomp requires.
            _LIBC.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            if writable is not None and LANDLOCK_ABI > 0:
                _confine_writes(writable)
            if not network and _NO_NETWORK is not None:
                if _LIBC.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(_NO_NETWORK), 0, 0) != 0:
                    os._exit(125)  # never run a decoder that was meant to be offline with a network

    return apply


def _tail(stream: IO[bytes], max_bytes: int) -> bytes:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - max_bytes))
    return stream.read()


class Failure(NamedTuple):
    """Why a child failed, for users, and whether running it again could end otherwise."""

    reason: str
    retryable: bool


# What each signal means here. Our own limits (CPU, file size) and crashes on the input end the
# same way every time; a SIGKILL/SIGTERM we did not send (our timeout and cancel raise before
# they kill) came from outside: the kernel's OOM killer under memory pressure, an operator.
_SIGNAL_FAILURES = {
    signal.SIGXCPU: Failure("CPU time limit exceeded", False),
    signal.SIGXFSZ: Failure("output size limit exceeded", False),
    signal.SIGSEGV: Failure("crashed (segmentation fault)", False),
    signal.SIGBUS: Failure("crashed (bus error)", False),
    signal.SIGFPE: Failure("crashed (arithmetic error)", False),
    signal.SIGILL: Failure("crashed (illegal instruction)", False),
    signal.SIGABRT: Failure("aborted (possibly out of memory)", False),
    signal.SIGKILL: Failure("killed (possibly out of memory)", True),
    signal.SIGTERM: Failure("stopped from outside (SIGTERM)", True),
}

# ffmpeg's messages, rephrased for end users, first match wins. ffmpeg is deterministic: a
# non-zero exit repeats on the same bytes with the same arguments, unless the cause is the
# machine or the network (retryable: True). Unknown messages are not retried.
_KNOWN_FAILURES: list[tuple[re.Pattern[str], Failure]] = [
    (re.compile(r"No space left on device", re.I), Failure("no space left on the worker's disk", True)),
    (re.compile(r"Resource temporarily unavailable", re.I), Failure("the worker is out of resources", True)),
    (re.compile(r"received signal (2|15)\b", re.I), Failure("stopped from outside (a signal)", True)),
    (re.compile(r"Server returned 5(\d\d|XX)", re.I), Failure("the input server failed (HTTP 5xx)", True)),
    (re.compile(r"Connection (reset|refused|timed out)|Network is unreachable|Operation timed out|"
                r"Input/output error", re.I), Failure("reading the input failed (network or disk error)", True)),
    (re.compile(r"Server returned 403|Forbidden", re.I),
     Failure("access to the input URL was denied (expired link?)", True)),
    (re.compile(r"Server returned 404", re.I), Failure("input URL not found", False)),
    # Our local copy of the source vanished (another worker's eviction): a retry fetches it again.
    (re.compile(r"No such file or directory", re.I), Failure("input file not found", True)),
    (re.compile(r"Cannot allocate memory|Generic error in an external library", re.I),
     Failure("out of memory", False)),
    (re.compile(r"EBML header using unsupported features", re.I),
     Failure("not a valid Matroska file (its EBML header asks for features no reader supports)", False)),
    (re.compile(r"EBML header parsing failed", re.I), Failure("not a valid Matroska file (bad EBML header)", False)),
    (re.compile(r"missing mandatory atoms, broken header", re.I),
     Failure("the MP4's sample tables are broken (a missing or invalid stsz/stco/stsc box)", False)),
    (re.compile(r"moov atom not found", re.I),
     Failure("incomplete or damaged MP4/MOV: no moov box (its index) was found", False)),
    (re.compile(r"Protocol '[^']*' not on whitelist", re.I),
     Failure("input references a disallowed protocol", False)),
    (re.compile(r"not on whitelist", re.I), Failure("disallowed format: not a video container we accept", False)),
    (re.compile(r"Invalid data found when processing input", re.I),
     Failure("not a video file we can read (unrecognized or unsupported container)", False)),
    (re.compile(r"Output file does not contain any stream|matches no streams", re.I),
     Failure("input stream missing", False)),
    (re.compile(r"Nothing was written into output file|Output file is empty", re.I),
     Failure("nothing could be decoded from the input", False)),
]
# Exit statuses of our own making: the sandbox could not be set up on this machine (125).
_EXIT_FAILURES = {125: Failure("the sandbox could not be set up on this machine", True)}


def classify_failure(stderr: str, returncode: int) -> Failure:
    """Why a child exited with ``returncode`` (negative: killed by that signal), from its
    stderr tail, and whether another attempt could succeed. The one table of both."""
    if returncode < 0:
        try:
            return _SIGNAL_FAILURES.get(signal.Signals(-returncode), Failure(f"killed by signal {-returncode}", True))
        except ValueError:
            return Failure(f"killed by signal {-returncode}", True)
    for pattern, failure in _KNOWN_FAILURES:
        if pattern.search(stderr):
            return failure
    if returncode in _EXIT_FAILURES:
        return _EXIT_FAILURES[returncode]
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return Failure(f"exited with status {returncode}", False)
    # The last distinct lines carry the cause; earlier ones are usually per-packet noise.
    distinct = list(dict.fromkeys(reversed(lines)))[:2]
    text = " / ".join(reversed(distinct))
    return Failure(text if len(text) <= 300 else text[:297] + "...", False)


def describe_failure(stderr: str, returncode: int) -> str:
    """Turn an ffmpeg exit status and stderr tail into a short human-readable reason."""
    return classify_failure(stderr, returncode).reason


def run(
    argv: list[str],
    timeout: float,
    *,
    limits: Limits = DEFAULT_LIMITS,
    check: bool = True,
    extra_env: dict[str, str] | None = None,
    what: str = "ffmpeg",
    cancel: threading.Event | None = None,
    network: bool = True,
    workdir: str | None = None,
    pass_fds: tuple[int, ...] = (),
) -> RunResult:
    """Run ``argv`` (no shell, no stdin) under rlimits and a wall-clock timeout.

    The child gets its own process group, killed entirely on timeout (MediaTimeoutError) or when
    ``cancel`` is set (JobAbandoned); a minimal environment (``child_environment``: none of
    ours) plus ``extra_env``; ``workdir`` as its cwd, HOME and TMPDIR, and (where the kernel has
    Landlock) the only place it may write to; and, unless ``network``, no way to open an internet
    socket. This process turns non-dumpable first. With ``check`` a non-zero exit raises
    MediaError("<what> failed: <reason>"), retryable only where ``classify_failure`` says so.
    """
    protect_parent()
    # Without a workdir (our own trusted renders) the child runs where we do, so relative paths
    # mean what they meant to the caller; its HOME and TMPDIR are still not ours.
    cwd = workdir or os.getcwd()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=_limiter(limits, timeout, network, workdir),
            start_new_session=True,
            close_fds=True,
            pass_fds=pass_fds,
            cwd=cwd,
            env=child_environment(workdir or tempfile.gettempdir(), extra_env),
        )
        try:
            returncode = _wait(proc, timeout, cancel, what)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        stderr = _tail(err, STDERR_TAIL_BYTES).decode("utf-8", "replace")
        out.seek(0)
        stdout = out.read()
    if check and returncode != 0:
        failure = classify_failure(stderr, returncode)
        raise MediaError(f"{what} failed: {failure.reason}", retryable=failure.retryable)
    return RunResult(returncode, stdout, stderr)


def _wait(proc: subprocess.Popen[bytes], timeout: float, cancel: threading.Event | None, what: str) -> int:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise MediaTimeoutError(f"{what} timed out after {timeout:g}s")
        if cancel is not None and cancel.is_set():
            raise JobAbandoned(f"{what} stopped: task cancelled")
        try:
            return proc.wait(timeout=min(remaining, CANCEL_POLL_SECONDS) if cancel else remaining)
        except subprocess.TimeoutExpired:
            continue


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
