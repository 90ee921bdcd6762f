"""Bench 9: the estimate a job carries after probing against what it took (issue 13).

Every case is a real job through the local stack (``bench.fleet``): the corpus (../shared/media)
and synthetic clips of several lengths, sizes, codecs and presets, one at a time, then a few at
once (the later ones see the earlier ones' tasks queued ahead). Per job: ``estimate`` and
``actual`` from ``GET /jobs/{id}``, the error (estimate − actual) / actual of ``ready_in_seconds``
and of ``cost_usd``, and the stages apart (encode: estimate to the last part; assembly), which
is what the calibration's stack figures are fitted on.

    python -m bench.estimate            # the full case list, ~5 min on 2 cores; writes §9 of docs/BENCHMARKS.md
    python -m bench.estimate --smoke    # three tiny jobs
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import report, standalone
from bench.common import (
    Clip,
    Profile,
    clip_path,
    median,
    percentile,
)
from bench.fleet import Fleet
from tests.support.media import MEDIA

# (clip, job options): alone, one after the other.
SYNTHETIC: tuple[tuple[Clip, dict[str, Any]], ...] = (
    (Clip("4 s 320x180", 4, 320, 180), {}),
    (Clip("12 s 640x360", 12, 640, 360), {}),
    (Clip("30 s 1280x720", 30, 1280, 720), {}),
    (Clip("20 s 1920x1080", 20, 1920, 1080), {}),
    (Clip("40 s 1920x1080", 40, 1920, 1080), {"outputs": ["mp4"]}),
    (Clip("10 s 640x360", 10, 640, 360), {"codecs": ["h264", "hevc"]}),
    (Clip("10 s 640x360", 10, 640, 360), {"codecs": ["h264", "av1"]}),
    (Clip("20 s 1280x720", 20, 1280, 720), {"x264_preset": "medium", "chunk_seconds": 4}),
)
# Submitted together: the queue holds the earlier ones' tasks when the later ones are estimated.
TOGETHER: tuple[tuple[Clip, dict[str, Any]], ...] = (
    (Clip("30 s 1280x720", 30, 1280, 720), {}),
    (Clip("12 s 640x360", 12, 640, 360), {}),
    (Clip("4 s 320x180", 4, 320, 180), {}),
)
SMOKE: tuple[tuple[Clip, dict[str, Any]], ...] = (
    (Clip("4 s 320x180", 4, 320, 180), {}),
    (Clip("4 s 320x180", 4, 320, 180), {"outputs": ["mp4"]}),
)
CORPUS_SKIP = {"sample_audio_only.mp4", "long_1080p_lowbitrate.mp4"}  # rejected by design / 6 min of 1080p


@dataclass(frozen=True)
class Case:
    label: str
    source: Path
    options: dict[str, Any] = field(default_factory=dict)
    group: str = "alone"


def cases(profile: Profile, cache: Path) -> list[Case]:
    """The jobs to run, in order: the corpus and the synthetic clips alone, then a group together."""
    if profile.name == "smoke":
        alone = [Case(f"{clip.label} {_words(opts)}", clip_path(cache, clip), opts) for clip, opts in SMOKE]
        return [*alone, *(Case(f"together: {c.label}", c.source, c.options, "together") for c in alone)]
    corpus = [Case(name, MEDIA / name) for name in profile.corpus if name not in CORPUS_SKIP]
    synthetic = [Case(f"{clip.label} {_words(opts)}", clip_path(cache, clip), opts) for clip, opts in SYNTHETIC]
    together = [Case(f"together: {clip.label} {_words(opts)}", clip_path(cache, clip), opts, "together")
                for clip, opts in TOGETHER]
    return [*corpus, *synthetic, *together]


def _words(options: dict[str, Any]) -> str:
    if not options:
        return "(default)"
    return "(" + ", ".join(f"{k} {','.join(v) if isinstance(v, list) else v}" for k, v in options.items()) + ")"


def _error(estimated: float | None, actual: float | None) -> float | None:
    if estimated is None or not actual:
        return None
    return (estimated - actual) / actual


def _stack_cpu(fleet: Fleet) -> dict[str, float]:
    """CPU-seconds per role of the stack so far, each with its finished children (the ffmpegs)."""
    return {role: entry.get("self", 0.0) + entry.get("children", 0.0) for role, entry in fleet.cpu().items()}


def _registered(fleet: Fleet) -> None:
    """Wait until every worker is in the presence registry (a job planned before sees none)."""
    prefix = fleet.info["key_prefix"]
    deadline = time.monotonic() + 60
    while (fleet.redis.zcard(f"{prefix}:workers:processor") < fleet.workers
           or fleet.redis.zcard(f"{prefix}:workers:assembler") < 1):
        if time.monotonic() > deadline:
            raise RuntimeError("the workers never showed up in the presence registry")
        time.sleep(0.1)


def _row(fleet: Fleet, case: Case, job_id: str, cpu: dict[str, float] | None = None) -> dict[str, Any]:
    view = fleet.client.job(job_id)
    if view["state"] != "done":  # not this bench's business: listed, not counted
        return {"label": case.label, "group": case.group, "job_id": job_id, "state": view["state"],
                "error_message": view.get("error")}
    record = fleet.job_record(job_id)
    estimate, actual = view["estimate"], view["actual"]
    basis = estimate["basis"]
    made = estimate["made_at"]
    encode = float(record["t_assembling"]) - made
    assembly = float(record["t_done"]) - float(record["t_assembling"])
    return {
        "label": case.label, "group": case.group, "job_id": job_id,
        "chunks": view["progress"]["chunks_total"], "tasks": basis["work"]["tasks"],
        "estimate": {"ready_in_seconds": estimate["ready_in_seconds"], "cost_usd": estimate["cost_usd"],
                     "encode_seconds": basis["encode_seconds"], "assembly_seconds": basis["assembly_seconds"],
                     "backlog": basis["backlog"], "workers": basis["workers"], "cores": basis["cores"],
                     "cpu_seconds": basis["work"]["cpu_seconds"]},
        "actual": {**actual, "encode_seconds": round(encode, 2), "assembly_seconds": round(assembly, 2),
                   "part_seconds": round(sum(p.get("seconds") or 0.0 for p in view["parts"].values()), 2)},
        "parts": {name: part.get("seconds") for name, part in sorted(view["parts"].items()) if name != "assembly"},
        # Measured, for the jobs run alone: the processors' (the model's work) and the rest of the stack's.
        "processor_cpu_seconds": None if cpu is None else round(cpu.get("processor", 0.0), 2),
        "stack_cpu_seconds": cpu and {role: round(v, 2) for role, v in cpu.items()},
        "load_average": list(os.getloadavg()),
        "correction": basis["correction"],
        "model_ready_in_seconds": _model_ready(estimate),
        "model_error": _error(_model_ready(estimate), actual["ready_in_seconds"]),
        "error": {"ready_in_seconds": _error(estimate["ready_in_seconds"], actual["ready_in_seconds"]),
                  "cost_usd": _error(estimate["cost_usd"], actual["cost_usd"])},
    }


def _model_ready(estimate: dict[str, Any]) -> float | None:
    """The ready time the calibration alone gave (without the correction learnt from recent jobs)."""
    basis = estimate["basis"]
    if estimate["ready_in_seconds"] is None or basis["model"]["encode_seconds"] is None:
        return None
    rest = estimate["ready_in_seconds"] - basis["encode_seconds"] - basis["assembly_seconds"]
    return round(basis["model"]["encode_seconds"] + basis["model"]["assembly_seconds"] + rest, 2)


def _submit(fleet: Fleet, case: Case) -> str:
    job = fleet.client.create_job(case.source, case.options)
    fleet.client.upload(case.source, job)
    return str(job["job_id"])


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, log: Any = print) -> dict[str, Any]:
    """Every case through the stack; the rows and the error percentiles."""
    del work
    rows = []
    todo = cases(profile, cache)
    _registered(fleet)
    for case in [c for c in todo if c.group == "alone"]:
        before = _stack_cpu(fleet)
        job_id = _submit(fleet, case)
        fleet.client.wait(job_id, timeout=1800)
        after = _stack_cpu(fleet)
        rows.append(_row(fleet, case, job_id, {role: v - before.get(role, 0.0) for role, v in after.items()}))
        log(_line(rows[-1]))
    group = [c for c in todo if c.group == "together"]
    ids = [_submit(fleet, case) for case in group]
    for job_id in ids:
        fleet.client.wait(job_id, timeout=1800)
    for case, job_id in zip(group, ids):
        rows.append(_row(fleet, case, job_id))
        log(_line(rows[-1]))
    return {"rows": rows, "summary": summary(rows), "fit": fit(rows), "workers": fleet.workers}


def fit(rows: list[dict[str, Any]]) -> dict[str, float]:
    """What the calibration would need to match these jobs (medians of actual / estimate): the
    processors' CPU (jobs run alone), the encode stage and the assembly."""
    alone = [r for r in rows if r.get("processor_cpu_seconds")]
    done = [r for r in rows if "estimate" in r]
    return {
        "cpu": median([r["processor_cpu_seconds"] / r["estimate"]["cpu_seconds"] for r in alone]),
        "encode": median([r["actual"]["encode_seconds"] / r["estimate"]["encode_seconds"] for r in done
                          if r["estimate"]["encode_seconds"]]),
        "assembly": median([r["actual"]["assembly_seconds"] / r["estimate"]["assembly_seconds"] for r in done]),
    }


def _line(row: dict[str, Any]) -> str:
    if "estimate" not in row:
        return f"  {row['label']}: {row['state']} ({row['error_message']}): not counted"
    e, a = row["estimate"], row["actual"]
    return (f"  {row['label']}: ready {e['ready_in_seconds']} s est / {a['ready_in_seconds']} s actual "
            f"(encode {e['encode_seconds']} / {a['encode_seconds']}, assembly {e['assembly_seconds']} / "
            f"{a['assembly_seconds']}); cost ${e['cost_usd']:.6f} / ${a['cost_usd']:.6f}; processor CPU s "
            f"{e['cpu_seconds']} / {row['processor_cpu_seconds']}; load {row['load_average'][0]:.1f}; "
            f"model alone {row['model_ready_in_seconds']} s, correction {row['correction']}")


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p95 of |error| and the median signed error (bias), of each figure, over every job."""
    done = [r for r in rows if "error" in r]
    out: dict[str, Any] = {"jobs": len(done), "not_done": len(rows) - len(done)}
    figures = {"ready_in_seconds": [r["error"]["ready_in_seconds"] for r in done],
               "cost_usd": [r["error"]["cost_usd"] for r in done],
               "model_ready_in_seconds": [r["model_error"] for r in done]}
    for figure, found in figures.items():
        errors = [e for e in found if e is not None]
        out[figure] = {"p50": percentile([abs(e) for e in errors], 50), "p95": percentile([abs(e) for e in errors], 95),
                       "bias": median(errors), "n": len(errors)}
    return out


def _printed(result: dict[str, Any]) -> str:
    s = result["summary"]
    fit = ", ".join(f"{k} {v:.2f}" for k, v in result["fit"].items())
    return (f"actual / estimate (medians): {fit}\n"
            f"ready_in_seconds |error| p50 {s['ready_in_seconds']['p50']:.1%} p95 {s['ready_in_seconds']['p95']:.1%} "
            f"(bias {s['ready_in_seconds']['bias']:+.1%}); cost_usd p50 {s['cost_usd']['p50']:.1%} "
            f"p95 {s['cost_usd']['p95']:.1%} (bias {s['cost_usd']['bias']:+.1%}) over {s['jobs']} jobs")


def main(argv: list[str] | None = None) -> int:
    return standalone.main("estimate", __doc__, run, report.estimate_section, argv, summary=_printed)


if __name__ == "__main__":
    raise SystemExit(main())
