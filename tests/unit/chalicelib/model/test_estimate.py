"""The estimate's model: the fleet, the queue ahead, the work, the simulation and the basis."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.model.estimate import (
    CALIBRATION,
    CORRECTION_JOBS,
    MIN_OUTCOMES,
    SCALING_BANDS,
    Correction,
    Fleet,
    FleetKind,
    Outcome,
    QueuedWork,
    Source,
    Task,
    WorkerSeen,
    actual,
    band,
    correction,
    encode_speed,
    estimate,
    local_fleet,
    prices,
    scaled_fleet,
    simulate,
)
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, plan_chunks
from chalicelib.model.settings import Settings
from tests.infra.helpers import template
from tests.support.probes import make_probe

SETTINGS = Settings()


def job(seconds: float, size: tuple[int, int] = (1920, 1080), audio: bool = True,
        options: EncodeOptions | None = None) -> tuple[Plan, EncodeOptions, Source]:
    options = options or EncodeOptions()
    probe = make_probe(tuple(i / 30 for i in range(round(seconds * 30))), size=size, audio=audio)
    plan = plan_chunks(probe, options)
    return plan, options, Source(size=int(seconds * 1e6), duration=seconds, fps=30.0, width=size[0], height=size[1])


def machine(workers: int, cores: float = 2.0) -> Fleet:
    """``workers`` processors on one machine of ``cores`` cores, and an assembler."""
    return local_fleet([WorkerSeen(f"p{i}", cores, "host") for i in range(workers)], [WorkerSeen("a", cores, "host")])


def separate(workers: int) -> Fleet:
    """``workers`` processors on machines of their own (2 cores each)."""
    return local_fleet([WorkerSeen(f"p{i}", 2, f"h{i}") for i in range(workers)], [WorkerSeen("a", 2, "ha")])


def ready(plan_options_source: tuple[Plan, EncodeOptions, Source], fleet: Fleet,
          ahead: list[QueuedWork] | None = None) -> float:
    plan, options, source = plan_options_source
    made = estimate(plan, options, source, fleet, ahead or [], prices(SETTINGS, max(1, fleet.workers)), made_at=0.0)
    assert made.ready_in_seconds is not None
    return made.ready_in_seconds


@settings(max_examples=40, deadline=None)
@given(queued=st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=5))
def test_more_work_queued_ahead_never_makes_a_job_sooner(queued: list[int]) -> None:
    one = job(30)
    times = [ready(one, machine(2), [QueuedWork(ready=n, inflight=0, cpu_seconds=3.0, fixed_seconds=0.5)])
             for n in sorted(queued)]
    assert times == sorted(times)
    assert ready(one, machine(2), [QueuedWork(40, 2, 3.0, 0.5)]) > ready(one, machine(2)) + 40 * 3.0 / 2 * 0.9


def test_work_ahead_of_a_job_without_an_estimate_counts_as_this_jobs_tasks() -> None:
    one = job(30)
    assert ready(one, machine(2), [QueuedWork(ready=6, inflight=0)]) > ready(one, machine(2))
    # In flight: about half done.
    assert ready(one, machine(2), [QueuedWork(0, 2)]) < ready(one, machine(2), [QueuedWork(2, 0)])


def test_fewer_workers_take_longer_and_parallelism_stops_at_the_tasks() -> None:
    long = job(60)
    tasks = len(long[0].chunks) + 1  # the audio, then the chunks (1 segment, 2, then 10 s each)
    times = [ready(long, separate(n)) for n in (1, 2, 4, tasks, 2 * tasks)]
    assert times == sorted(times, reverse=True) and times[0] > 2 * times[2]
    assert times[3] == times[4]  # a worker beyond the job's tasks has nothing to do
    single = job(2, audio=False)  # one chunk, no audio: one worker does it all
    assert ready(single, separate(1)) == ready(single, separate(8))


def test_workers_on_one_machine_share_its_cores() -> None:
    long = job(60)
    assert ready(long, machine(4, cores=2)) > ready(long, separate(4)) * 1.5
    assert ready(long, machine(4, cores=2)) == pytest.approx(ready(long, machine(2, cores=2)), rel=0.15)


def test_more_rungs_cost_more_and_take_longer() -> None:
    fleet = machine(2)
    costs = []
    for options in (EncodeOptions(outputs=("mp4",)), EncodeOptions(), EncodeOptions(codecs=("h264", "hevc"))):
        plan, _, source = job(20, options=options)
        costs.append(estimate(plan, options, source, fleet, [], prices(SETTINGS, 2), made_at=0.0))
    assert [len(job(20, options=o)[0].rungs) for o in (EncodeOptions(outputs=("mp4",)), EncodeOptions())] == [1, 5]
    assert costs[0].cost_usd < costs[1].cost_usd < costs[2].cost_usd
    assert costs[0].ready_in_seconds < costs[1].ready_in_seconds < costs[2].ready_in_seconds  # type: ignore[operator]


def test_slower_presets_cost_more() -> None:
    fast, slow = (job(20, options=EncodeOptions(x264_preset=p)) for p in ("ultrafast", "slow"))
    f, s = (estimate(p, o, src, machine(2), [], prices(SETTINGS, 2), made_at=0.0) for p, o, src in (fast, slow))
    assert s.cost_usd > 2 * f.cost_usd


def test_the_basis_says_what_it_was_computed_from() -> None:
    plan, options, source = job(30)
    made = estimate(plan, options, source, machine(2), [QueuedWork(3, 1, 2.0, 0.4)], prices(SETTINGS, 2), made_at=5.0)
    out = made.to_dict()
    assert set(out) == {"ready_in_seconds", "cost_usd", "made_at", "basis"} and out["made_at"] == 5.0
    basis = out["basis"]
    assert basis["calibration"] == CALIBRATION.measured
    assert basis["fleet"] == "local" and basis["workers"] == 2 and basis["workers_running"] == 2 and basis["cores"] == 2
    assert basis["backlog"]["tasks"] == 4 and basis["backlog"]["seconds"] > 0
    assert basis["work"]["tasks"] == len(plan.chunks) + 1 and basis["work"]["cpu_seconds"] > 0
    assert "$0.04048/vCPU-h" in basis["price"] and "Fargate price" in basis["summary"]
    # Locally too: the Fargate price of the worker-seconds.
    rates = basis["usd_per_second"]
    assert made.cost_usd == pytest.approx(basis["worker_seconds"] * rates["processor"], rel=0.2) and made.cost_usd > 0


def test_no_worker_running_locally_gives_no_ready_time_but_a_cost() -> None:
    plan, options, source = job(10)
    made = estimate(plan, options, source, local_fleet([], []), [], prices(SETTINGS, 1), made_at=0.0)
    assert made.ready_in_seconds is None and made.cost_usd > 0
    assert "no processor running" in made.basis["summary"]


def test_the_scaling_bands_are_the_templates() -> None:
    resources = template()["Resources"]
    steps = resources["ProcessorScaleOut"]["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"]
    threshold = resources["ProcessorBacklogAlarm"]["Properties"]["Threshold"]
    assert tuple((int(s["MetricIntervalLowerBound"]) + threshold, s["ScalingAdjustment"]) for s in steps) \
        == SCALING_BANDS
    assert [band(n) for n in (0, 1, 2, 3, 4, 7, 8, 63, 64, 1000)] == [0, 1, 2, 2, 4, 4, 8, 32, 200, 200]
    task = resources["ProcessorTaskDefinition"]["Properties"]
    assert (float(task["Cpu"]) / 1024, float(task["Memory"]) / 1024) == (SETTINGS.processor_vcpu,
                                                                          SETTINGS.processor_memory_gb)
    task = resources["AssemblerTaskDefinition"]["Properties"]
    assert (float(task["Cpu"]) / 1024, float(task["Memory"]) / 1024) == (SETTINGS.assembler_vcpu,
                                                                          SETTINGS.assembler_memory_gb)


def test_an_autoscaled_fleet_follows_the_bands_up_to_the_maximum_and_waits_for_new_workers() -> None:
    aws = Settings(max_processors=8)
    assert scaled_fleet(aws, 0, 0, 3).workers == 2 and scaled_fleet(aws, 0, 0, 100).workers == 8
    assert scaled_fleet(aws, 5, 1, 1).workers == 5  # running ones stay (scale-in is later)
    cold, warm = scaled_fleet(aws, 0, 0, 8), scaled_fleet(aws, 8, 1, 8)
    assert cold.starting_seconds == aws.scale_out_seconds and warm.starting_seconds == 0
    long = job(60)
    assert ready(long, cold) > ready(long, warm) + 2 * aws.scale_out_seconds - 1  # processors, then the assembler


def test_spot_lowers_the_processor_price_beyond_the_first_task() -> None:
    one, many = prices(SETTINGS, 1), prices(SETTINGS, 16)
    assert one.processor_per_second == pytest.approx((2 * 0.04048 + 4 * 0.004445) / 3600)
    assert many.processor_per_second < one.processor_per_second
    assert one.assembler_per_second == pytest.approx((0.04048 + 2 * 0.004445) / 3600)


def test_simulation_shares_the_cores_and_caps_each_task() -> None:
    two = Fleet(kind=FleetKind.LOCAL, running=2, workers=2, cores=2.0, worker_cores=2.0)
    assert simulate([Task(0.0, 2.0, float("inf")), Task(0.0, 2.0, float("inf"))], two).end == pytest.approx(2.0)
    assert simulate([Task(0.0, 2.0, float("inf"))], two).end == pytest.approx(1.0)  # alone: both cores
    assert simulate([Task(0.0, 2.0, 1.0)], two).end == pytest.approx(2.0)  # the audio encoder: one thread
    # A lone task gets both cores once the other one ends.
    assert simulate([Task(0.0, 1.0, float("inf")), Task(0.0, 3.0, float("inf"))], two).end == pytest.approx(2.0)
    ahead = simulate([Task(1.0, 0.0, 1.0, own=False), Task(0.5, 0.0, 1.0)], Fleet(FleetKind.LOCAL, 1, 1, 1.0, 1.0))
    assert (ahead.ahead_end, ahead.end, ahead.busy) == pytest.approx((1.0, 1.5, 0.5))


def test_encode_speed_interpolates_between_the_measured_sizes() -> None:
    points = sorted(CALIBRATION.encode_mpix_per_cpu_second["h264"])
    assert encode_speed(CALIBRATION, "h264", 10) == points[0][1]
    assert encode_speed(CALIBRATION, "h264", 10**9) == points[-1][1]
    (p0, s0), (p1, s1) = points[:2]
    assert min(s0, s1) <= encode_speed(CALIBRATION, "h264", (p0 + p1) // 2) <= max(s0, s1)


def test_queued_work_reads_the_other_jobs_estimate() -> None:
    stored = {"basis": {"work": {"tasks": 4, "cpu_seconds": 8.0, "fixed_seconds": 2.0}}}
    assert QueuedWork.of(3, 1, stored) == QueuedWork(3, 1, 2.0, 0.5)
    assert QueuedWork.of(3, 1, None) == QueuedWork(3, 1)


def test_actual_counts_from_the_estimate_to_done_and_prices_the_recorded_seconds() -> None:
    rates = {"processor": 0.001, "assembler": 0.0001}
    record = {"estimate": {"made_at": 100.0, "basis": {"usd_per_second": rates}}, "t_assembling": 110.0,
              "t_done": 112.5}
    parts: dict[str, dict[str, Any]] = {"v00000": {"seconds": 3.0}, "audio": {"seconds": 1.0},
                                        "assembly": {"state": "done"}}
    assert actual(record, parts) == {"ready_in_seconds": 12.5, "cost_usd": pytest.approx(0.00425)}
    assert actual(record, None) == {"ready_in_seconds": 12.5, "cost_usd": None}
    assert actual({**record, "t_done": None}, parts) is None and actual({"t_done": 1.0}, parts) is None


def done_record(encode_estimate: float, encode: float, assembly_estimate: float = 1.0,
                assembly: float = 1.0) -> dict[str, Any]:
    return {"state": "done", "t_assembling": 100.0 + encode, "t_done": 100.0 + encode + assembly,
            "estimate": {"made_at": 100.0, "basis": {"model": {"encode_seconds": encode_estimate,
                                                               "assembly_seconds": assembly_estimate}}}}


def test_recent_jobs_correct_the_next_estimate_by_their_median_ratio() -> None:
    outcomes = [Outcome.of(done_record(10.0, actual, 1.0, 2.0)) for actual in (15.0, 20.0, 30.0, 200.0)]
    assert None not in outcomes
    learnt = correction([o for o in outcomes if o])
    assert (learnt.encode, learnt.assembly, learnt.jobs) == (2.5, 2.0, 4)  # the stuck job does not swing it
    assert correction([o for o in outcomes if o][:MIN_OUTCOMES - 1]) == Correction()
    assert correction([Outcome(10.0, 1000.0, 1.0, 1.0)] * 3).encode == 4.0  # bounded
    # The newest count: a machine that got busy is followed within a few jobs.
    assert correction([Outcome(10.0, 30.0, 1.0, 1.0)] * CORRECTION_JOBS + [Outcome(10.0, 10.0, 1.0, 1.0)] * 10
                      ).encode == 3.0
    assert Outcome.of({**done_record(10.0, 12.0), "state": "failed"}) is None
    assert Outcome.of({"state": "done", "t_done": 1.0}) is None


def test_a_correction_slows_the_estimate_and_is_kept_apart_from_the_model() -> None:
    plan, options, source = job(30)
    plain = estimate(plan, options, source, machine(2), [], prices(SETTINGS, 2), made_at=0.0)
    slow = estimate(plan, options, source, machine(2), [], prices(SETTINGS, 2), made_at=0.0,
                    correction=Correction(encode=2.0, assembly=3.0, jobs=5))
    assert slow.basis["encode_seconds"] == pytest.approx(2 * plain.basis["encode_seconds"], rel=0.01)
    assert slow.basis["assembly_seconds"] == pytest.approx(3 * plain.basis["assembly_seconds"], rel=0.01)
    assert slow.basis["model"] == plain.basis["model"]  # what later corrections are measured against
    assert slow.basis["correction"] == {"encode": 2.0, "assembly": 3.0, "jobs": 5}
    assert slow.cost_usd > 1.9 * plain.cost_usd and slow.ready_in_seconds > 2 * plain.ready_in_seconds - 1  # type: ignore[operator]
