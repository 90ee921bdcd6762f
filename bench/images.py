"""Bench 10: what the poster and storyboard branches add to a chunk task (issue 13).

The same chunk encode (the workers' ``encode_ladder``: one decode, every rung of the default
ladder) with and without the chunk's image branches, back to back and in alternating order, on
the corpus' 1080p clip; the figure is the CPU seconds of the ffmpeg child (user + system), the
median of the paired differences. Chunk 0 and 1 are in the poster window (candidates and tiles),
chunk 3 draws tiles only.

    python -m bench.images [--reps 5]   # ~2 min on 2 cores; writes §11 of docs/BENCHMARKS.md
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report
from bench.common import REPO, machine, median
from chalicelib.media.probe import probe
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import plan_chunks
from tests.support.media import MEDIA
from workers.media.encode import encode_ladder
from workers.media.images import ChunkImages

SOURCE = MEDIA / "long_1080p_lowbitrate.mp4"
CHUNKS = (0, 1, 3)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(reps: int, source: Path = SOURCE) -> dict[str, Any]:
    """Per chunk: its frames, tiles, whether it makes poster candidates, the CPU seconds without
    images (median) and the paired extra seconds (median and every one)."""
    options = EncodeOptions()
    plan = plan_chunks(probe(str(source)), options)
    rows = []
    for index in CHUNKS:
        chunk = plan.chunks[index]
        images = ChunkImages.of(plan, chunk)
        base, extra = [], []
        for rep in range(reps):
            seconds = {}
            for with_images in ((False, True) if rep % 2 else (True, False)):
                with tempfile.TemporaryDirectory(prefix="ff-bench-img-") as out:
                    before = _child_cpu()
                    encode_ladder(str(source), chunk, plan, options, out, timeout=600,
                                  images=images if with_images else None)
                    seconds[with_images] = _child_cpu() - before
            base.append(seconds[False])
            extra.append(seconds[True] - seconds[False])
        rows.append({"chunk": index, "frames": chunk.frame_count, "seconds": round(chunk.duration, 3),
                     "tiles": len(images.tiles), "poster": images.poster is not None,
                     "cpu_seconds": median(base), "extra_cpu_seconds": median(extra),
                     "extra": [round(e, 3) for e in extra]})
    return {"source": source.name, "rungs": [r.id for r in plan.rungs], "preset": options.x264_preset,
            "reps": reps, "rows": rows}


def section(bench: dict[str, Any], where: dict[str, Any]) -> list[str]:
    """§11 of docs/BENCHMARKS.md."""
    lines = ["## 11. Images: what a chunk task's poster and storyboard branches cost", "",
             f"`python -m bench.images`: the chunk encode of `{bench['source']}` (default options: "
             f"{bench['preset']}, rungs {', '.join(bench['rungs'])}) with and without its image branches, "
             f"{bench['reps']} pairs in alternating order, CPU seconds of the ffmpeg child; measured on "
             f"{where['date']}, commit `{where['commit']}`, {where['cores']} cores, load average "
             f"{' / '.join(f'{x:.2f}' for x in where['load_average'])} (a shared machine: the single pairs scatter).",
             "",
             "| chunk | length | tiles | poster candidates | CPU s without | extra CPU s (median) | extra | pairs |",
             "|---|---|---|---|---|---|---|---|"]
    for r in bench["rows"]:
        lines.append(f"| {r['chunk']} | {r['seconds']:.1f} s ({r['frames']} frames) | {r['tiles']} | "
                     f"{'yes' if r['poster'] else 'no'} | {r['cpu_seconds']:.2f} | {r['extra_cpu_seconds']:+.2f} | "
                     f"{100 * r['extra_cpu_seconds'] / r['cpu_seconds']:+.1f} % | "
                     f"{', '.join(f'{e:+.2f}' for e in r['extra'])} |")
    lines += ["", "The poster candidates are a per-job cost (only the chunks of the first 6 s make them); "
              "the tiles are a few frames scaled and one JPEG per chunk.", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    where = machine()
    started = time.monotonic()
    bench = run(args.reps)
    for r in bench["rows"]:
        print(f"chunk {r['chunk']}: {r['cpu_seconds']:.2f} CPU s, images {r['extra_cpu_seconds']:+.2f} "
              f"({r['extra']})", file=sys.stderr)
    report.splice_section(args.doc, section(bench, where))
    print(f"done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
