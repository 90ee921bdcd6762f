"""The estimate before encoding (pure): when a job will be ready and what it will cost.

From the plan (chunks, rungs), the source, the encode options, the work queued ahead and the fleet:

1. Every task's work: its ffmpeg's CPU-seconds from the calibration (decode + every rung's encode at
   its codec, size and preset, or the audio track) and its wall-seconds beyond that (packaging,
   uploads, records; the worker's source download before its first task of the job).
2. A simulation of the process queue: the work ahead first (lumped per worker), then the job's
   tasks in queue order (the audio parts first, then the chunks), each taken by the first free worker;
   workers share the fleet's cores (locally one machine's, on AWS each task its own vCPUs), a task
   using at most its worker's cores (the audio encoder one). A job never uses more workers than
   it has tasks.
3. The assembly after the last part: a fixed part, the playlists, and the MP4's remux.
4. A correction learnt from the last jobs that finished: the median of their actual / estimated
   encode and assembly seconds (how fast this fleet runs now against the calibration).

``ready_in_seconds`` counts from the moment the estimate is made (the end of probing) to ``done``;
``cost_usd`` prices the worker-seconds the job's parts and assembly record as Fargate tasks
(locally too: what the same work would cost there).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from chalicelib.model.audioparts import AUDIO_RATE
from chalicelib.model.ladder import Rung, pixel_seconds
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.settings import Settings


@dataclass(frozen=True)
class Calibration:
    """Measured speeds: per ffmpeg (``python -m bench.calibrate``) and end to end (``bench.estimate``)."""

    measured: str  # where and when, in words (the basis quotes it)
    decode_mpix_per_cpu_second: float  # source pixels decoded per CPU-second
    process_cpu_seconds: float  # one ffmpeg's start-up
    encoder_init_cpu_seconds: Mapping[str, float]  # per codec, per rung and task
    # Per codec: (output pixels per frame, megapixels encoded per CPU-second at veryfast), by size.
    encode_mpix_per_cpu_second: Mapping[str, tuple[tuple[int, float], ...]]
    preset_factor: Mapping[str, Mapping[str, float]]  # CPU against veryfast, per codec and preset name
    audio_cpu_per_second: float  # the audio task's AAC encode, per second of source
    # From the local stack, around the ffmpegs:
    task_seconds: float  # a part's recorded seconds beyond its ffmpeg: packaging, records
    upload_seconds: float  # per segment file written (init or media)
    handoff_seconds: float  # per task outside its recorded seconds: job read, publish, ack, next pop
    download_mb_per_second: float  # a worker's source download
    assembly_seconds: float  # the assembly's fixed part (playlists, manifest, records)
    assembly_seconds_per_segment: float  # per media segment of every track (the index, the MP4's fetch)
    remux_mpix_seconds_per_second: float  # the MP4: top-rung pixel-seconds remuxed and verified per second
    # Real jobs' ffmpeg CPU against the per-ffmpeg figures (measured on testsrc2): footage, packaging.
    content_factor: float = 1.0


# Measured by `python -m bench.calibrate --reps 3` on Intel(R) Xeon(R) Processor (2 cores), 2026-12-01 21:16 UTC,
# commit de5038c+dirty, ffmpeg n9.0.2 (imageio-ffmpeg); load average 11.6 (a shared machine: the least of 3 runs).
# The stack figures and content_factor: `python -m bench.estimate` on the same machine (docs/BENCHMARKS.md §9).
CALIBRATION = Calibration(
    measured="bench.calibrate + bench.estimate, Intel Xeon 2 cores, 2026-12-01",
    decode_mpix_per_cpu_second=291.6,
    process_cpu_seconds=0.091,
    encoder_init_cpu_seconds={"h264": 0.047, "hevc": 0.063, "av1": 0.077},
    encode_mpix_per_cpu_second={
        "h264": ((2073600, 72.33), (921600, 73.51), (518400, 72.9), (230400, 53.42), (102240, 34.79)),
        "hevc": ((2073600, 21.39), (921600, 21.99), (518400, 21.12), (230400, 17.72), (102240, 15.41)),
        "av1": ((2073600, 69.84), (921600, 61.34), (518400, 44.56), (230400, 35.32), (102240, 21.09)),
    },
    preset_factor={
        "h264": {"ultrafast": 0.491, "superfast": 1.016, "veryfast": 1.0, "faster": 1.673, "fast": 2.136,
                 "medium": 2.317, "slow": 3.663, "slower": 5.646, "veryslow": 9.493},
        "hevc": {"ultrafast": 0.64, "superfast": 0.774, "veryfast": 1.0, "faster": 1.016, "fast": 1.311,
                 "medium": 1.306, "slow": 2.868, "slower": 9.338, "veryslow": 15.088},
        "av1": {"ultrafast": 0.771, "superfast": 0.685, "veryfast": 1.0, "faster": 1.169, "fast": 1.727,
                "medium": 1.96, "slow": 2.54, "slower": 3.099, "veryslow": 4.269},
    },
    audio_cpu_per_second=0.0206,
    task_seconds=0.15,
    upload_seconds=0.01,
    handoff_seconds=0.05,
    download_mb_per_second=200.0,
    assembly_seconds=0.5,
    assembly_seconds_per_segment=0.01,
    remux_mpix_seconds_per_second=2000.0,
    content_factor=1.23,  # bench.estimate: the processors' CPU over 16 jobs run alone, median against the model
)

# The processors' step scaling (infra/template.yaml, ProcessorScaleOut): (backlog at least, capacity).
SCALING_BANDS = ((1, 1), (2, 2), (4, 4), (8, 8), (16, 16), (32, 32), (64, 200))


@dataclass(frozen=True)
class Source:
    """What the estimate needs of the probed source."""

    size: int  # bytes (the workers download it)
    duration: float
    fps: float
    width: int  # coded size: what the decoder works on
    height: int


@dataclass(frozen=True)
class WorkerSeen:
    """A worker in the presence registry: its name, the cores it may use and the machine it is on."""

    name: str
    cpus: float
    host: str


@dataclass(frozen=True)
class QueuedWork:
    """Another job's tasks in the process queue ahead of this one, and what one of them takes."""

    ready: int
    inflight: int
    cpu_seconds: float | None = None  # per task, from that job's estimate (None: unknown)
    fixed_seconds: float | None = None

    @classmethod
    def of(cls, ready: int, inflight: int, estimate: Mapping[str, Any] | None) -> QueuedWork:
        """From the counts and that job's stored estimate (if it has one)."""
        work = ((estimate or {}).get("basis") or {}).get("work") or {}
        tasks = work.get("tasks") or 0
        if not tasks:
            return cls(ready, inflight)
        return cls(ready, inflight, float(work["cpu_seconds"]) / tasks, float(work["fixed_seconds"]) / tasks)


class FleetKind(StrEnum):
    """Where the processors count comes from."""

    LOCAL = "local"  # the workers running (the presence registry)
    AUTOSCALED = "autoscaled"  # AWS: the scaling bands of the backlog


@dataclass(frozen=True)
class Fleet:
    """The processors the job can count on."""

    kind: FleetKind
    running: int  # processors seen now
    workers: int  # processors assumed: the running ones, plus those the scaling adds
    cores: float  # CPU cores they share in total
    worker_cores: float  # at most one worker's
    starting_seconds: float = 0.0  # when the processors not running yet start taking tasks
    assemblers: int = 1
    assembler_starting_seconds: float = 0.0
    speed: float = 1.0  # a core against the calibration machine's


@dataclass(frozen=True)
class Prices:
    """Fargate list prices per second of a processor (On-Demand/Spot blend) and of an assembler."""

    processor_per_second: float
    assembler_per_second: float
    words: str


@dataclass(frozen=True)
class Task:
    """One unit of the simulation: wall-seconds off the CPU, then CPU-seconds on at most ``max_cores``."""

    fixed: float
    cpu: float
    max_cores: float
    own: bool = True  # the job's (False: work queued ahead)
    download: float = 0.0  # added on a worker's first own task


@dataclass(frozen=True)
class Estimate:
    """``{ready_in_seconds, cost_usd, basis}`` (``ready_in_seconds`` None: no worker to run it)."""

    ready_in_seconds: float | None
    cost_usd: float
    made_at: float  # when (epoch seconds): ``ready_in_seconds`` counts from here
    basis: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ready_in_seconds": self.ready_in_seconds, "cost_usd": self.cost_usd, "made_at": self.made_at,
                "basis": self.basis}


# ------------------------------------------------------------------------------------ the fleet

def band(backlog: int) -> int:
    """Processors the step scaling asks for at ``backlog`` tasks (ready + in flight)."""
    capacity = 0
    for lowest, workers in SCALING_BANDS:
        if backlog >= lowest:
            capacity = workers
    return capacity


def local_fleet(processors: Sequence[WorkerSeen], assemblers: Sequence[WorkerSeen]) -> Fleet:
    """The workers running now, sharing their machines' cores (several on one machine split it)."""
    hosts: dict[str, float] = {}
    for seen in processors:
        hosts[seen.host] = max(hosts.get(seen.host, 0.0), seen.cpus)
    return Fleet(kind=FleetKind.LOCAL, running=len(processors), workers=len(processors), cores=sum(hosts.values()),
                 worker_cores=max((p.cpus for p in processors), default=0.0), assemblers=len(assemblers))


def scaled_fleet(settings: Settings, processors: int, assemblers: int, backlog: int) -> Fleet:
    """AWS: the running processors, or as many as the scaling bands give the backlog (with this
    job's tasks), up to ``max_processors``; those not running yet start after ``scale_out_seconds``."""
    target = min(band(backlog), settings.max_processors)
    workers = max(processors, target)
    return Fleet(kind=FleetKind.AUTOSCALED, running=processors, workers=workers,
                 cores=workers * settings.processor_vcpu, worker_cores=settings.processor_vcpu,
                 starting_seconds=settings.scale_out_seconds if workers > processors else 0.0,
                 assemblers=max(1, assemblers),
                 assembler_starting_seconds=0.0 if assemblers else settings.scale_out_seconds,
                 speed=settings.fargate_vcpu_speed)


def prices(settings: Settings, workers: int) -> Prices:
    """Per-second prices of the template's task sizes; processors beyond the first are
    ``fargate_spot_share`` on Spot (the capacity provider weights), assemblers On-Demand."""
    def hourly(vcpu: float, memory_gb: float) -> float:
        return vcpu * settings.fargate_vcpu_hour_usd + memory_gb * settings.fargate_gb_hour_usd

    on_demand = hourly(settings.processor_vcpu, settings.processor_memory_gb)
    spot = settings.fargate_spot_share * (workers - 1) / workers if workers > 1 else 0.0
    processor = on_demand * (1 - spot * settings.fargate_spot_discount)
    assembler = hourly(settings.assembler_vcpu, settings.assembler_memory_gb)
    words = (f"Fargate: processor {settings.processor_vcpu:g} vCPU + {settings.processor_memory_gb:g} GB "
             f"${on_demand:.4f}/h On-Demand, {spot:.0%} on Spot at -{settings.fargate_spot_discount:.0%}: "
             f"${processor:.4f}/h; assembler {settings.assembler_vcpu:g} vCPU + {settings.assembler_memory_gb:g} GB "
             f"${assembler:.4f}/h (${settings.fargate_vcpu_hour_usd}/vCPU-h, ${settings.fargate_gb_hour_usd}/GB-h)")
    return Prices(processor / 3600, assembler / 3600, words)


# --------------------------------------------------------------------------------------- the work

def encode_speed(calibration: Calibration, codec: str, pixels: int) -> float:
    """Megapixels per CPU-second of ``codec`` at veryfast for frames of ``pixels``: interpolated in
    log(pixels) between the measured sizes, the nearest one outside them."""
    points = sorted(calibration.encode_mpix_per_cpu_second[codec])
    if pixels <= points[0][0]:
        return points[0][1]
    for (p0, s0), (p1, s1) in zip(points, points[1:]):
        if pixels <= p1:
            t = math.log(pixels / p0) / math.log(p1 / p0)
            return s0 + t * (s1 - s0)
    return points[-1][1]


def rung_cpu(calibration: Calibration, rung: Rung, frames: int, preset: str) -> float:
    """CPU-seconds of one rung's encoder over ``frames`` (scale included), start-up included."""
    pixels = rung.width * rung.height
    factor = calibration.preset_factor[rung.codec].get(preset, 1.0)
    speed = encode_speed(calibration, rung.codec, pixels)
    return calibration.encoder_init_cpu_seconds[rung.codec] + frames * pixels / 1e6 / speed * factor


def job_tasks(plan: Plan, options: EncodeOptions, source: Source, calibration: Calibration) -> list[Task]:
    """The job's tasks in queue order (the audio parts first, then every chunk)."""
    cal = calibration
    scale = cal.content_factor
    source_mpix = source.width * source.height / 1e6
    download = source.size / 1e6 / cal.download_mb_per_second
    segments = max(1, len(plan.segment_times))
    tasks = []
    if plan.has_audio:
        # One task per audio part: its seconds plus its pre-roll (and decoding the source up to it,
        # which the calibrated per-second figure, measured on whole tracks, already holds).
        total = plan.audio_duration or 0.0
        parts = plan.audio_parts
        for part in parts:
            start = part.input_start / AUDIO_RATE
            end = total if part.input_end is None else min(total, part.input_end / AUDIO_RATE)
            count = (part.segments or max(1, segments - part.first_segment)) + 1
            tasks.append(Task(fixed=cal.task_seconds + cal.handoff_seconds + count * cal.upload_seconds,
                              cpu=cal.process_cpu_seconds + max(0.0, end - start) * cal.audio_cpu_per_second,
                              max_cores=1.0, download=download))
    for chunk in plan.chunks:
        frames = chunk.frame_count
        files = len(plan.rungs) * (1 + -(-frames // plan.gop_frames))
        cpu = cal.process_cpu_seconds + frames * source_mpix / cal.decode_mpix_per_cpu_second
        cpu += sum(rung_cpu(cal, r, frames, options.x264_preset) for r in plan.rungs)
        tasks.append(Task(fixed=cal.task_seconds + cal.handoff_seconds + files * cal.upload_seconds, cpu=cpu * scale,
                          max_cores=math.inf, download=download))
    return tasks


def backlog_tasks(ahead: Sequence[QueuedWork], workers: int, mean: Task) -> list[Task]:
    """The work queued ahead, as at most one lump per worker (FIFO: all of it starts before ours);
    tasks in flight count half, those of jobs without an estimate as this job's mean task."""
    if workers <= 0:
        return []
    fixed = cpu = 0.0
    count = 0.0
    for work in ahead:
        each_cpu = mean.cpu if work.cpu_seconds is None else work.cpu_seconds
        each_fixed = mean.fixed if work.fixed_seconds is None else work.fixed_seconds
        share = work.ready + 0.5 * work.inflight
        cpu += share * each_cpu
        fixed += share * each_fixed
        count += work.ready + work.inflight
    lumps = min(workers, math.ceil(count))
    return [Task(fixed=fixed / lumps, cpu=cpu / lumps, max_cores=mean.max_cores, own=False)
            for _ in range(lumps)] if lumps else []


# ------------------------------------------------------------------------------------- correction

# The newest CORRECTION_JOBS of the last RECENT_JOBS estimated jobs that finished correct the next
# estimate, from MIN_OUTCOMES on: few, so that it follows a machine whose load changes within
# minutes; a median, and within bounds, so that one stuck or retried job does not swing it.
# (Replayed over bench.estimate's recorded jobs, the newest 10 did better than 5 or 20, and than
# a ratio of sums, which one long job dominates.)
RECENT_JOBS = 20
CORRECTION_JOBS = 10
MIN_OUTCOMES = 3
CORRECTION_BOUNDS = (0.25, 4.0)


@dataclass(frozen=True)
class Outcome:
    """A finished job's stages as the calibration alone estimated them, and as they went."""

    encode_estimate: float
    encode_actual: float
    assembly_estimate: float
    assembly_actual: float

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Outcome | None:
        """From a job record (its ``estimate`` and ``t_*`` marks); None unless it is done and was estimated."""
        estimate = record.get("estimate") or {}
        model = (estimate.get("basis") or {}).get("model") or {}
        assembling, done, made = record.get("t_assembling"), record.get("t_done"), estimate.get("made_at")
        if record.get("state") != "done" or assembling is None or done is None or made is None \
                or not model.get("encode_seconds"):
            return None
        return cls(float(model["encode_seconds"]), float(assembling) - float(made), float(model["assembly_seconds"]),
                   float(done) - float(assembling))


@dataclass(frozen=True)
class Correction:
    """Factors on the calibration's encode and assembly seconds, learnt from recent jobs: how fast
    this fleet runs now (the machine's load, a Fargate vCPU, the footage) against the calibration."""

    encode: float = 1.0
    assembly: float = 1.0
    jobs: int = 0


def correction(outcomes: Sequence[Outcome]) -> Correction:
    """The median actual / estimate of each stage over the newest CORRECTION_JOBS of ``outcomes``
    (newest first; none below MIN_OUTCOMES)."""
    outcomes = outcomes[:CORRECTION_JOBS]
    if len(outcomes) < MIN_OUTCOMES:
        return Correction()
    low, high = CORRECTION_BOUNDS

    def factor(ratios: list[float]) -> float:
        return min(high, max(low, statistics.median(ratios)))

    return Correction(factor([o.encode_actual / o.encode_estimate for o in outcomes]),
                      factor([o.assembly_actual / o.assembly_estimate for o in outcomes if o.assembly_estimate > 0]
                             or [1.0]), len(outcomes))


# -------------------------------------------------------------------------------------- simulation

@dataclass
class _Running:
    task: Task
    worker: int
    started: float  # after the source download: what the part records
    fixed: float  # wall-seconds left off the CPU
    cpu: float  # CPU-seconds left


@dataclass(frozen=True)
class Schedule:
    """What the simulation found: when the job's last task ends, the worker-seconds its tasks took
    (downloads aside), and when the work queued ahead ends."""

    end: float
    busy: float
    ahead_end: float


def _shares(caps: list[float], cores: float) -> list[float]:
    """Water-filling: every task gets an equal share of ``cores``, at most its cap."""
    order = sorted(range(len(caps)), key=lambda i: caps[i])
    out = [0.0] * len(caps)
    left = cores
    for rank, i in enumerate(order):
        give = min(caps[i], left / (len(caps) - rank))
        out[i] = give
        left -= give
    return out


def simulate(tasks: Sequence[Task], fleet: Fleet) -> Schedule:
    """Run ``tasks`` in queue order on the fleet: each goes to the first free worker, spends its
    fixed seconds, then its CPU-seconds at its share of the cores."""
    if not tasks:
        return Schedule(0.0, 0.0, 0.0)
    if fleet.workers <= 0 or fleet.cores <= 0 or fleet.worker_cores <= 0:
        return Schedule(math.inf, 0.0, math.inf)
    used = min(fleet.workers, len(tasks))  # nobody takes a task beyond the last one
    free = [0.0 if w < fleet.running else fleet.starting_seconds for w in range(used)]
    idle = sorted(range(used), key=lambda w: free[w])
    queue = list(reversed(tasks))
    running: list[_Running] = []
    has_source: set[int] = set()
    now = end = busy = ahead_end = 0.0
    while queue or running:
        for w in [w for w in idle if free[w] <= now + _EPS][:len(queue)]:
            task = queue.pop()
            idle.remove(w)
            download = task.download if task.own and w not in has_source else 0.0
            if task.own:
                has_source.add(w)
            running.append(_Running(task, w, now + download, task.fixed + download, task.cpu / fleet.speed))
        computing = [r for r in running if r.fixed <= _EPS]
        rates = _shares([min(fleet.worker_cores, r.task.max_cores) for r in computing], fleet.cores)
        steps = [r.fixed for r in running if r.fixed > _EPS]
        steps += [r.cpu / rate for r, rate in zip(computing, rates) if rate > 0]
        steps += [free[w] - now for w in idle if free[w] > now + _EPS] if queue else []
        dt = min(steps)
        now += dt
        for r in running:
            if r.fixed > _EPS:
                r.fixed -= dt
        for r, rate in zip(computing, rates):
            r.cpu -= rate * dt
        for r in [r for r in running if r.fixed <= _EPS and r.cpu <= _EPS]:
            running.remove(r)
            free[r.worker] = now
            idle.append(r.worker)
            if r.task.own:
                end, busy = now, busy + now - r.started
            else:
                ahead_end = now
    return Schedule(end, busy, ahead_end)


_EPS = 1e-9


# ------------------------------------------------------------------------------------- the estimate

def estimate(plan: Plan, options: EncodeOptions, source: Source, fleet: Fleet, ahead: Sequence[QueuedWork],
             price: Prices, made_at: float, correction: Correction | None = None,
             calibration: Calibration = CALIBRATION) -> Estimate:
    """When the job will be done and what its workers' time costs (see the module docstring)."""
    cal = calibration
    fix = correction or Correction()
    tasks = job_tasks(plan, options, source, cal)
    mean = Task(fixed=sum(t.fixed for t in tasks) / len(tasks), cpu=sum(t.cpu for t in tasks) / len(tasks),
                max_cores=math.inf)
    queue = [*backlog_tasks(ahead, fleet.workers, mean), *tasks]
    model = simulate(queue, fleet)  # the calibration alone: what later corrections are measured against
    schedule = simulate([_slower(t, fix.encode) for t in queue], fleet)
    if fleet.workers <= 0:  # nobody to run it yet: the cost is still what one worker would spend
        alone = replace(fleet, running=1, workers=1, cores=2.0, worker_cores=2.0)
        schedule = replace(schedule, busy=simulate([_slower(t, fix.encode) for t in tasks], alone).busy)
    tracks = len(plan.rungs) + (1 if plan.has_audio else 0)
    assembly = cal.assembly_seconds + len(plan.segment_times) * tracks * cal.assembly_seconds_per_segment
    if "mp4" in options.outputs and plan.rungs:
        assembly += pixel_seconds(plan.rungs[:1], plan.video_duration) / 1e6 / cal.remux_mpix_seconds_per_second
    corrected_assembly = assembly * fix.assembly
    # A part records its seconds after the job read and the download, before publishing.
    recorded = max(0.0, schedule.busy - cal.handoff_seconds * fix.encode * len(tasks))
    ready = None
    if math.isfinite(schedule.end) and fleet.assemblers > 0:
        ready = round(schedule.end + cal.handoff_seconds + fleet.assembler_starting_seconds + corrected_assembly, 1)
    cost = recorded * price.processor_per_second + corrected_assembly * price.assembler_per_second
    queued = sum(w.ready + w.inflight for w in ahead)
    basis = {
        "summary": _summary(fleet, len(tasks), queued, ready),
        "calibration": cal.measured,
        "correction": {"encode": round(fix.encode, 3), "assembly": round(fix.assembly, 3), "jobs": fix.jobs},
        "fleet": fleet.kind,
        "workers": fleet.workers,
        "workers_running": fleet.running,
        "workers_used": min(fleet.workers, len(tasks)),
        "workers_start_in_seconds": fleet.starting_seconds if fleet.workers > fleet.running else 0.0,
        "cores": fleet.cores,
        "assemblers": fleet.assemblers,
        "backlog": {"tasks": queued, "seconds": _seconds(schedule.ahead_end)},
        "work": {"tasks": len(tasks), "cpu_seconds": round(sum(t.cpu for t in tasks), 3),
                 "fixed_seconds": round(sum(t.fixed for t in tasks), 3),
                 "pixel_seconds": pixel_seconds(plan.rungs, plan.video_duration)},
        "encode_seconds": _seconds(schedule.end),
        "assembly_seconds": round(corrected_assembly, 2),
        "model": {"encode_seconds": _seconds(model.end), "assembly_seconds": round(assembly, 2)},
        "worker_seconds": round(recorded + corrected_assembly, 2),
        "price": price.words,
        "usd_per_second": {"processor": price.processor_per_second, "assembler": price.assembler_per_second},
    }
    return Estimate(ready, round(cost, 6), made_at, basis)


def _slower(task: Task, factor: float) -> Task:
    return replace(task, fixed=task.fixed * factor, cpu=task.cpu * factor, download=task.download * factor)


def _seconds(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def _summary(fleet: Fleet, tasks: int, queued: int, ready: float | None) -> str:
    if fleet.kind is FleetKind.LOCAL:
        who = (f"{fleet.running} processor(s) running on {fleet.cores:g} core(s)" if fleet.running
               else "no processor running")
        if not fleet.assemblers:
            who += ", no assembler running"
        price = "cost: the Fargate price of the same worker-seconds (a local run costs nothing)"
    else:
        who = f"{fleet.workers} processor(s) by the scaling bands ({fleet.running} running)"
        price = "cost: Fargate list prices"
    wait = "; not ready before a worker starts" if ready is None else ""
    return f"{who}; {tasks} task(s) of this job, {queued} queued ahead{wait}; {price}"


# ----------------------------------------------------------------------------------------- actual

def actual(job: Mapping[str, Any], parts: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """What a done job took, next to its estimate: seconds from the estimate to ``done``, and the
    seconds its parts (``None``: not read, no cost) and its assembly recorded, at the estimate's
    prices. None before ``done`` or without an estimate."""
    estimate = job.get("estimate") or {}
    made, done = estimate.get("made_at"), job.get("t_done")
    if made is None or done is None:
        return None
    cost = None
    if parts is not None:
        rates = (estimate.get("basis") or {}).get("usd_per_second") or {}
        assembly = max(0.0, done - job.get("t_assembling", done))
        recorded = sum(float(p.get("seconds") or 0.0) for name, p in parts.items() if name != "assembly")
        cost = round(recorded * rates.get("processor", 0.0) + assembly * rates.get("assembler", 0.0), 6)
    return {"ready_in_seconds": round(done - made, 1), "cost_usd": cost}
