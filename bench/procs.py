"""The stack's process tree from /proc: who is who, peak resident memory and CPU time per role.

Peaks: long-lived processes get their high-water mark reset (``/proc/PID/clear_refs`` = 5) at the
start of a window and read (VmHWM) at its end; short-lived children (ffmpeg, probes) are polled
every ``interval`` while they live, keeping the largest VmHWM seen.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self

TICK = os.sysconf("SC_CLK_TCK")
# Our own Python processes (the issue: none of them may hold a video in memory).
PYTHON_ROLES = ("api+chunker", "chunker probe", "processor", "assembler", "assembler probe")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start: int  # start time in ticks since boot: with pid it names a process uniquely
    argv: tuple[str, ...]


def _stat(pid: int) -> tuple[int, int, list[str]] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[19]), fields


def _children(pid: int) -> list[int]:
    """Direct children, from every thread's ``children`` list (a thread that forks is their parent)."""
    out: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in threads:
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def tree(root: int) -> dict[int, Proc]:
    """``root`` and all its descendants, now (walked down from ``root``: cheap enough to poll)."""
    procs: dict[int, Proc] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        stat = _stat(pid)
        if stat is None:
            continue
        try:
            argv = tuple(Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")[:-1])
        except OSError:
            continue
        if argv:  # not a zombie, nor a child between fork and exec: something to measure
            procs[pid] = Proc(pid, stat[0], stat[1], argv)
        frontier.extend(_children(pid))
    return procs


def role(proc: Proc, procs: dict[int, Proc], root: int) -> str:
    """What a process of the stack is: api+chunker, processor, processor ffmpeg, moto, ..."""
    if proc.pid == root:
        return "api+chunker"
    argv = proc.argv
    exe = os.path.basename(argv[0]) if argv else ""
    if "workers" in argv and "--role" in argv:  # python -m workers --role …
        return argv[argv.index("--role") + 1]
    if "devstack.motoserver" in argv or "moto.server" in argv:  # ours (python -m devstack.motoserver), or moto's own
        return "moto"
    if exe.startswith("valkey"):
        return "valkey"
    parent = procs.get(proc.ppid)
    owner = role(parent, procs, root) if parent is not None else "?"
    owner = "chunker" if owner == "api+chunker" else owner
    if "chalicelib.media.probe" in argv:
        return f"{owner} probe"
    if "ffmpeg" in exe:
        return f"{owner} ffmpeg"
    return f"{owner} child {exe}"


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_now(root: int) -> dict[str, int]:
    """Current resident set (KiB) per role (largest process of the role)."""
    procs = tree(root)
    out: dict[str, int] = {}
    for proc in procs.values():
        name = role(proc, procs, root)
        out[name] = max(out.get(name, 0), _status_kib(proc.pid, "VmRSS"))
    return out


class PeakMonitor:
    """Peak RSS per role over a window (``with PeakMonitor(root) as m: ...; m.peaks``)."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root = root
        self.interval = interval
        self._seen: dict[tuple[int, int, tuple[str, ...]], tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-monitor", daemon=True)
        self.peaks: dict[str, int] = {}
        self.processes: dict[str, int] = {}

    def __enter__(self) -> Self:
        for proc in tree(self.root).values():
            try:
                Path(f"/proc/{proc.pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            except OSError:
                pass
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        peaks: dict[str, int] = {}
        counts: dict[str, int] = {}
        for name, kib in self._seen.values():
            peaks[name] = max(peaks.get(name, 0), kib)
            counts[name] = counts.get(name, 0) + 1
        self.peaks, self.processes = peaks, counts

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        procs = tree(self.root)
        for proc in procs.values():
            kib = max(_status_kib(proc.pid, "VmHWM"), _status_kib(proc.pid, "VmRSS"))
            key = (proc.pid, proc.start, proc.argv)  # a new argv: after exec, a new memory image
            previous = self._seen.get(key)
            name = previous[0] if previous else role(proc, procs, self.root)
            self._seen[key] = (name, max(kib, previous[1] if previous else 0))


def cpu_seconds(root: int) -> dict[str, dict[str, float]]:
    """CPU seconds so far per role of the long-lived processes: own, and of their waited-for children."""
    procs = tree(root)
    out: dict[str, dict[str, float]] = {}
    for proc in procs.values():
        stat = _stat(proc.pid)
        if stat is None:
            continue
        fields = stat[2]
        name = role(proc, procs, root)
        if " " in name:  # short-lived children are counted in their parent's "children" time
            continue
        entry = out.setdefault(name, {"self": 0.0, "children": 0.0})
        entry["self"] += (int(fields[11]) + int(fields[12])) / TICK
        entry["children"] += (int(fields[13]) + int(fields[14])) / TICK
    return out


def cpu_delta(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {name: {k: round(v - before.get(name, {}).get(k, 0.0), 3) for k, v in entry.items()}
            for name, entry in after.items()}
