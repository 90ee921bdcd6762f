"""The ``framefleet`` command: ``up``, ``transcode`` and ``keys`` (workers run ``python -m workers``)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from devstack.client import ApiError, Client


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _options(args: argparse.Namespace) -> dict[str, Any]:
    names = {"crf": "crf", "x264_preset": "x264_preset", "max_height": "max_height",
             "chunk_seconds": "chunk_seconds", "preset": "preset", "segment_seconds": "segment_seconds"}
    options = {opt: getattr(args, arg) for arg, opt in names.items() if getattr(args, arg, None) is not None}
    options["outputs"] = _outputs(args)
    if args.codecs:
        options["codecs"] = _list(args.codecs)
    if args.ladder and args.ladder != "auto":
        try:
            heights = [int(h) for h in _list(args.ladder)]
        except ValueError:
            raise SystemExit("framefleet: --ladder is auto or a comma list of heights (1080,720,360)") from None
        options["ladder"] = [{"height": h, "codec": c} for c in options.get("codecs", ["h264"]) for h in heights]
    return options


def _outputs(args: argparse.Namespace) -> list[str]:
    """``--outputs``; without it an ``-o …mp4`` is just the MP4 (as before streaming), a folder all three."""
    if args.outputs:
        return _list(args.outputs)
    return ["mp4"] if args.output.lower().endswith(".mp4") else ["hls", "dash", "mp4"]


class ProgressBar:
    """One line on stderr, redrawn in place on a terminal, a line per state change otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, status: dict[str, Any]) -> None:
        p = status["progress"]
        width = 30
        filled = int(width * p["percent"] / 100)
        line = (f"{status['state']:<11} [{'#' * filled}{'.' * (width - filled)}] {p['percent']:5.1f}% "
                f"chunks {p['chunks_done']}/{p['chunks_total']}")
        if self.tty:
            sys.stderr.write("\r" + line)
            if status["state"] in ("done", "failed", "cancelled"):
                sys.stderr.write("\n")
        elif status["state"] != self.last:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.last = status["state"]


def cmd_transcode(args: argparse.Namespace) -> int:
    """Upload INPUT through the API, wait, download OUTPUT."""
    source, dest = Path(args.input), Path(args.output)
    if not source.is_file():
        print(f"framefleet: {source}: no such file", file=sys.stderr)
        return 2
    started = time.monotonic()
    with ExitStack() as stack:
        api = args.api
        if not api:
            from devstack.stack import start_stack

            # The progress bar owns the terminal: the stack logs only warnings unless LOG_LEVEL says.
            os.environ.setdefault("LOG_LEVEL", "WARNING")
            local = start_stack(workers=args.workers)
            stack.callback(local.close)
            api = local.api_url
        client = Client(api, args.api_key)
        t0 = time.monotonic()
        try:
            job = client.create_job(source, _options(args))
            client.upload(source, job)
        except ApiError as exc:
            return _finish(args, {"state": "failed", "error": str(exc), "job_id": None}, started)
        upload_seconds = time.monotonic() - t0
        status = client.wait(job["job_id"], None if args.json and not sys.stderr.isatty() else ProgressBar())
        summary: dict[str, Any] = {"state": status["state"], "error": status.get("error"), "job_id": job["job_id"],
                                   "timings": {**status["timings"], "client_upload": round(upload_seconds, 3)}}
        if status["state"] == "done":
            t1 = time.monotonic()
            out = status["output"]
            summary["output"] = {k: out.get(k) for k in ("frames", "duration", "width", "height", "size",
                                                        "bitrate", "video_codec", "audio", "renditions")}
            if out.get("url") and _outputs(args) == ["mp4"]:
                client.download(out["url"], dest)
                summary["output"]["path"] = str(dest)
            else:  # a package: the MP4 (if any) beside master.m3u8 and manifest.mpd
                dest.mkdir(parents=True, exist_ok=True)
                files = client.download_package(status.get("playback_url"), status.get("dash_url"), dest)
                if out.get("url"):
                    client.download(out["url"], dest / out["filename"])
                    files.append(out["filename"])
                summary["output"]["path"] = str(dest)
                summary["output"]["files"] = len(files)
            summary["timings"]["download"] = round(time.monotonic() - t1, 3)
            summary["input"] = {"size": source.stat().st_size, "probe": status.get("probe")}
    # After the stack is down, so nothing it logs can follow the summary line.
    return _finish(args, summary, started)


def _finish(args: argparse.Namespace, summary: dict[str, Any], started: float) -> int:
    summary["wall_seconds"] = round(time.monotonic() - started, 3)
    ok = summary["state"] == "done"
    if not ok:
        print(f"framefleet: job {summary['state']}: {summary.get('error')}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    elif ok:
        out = summary["output"]
        if out.get("frames") is not None:
            print(f"{out['path']}: {out['width']}x{out['height']}, {out['frames']} frames, {out['duration']:.3f} s, "
                  f"{out['size']} bytes in {summary['wall_seconds']:.1f} s")
        if out.get("renditions"):
            ladder = ", ".join(f"{r['id']} {r['bandwidth'] // 1000} kb/s" for r in out["renditions"])
            print(f"{out['path']}: {out.get('files', 0)} files, {ladder}")
    return 0 if ok else 1


def cmd_up(args: argparse.Namespace) -> int:
    """Run the whole stack until Ctrl-C."""
    import signal

    from devstack.stack import start_stack

    home = Path(args.home).resolve() if args.home else None
    stack = start_stack(workers=args.workers, api_port=args.port, home=home)
    print(f"framefleet is up\n  API:     {stack.api_url}\n  API key: {stack.api_key}  (owner 'local')\n"
          f"  S3/SQS:  {stack.s3_url}\n  Redis:   {stack.settings.redis_url}\n  logs:    {stack.home}\n"
          "Ctrl-C to stop.", flush=True)
    stopping: list[int] = []
    # Explicit handlers: a background job's SIGINT is ignored by default, and SIGTERM is how
    # service managers stop us.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: stopping.append(s))
    try:
        while not stopping:
            stack.supervise()
            time.sleep(0.5)
    finally:
        stack.close()
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Create, revoke or list API keys (in the Redis at REDIS_URL)."""
    from chalicelib.model.errors import FramefleetError
    from chalicelib.model.limits import LIMIT_NAMES
    from chalicelib.stores.services import get_services

    keys = get_services().keys
    try:
        if args.action == "create":
            limits = {name: getattr(args, name) for name in LIMIT_NAMES}
            print(keys.create(args.owner, args.name or "", limits))
        elif args.action == "revoke":
            keys.revoke(args.key_id)
        else:
            for record in keys.list():
                print(json.dumps(record))
    except FramefleetError as exc:
        print(f"framefleet: {exc}", file=sys.stderr)
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    p = argparse.ArgumentParser(prog="framefleet", description="Chunked, parallel video transcoding.")
    sub = p.add_subparsers(dest="command", required=True)
    cores = os.cpu_count() or 2

    up = sub.add_parser("up", help="run the whole stack locally until Ctrl-C")
    up.add_argument("--workers", type=int, default=cores, help="processor processes (default: cores)")
    up.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    up.add_argument("--home", help="folder for data and logs (default: a temporary folder)")
    up.set_defaults(func=cmd_up)

    tc = sub.add_parser("transcode", help="transcode one file through the pipeline")
    tc.add_argument("input")
    tc.add_argument("-o", "--output", required=True,
                    help="an .mp4 file, or a folder for the package (master.m3u8, manifest.mpd, segments, MP4)")
    tc.add_argument("--outputs", help="comma list of hls,dash,mp4 (default: mp4 for -o x.mp4, else all three)")
    tc.add_argument("--codecs", help="comma list of h264,hevc,av1 (default h264)")
    tc.add_argument("--segment-seconds", type=float, help="segment (and GOP) length, 1-10 s (default 2)")
    tc.add_argument("--ladder", help="auto (default) or comma list of rung heights, e.g. 1080,720,360")
    tc.add_argument("--workers", type=int, default=cores)
    tc.add_argument("--api", help="use a running stack at this URL instead of starting one")
    tc.add_argument("--api-key", help="API key for --api (default: $FRAMEFLEET_API_KEY)")
    tc.add_argument("--preset", help="output preset (default: web)")
    tc.add_argument("--chunk-seconds", type=float)
    tc.add_argument("--crf", type=int)
    tc.add_argument("--x264-preset")
    tc.add_argument("--max-height", type=int)
    tc.add_argument("--json", action="store_true", help="print a JSON summary as the last stdout line")
    tc.set_defaults(func=cmd_transcode)

    keys = sub.add_parser("keys", help="manage API keys (hashed at rest in Redis)")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="issue a key for an owner; prints it once")
    create.add_argument("--owner", required=True)
    create.add_argument("--name")
    create.add_argument("--max-active-jobs", type=int)
    create.add_argument("--max-upload-bytes", type=int)
    create.add_argument("--max-duration-seconds", type=float)
    create.add_argument("--max-pixels", type=int)
    create.add_argument("--max-pixel-seconds-per-day", type=float, help="compute quota per UTC day")
    revoke = actions.add_parser("revoke", help="revoke a key by its id (the part after ffk_)")
    revoke.add_argument("key_id")
    actions.add_parser("list", help="list keys (ids, owners, limits; never secrets)")
    keys.set_defaults(func=cmd_keys)

    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``framefleet`` command."""
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
