"""The fleet model (pure): list scheduling of measured chunk times on W workers, plus fixed costs.

time_to_output(W) = before + makespan(W) + after, where
- before: upload event → chunker, probe + plan (measured);
- makespan(W): the queue's order (chunks by index, then the audio task), each task taken by the
  first free worker (list scheduling), a task = its measured encode time + the per-task overhead
  measured around it + its output bytes / S3 throughput;
- after: assembly as measured + every chunk's and the output's bytes / S3 throughput (the
  assembler downloads the chunks and uploads the result).
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
    audio: float                  # the whole-track audio task's encode time
    output_bytes: int
    s3_bytes_per_s: float

    def task(self, encode_seconds: float, nbytes: float) -> float:
        return encode_seconds + self.task_overhead + nbytes / self.s3_bytes_per_s

    def after(self, chunk_bytes: float) -> float:
        return self.assemble + (chunk_bytes + self.output_bytes) / self.s3_bytes_per_s


def time_to_output(fleet: Fleet, chunks: Sequence[tuple[float, float]], workers: int,
                   *, audio_first: bool = False) -> float:
    """``chunks``: (encode seconds, bytes) in queue order."""
    tasks = [fleet.task(s, b) for s, b in chunks]
    audio = [fleet.task(fleet.audio, 0.0)] if fleet.audio > 0 else []
    order = audio + tasks if audio_first else tasks + audio
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
