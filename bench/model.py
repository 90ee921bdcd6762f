"""The fleet model (pure): list scheduling of measured chunk times on W workers, plus fixed costs.

time_to_output(W) = before + makespan(W) + after, where
- before: upload event → chunker, probe + plan (measured);
- makespan(W): the queue's order (the audio parts first, as the chunker enqueues them, then the
  chunks by index), each task taken by the first free worker (list scheduling), a task = its
  measured encode time + the per-task overhead measured around it + its output bytes / S3
  throughput;
- after: assembly as measured + the bytes the assembler moves through its link at S3 throughput:
  what the job recorded it streamed (``assembly_bytes``; the bytes it had S3 copy server-side
  are not on its link, or at a stated copy rate), or, for jobs that do not record it, every
  chunk's and the output's bytes (it downloaded the chunks and uploaded the result).
Client upload and download are left out: they depend on the user's link, not on the fleet.
"""
from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import chunk_starts, gop_frames


def makespan(tasks: Sequence[float], workers: int) -> float:
    """List scheduling in the given order: each task starts on the earliest-free worker."""
    if not tasks:
        return 0.0
    free = [0.0] * min(workers, len(tasks))
    heapq.heapify(free)
    end = 0.0
    for seconds in tasks:
        start = heapq.heappop(free)
        finish = start + seconds
        end = max(end, finish)
        heapq.heappush(free, finish)
    return end


def fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares ``y = a + b x``; (mean, 0) when x does not vary."""
    n = len(points)
    if n == 0:
        raise ValueError("no points to fit")
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return my, 0.0
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - b * mx, b


@dataclass(frozen=True)
class Fleet:
    """Measured inputs of the model (seconds, bytes)."""

    before: float                 # upload event → chunker + probe + plan
    assemble: float               # the assembly stage as measured locally
    task_overhead: float          # per task, outside ffmpeg (bookkeeping, local upload of the part)
    audio: tuple[tuple[float, float], ...]  # each audio part's (encode seconds, bytes), in queue order
    output_bytes: int
    s3_bytes_per_s: float
    # (streamed, copied) bytes of the assembly when the job records them; None: the old assembler
    # (every chunk downloaded, the whole output uploaded).
    assembly_bytes: tuple[float, float] | None = None
    s3_copy_bytes_per_s: float | None = None  # None: server-side copies are not on the assembler's link

    def task(self, encode_seconds: float, nbytes: float) -> float:
        return encode_seconds + self.task_overhead + nbytes / self.s3_bytes_per_s

    def moved(self, chunk_bytes: float) -> float:
        """Seconds the assembler spends moving bytes (beyond the assembly measured locally)."""
        if self.assembly_bytes is None:
            return (chunk_bytes + self.output_bytes) / self.s3_bytes_per_s
        streamed, copied = self.assembly_bytes
        copy = copied / self.s3_copy_bytes_per_s if self.s3_copy_bytes_per_s else 0.0
        return streamed / self.s3_bytes_per_s + copy

    def after(self, chunk_bytes: float) -> float:
        return self.assemble + self.moved(chunk_bytes)


def time_to_output(fleet: Fleet, chunks: Sequence[tuple[float, float]], workers: int,
                   *, audio_last: bool = False) -> float:
    """``chunks``: (encode seconds, bytes) in queue order; the audio parts go before them (the
    chunker's order) or, with ``audio_last``, after them (the order before issue 11)."""
    tasks = [fleet.task(s, b) for s, b in chunks]
    audio = [fleet.task(s, b) for s, b in fleet.audio if s > 0]
    order = tasks + audio if audio_last else audio + tasks
    return fleet.before + makespan(order, workers) + fleet.after(sum(b for _, b in chunks))


def speedup_curve(fleet: Fleet, chunks: Sequence[tuple[float, float]],
                  workers: Sequence[int]) -> dict[str, list[float]]:
    one = time_to_output(fleet, chunks, 1)
    times = [time_to_output(fleet, chunks, w) for w in workers]
    return {"workers": list(workers), "seconds": times, "speedup": [one / t for t in times]}


def serial_fraction(fleet: Fleet, chunks: Sequence[tuple[float, float]]) -> float:
    """Amdahl's f: the part of the one-worker time that no number of workers shortens."""
    serial = fleet.before + fleet.after(sum(b for _, b in chunks))
    return serial / time_to_output(fleet, chunks, 1)


def karp_flatt(speedup: float, workers: int) -> float:
    """The experimentally determined serial fraction at ``workers`` (Karp–Flatt metric)."""
    if workers <= 1:
        return 0.0
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def planned_chunks(total_frames: int, fps: float, chunk_seconds: float) -> list[int]:
    """Frame counts of the chunks the planner makes for a constant-rate video (as plan_chunks)."""
    gop = gop_frames(fps, EncodeOptions(chunk_seconds=chunk_seconds))
    starts = chunk_starts(total_frames, gop, max(1, round(chunk_seconds * fps / gop)))
    return [b - a for a, b in zip(starts, [*starts[1:], total_frames])]


def extrapolate(points: Sequence[tuple[float, float]], x: float) -> float:
    """``y`` at ``x`` on the least-squares line through ``points``, never falling with ``x`` (a
    cost that measured lower on a longer input is noise: then the mean)."""
    a, b = fit_line(points)
    if b < 0:
        return sum(y for _, y in points) / len(points)
    return a + b * x


def scaled_audio(parts: Sequence[tuple[float, float]], measured_seconds: float,
                 spans: Sequence[float]) -> tuple[tuple[float, float], ...]:
    """Audio parts covering ``spans`` seconds of source each, from the parts (encode seconds, bytes)
    measured on a ``measured_seconds`` input: at the measured seconds and bytes per source second."""
    if not parts or measured_seconds <= 0:
        return ()
    rate = sum(s for s, _ in parts) / measured_seconds
    byte_rate = sum(b for _, b in parts) / measured_seconds
    return tuple((rate * span, byte_rate * span) for span in spans)
