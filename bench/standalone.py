"""One bench on its own (``python -m bench.<name>``): its own local stack, its result saved, its
section of docs/BENCHMARKS.md replaced and the rest of the doc kept."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report
from bench.common import DEFAULT_WORK, REPO, Profile, full_profile, machine, smoke_profile
from bench.fleet import Fleet

Runner = Callable[[Fleet, Profile, Path, Path, Callable[[str], None]], dict[str, Any]]


def main(name: str, description: str | None, run: Runner, section: Callable[[dict[str, Any]], list[str]],
         argv: list[str] | None = None, summary: Callable[[dict[str, Any]], str] | None = None) -> int:
    """Parse the bench's flags, run it on a fresh stack, write ``{name}.json`` and its section."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--cache", type=Path, default=DEFAULT_WORK / "sources")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "BENCHMARKS.md",
                        help="the doc whose section of this bench is replaced (the rest is kept)")
    args = parser.parse_args(argv)
    profile = smoke_profile() if args.smoke else full_profile()
    work = args.work or DEFAULT_WORK / f"{name}-{profile.name}"
    work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    started, start = time.perf_counter(), machine()
    with Fleet(work / "fleet", profile.workers) as fleet:
        result = run(fleet, profile, args.cache, work, log)
    result.update(machine_start=start, machine_end=machine(), seconds=round(time.perf_counter() - started, 1),
                  profile=profile.name)
    (work / f"{name}.json").write_text(json.dumps(result, indent=1))
    report.splice_section(args.doc, section(result))
    print(summary(result) if summary else "\n".join(section(result)))
    return 0
