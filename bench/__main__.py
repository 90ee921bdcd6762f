"""``python -m bench``: run the benches, save the raw results, write docs/BENCHMARKS.md and the plots.

    python -m bench                      # the full run (`make bench`): ~55 min on 2 quiet cores
    python -m bench --smoke --work DIR   # tiny inputs, a minute: what tests/bench runs
    python -m bench --only quality       # some benches (others are left out of the report)
    python -m bench --only cores         # the real speed-up: the clip on 1 … cores workers
    python -m bench --report-only        # re-render the doc from the saved results
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import audio, control, cores, estimate, gop, overhead, quality, report, scaling, streaming
from bench.common import (
    DEFAULT_WORK,
    MP4_ONLY,
    REPO,
    TINY,
    Profile,
    clip_path,
    full_profile,
    machine,
    smoke_profile,
)
from bench.fleet import Fleet

BENCHES = ("overhead", "quality", "scaling", "control", "gop", "streaming", "estimate", "cores", "audio")
# Benches that start their own stacks (one per worker count) or none: run after the shared one is down.
OWN_STACKS = ("cores", "audio")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(profile_name: str, only: tuple[str, ...], work: Path, cache: Path) -> dict[str, Any]:
    profile = smoke_profile() if profile_name == "smoke" else full_profile()
    results: dict[str, Any] = {"profile": profile.to_dict(), "machine_start": machine(), "benches": {},
                               "durations": {}}
    work.mkdir(parents=True, exist_ok=True)
    log(f"profile {profile.name}, work dir {work}, source cache {cache}")
    benches = results["benches"]
    shared = [name for name in BENCHES if name in only and name not in OWN_STACKS]
    if shared:
        with Fleet(work / "fleet", profile.workers, owners=profile.owners if "control" in only else 0) as fleet:
            log(f"local stack up in {fleet.start_seconds:.1f} s; warm-up job")
            fleet.transcode(clip_path(cache, TINY), work / "warmup.mp4", MP4_ONLY)
            for name in shared:
                _timed(results, name, functools.partial(_shared_bench, name, fleet, profile, cache, work, benches))
    if "cores" in only:
        _timed(results, "cores", lambda: cores.run(profile, cache, work, log=log))
    if "audio" in only:
        _timed(results, "audio", lambda: audio.run(profile.name, work, log=log))
    results["machine_end"] = machine()
    return results


def _shared_bench(name: str, fleet: Fleet, profile: Profile, cache: Path, work: Path,
                  benches: dict[str, Any]) -> dict[str, Any]:
    """Run the bench ``name`` on the shared stack (later benches reuse earlier ones' outputs)."""
    if name == "overhead":
        return overhead.run(fleet, profile, cache, work, log=log)
    if name == "quality":
        return quality.run(fleet, profile, cache, work, benches.get("overhead"), log=log)
    if name == "scaling":
        return scaling.run(fleet, profile, cache, work, benches.get("quality"), log=log)
    if name == "control":
        return control.run(fleet, profile, cache, work, log=log)
    if name == "gop":
        return gop.run(fleet, profile, cache, work, log=log)
    if name == "estimate":
        return estimate.run(fleet, profile, cache, work, log=log)
    return streaming.run(fleet, profile, cache, work, log=log)


def _timed(results: dict[str, Any], name: str, bench: Callable[[], dict[str, Any]]) -> None:
    log(f"{name} …")
    started = time.perf_counter()
    results["benches"][name] = bench()
    results["durations"][name] = round(time.perf_counter() - started, 1)
    log(f"{name} done in {results['durations'][name]:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny inputs (the tests' smoke run)")
    parser.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {','.join(BENCHES)}")
    parser.add_argument("--work", type=Path, help="scratch folder (default: $FRAMEFLEET_BENCH_DIR or "
                                                  f"{DEFAULT_WORK}/<profile>)")
    parser.add_argument("--cache", type=Path, help=f"rendered sources (default {DEFAULT_WORK}/sources)")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    parser.add_argument("--img-dir", type=Path, default=REPO / "docs" / "img")
    parser.add_argument("--report-only", action="store_true", help="re-render the doc from <work>/results.json")
    args = parser.parse_args(argv)
    profile_name = "smoke" if args.smoke else "full"
    work = args.work or DEFAULT_WORK / profile_name
    results_path = work / "results.json"
    if args.report_only:
        results = json.loads(results_path.read_text())
    else:
        only = tuple(b.strip() for b in args.only.split(",") if b.strip())
        unknown = set(only) - set(BENCHES)
        if unknown:
            parser.error(f"unknown bench(es): {', '.join(sorted(unknown))}")
        results = run(profile_name, only, work, args.cache or DEFAULT_WORK / "sources")
        results_path.write_text(json.dumps(results, default=str))
        log(f"raw results: {results_path}")
    doc = report.write(results, args.doc, args.img_dir)
    log(f"wrote {doc}")
    for target in report.targets(results):
        log(f"target: {target['target']}: {target['measured']} → {report.verdict(target['met'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
