"""``make demo``: render a 60 s 1080p clip with sound, transcode it through the full local stack
(upload via the API, S3 event, chunker, parallel processors, assembler) into the whole package
(HLS + DASH ladder and the MP4, playable from disk) and print the summary."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from devstack.cli import main as cli_main
from devstack.testsrc import make_synthetic_clip


def main() -> int:
    """Run the demo; returns the transcode's exit code."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", default=".demo")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = p.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"source-{args.seconds:g}s-1080p.mp4"
    if not source.exists():
        print(f"rendering {source} ({args.seconds:g} s of 1080p30 test pattern with grain and a tone)…",
              file=sys.stderr)
        t0 = time.monotonic()
        make_synthetic_clip(str(source) + ".tmp.mp4", args.seconds)
        os.replace(str(source) + ".tmp.mp4", source)
        print(f"rendered in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    output = folder / "package"
    print(f"transcoding {source} → {output}/ (master.m3u8, manifest.mpd, the MP4) with {args.workers} "
          "processor workers…", file=sys.stderr)
    return cli_main(["transcode", str(source), "-o", str(output), "--outputs", "hls,dash,mp4",
                     "--workers", str(args.workers), "--json"])


if __name__ == "__main__":
    sys.exit(main())
