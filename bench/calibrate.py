"""``python -m bench.calibrate``: the encode speeds the estimate's model is calibrated on, measured here.

Every figure is the CPU time (user + system, ``os.wait4``) of one ffmpeg child built by the
workers' own argv builders (``workers.media.encode.ladder_argv`` for one rung, ``audio_segments_argv``
for the audio) on a rendered testsrc2 clip (grain and a tone: ``devstack.testsrc``), the least of
``--reps`` runs (other work on the machine only ever adds time):

- decode: the source decoded to nothing, at two lengths (ffmpeg's start-up and the per-frame cost);
- per codec, its encoder's start-up (a 360p rung at two lengths) and its speed at every ladder
  height at ``veryfast``, in megapixels per CPU-second once decode and start-up are taken off;
- per codec, every preset against ``veryfast`` (``PRESET_HEIGHT``);
- the audio task per second of source.

It prints the table ``chalicelib.model.estimate`` keeps (paste it there with the date) and writes
the raw runs to ``<work>/calibration.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_WORK, Clip, clip_path, machine, run_timed
from bench.media import plan_for
from chalicelib.media import sandbox
from chalicelib.model.ladder import AUTO_HEIGHTS, rung
from chalicelib.model.options import CODECS, X264_PRESETS, EncodeOptions
from chalicelib.model.plan import Chunk, Plan
from workers.media.binary import ffmpeg_binary
from workers.media.encode import SEGMENT_LIST, audio_segments_argv, ladder_argv

SOURCE = Clip("4 s 1080p30", 4, 1920, 1080)
AUDIO_SOURCE = Clip("20 s 320x180", 20, 320, 180)
LONG, SHORT = 120, 30  # frames of the two encode lengths
PRESET_FRAMES = 60
# Presets against veryfast where each codec's slowest preset stays within seconds: x264 at 720p,
# x265 and SVT-AV1 (10× and 6× slower at veryslow) at 360p.
PRESET_HEIGHT = {"h264": 720, "hevc": 360, "av1": 360}


def _cpu(argv: list[str], reps: int, cwd: Path) -> float:
    best = float("inf")
    for _ in range(reps):
        run = run_timed(argv, timeout=1800, cwd=str(cwd))
        if run.returncode != 0:
            raise RuntimeError(f"calibration run failed: {run.stderr[-800:]}")
        best = min(best, run.user + run.system)
    return best


def _head(frames: int, plan: Plan) -> Chunk:
    return Chunk(index=0, start_frame=0, frame_count=frames, seek=0.0, start=0.0, duration=frames / plan.fps)


def _encode(source: Path, plan: Plan, codec: str, height: int, preset: str, frames: int, reps: int,
            work: Path) -> float:
    width = round(height * 16 / 9 / 2) * 2
    options = EncodeOptions(codecs=CODECS, x264_preset=preset)
    argv = ladder_argv(str(source), _head(frames, plan), plan, options, str(work),
                       rungs=(rung(codec, width, height, plan.fps),))
    return _cpu(argv, reps, work)


def _decode(source: Path, frames: int, reps: int, work: Path) -> float:
    argv = [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, "-i", str(source), "-map", "0:v", "-frames:v", str(frames),
            "-f", "null", "-"]
    return _cpu(argv, reps, work)


def measure(cache: Path, work: Path, reps: int, log: Any = print) -> dict[str, Any]:
    """Every calibration figure (see the module docstring)."""
    work.mkdir(parents=True, exist_ok=True)
    source = clip_path(cache, SOURCE)
    probed, plan = plan_for(source, EncodeOptions(codecs=CODECS))
    assert probed.video is not None
    source_mpix = probed.video.width * probed.video.height / 1e6
    decode = {n: _decode(source, n, reps, work) for n in (SHORT, LONG)}
    per_frame = (decode[LONG] - decode[SHORT]) / (LONG - SHORT)
    startup = max(0.0, decode[SHORT] - SHORT * per_frame)
    log(f"decode: start-up {startup:.3f} CPU s, {source_mpix / per_frame:.1f} source Mpix per CPU s")
    speeds: dict[str, list[list[float]]] = {}
    init: dict[str, float] = {}
    presets: dict[str, dict[str, float]] = {}
    for codec in CODECS:
        short = _encode(source, plan, codec, 360, "veryfast", SHORT, reps, work) - decode[SHORT]
        long = _encode(source, plan, codec, 360, "veryfast", LONG, reps, work) - decode[LONG]
        init[codec] = max(0.0, short - SHORT * (long - short) / (LONG - SHORT))
        speeds[codec] = []
        for height in AUTO_HEIGHTS:
            width = round(height * 16 / 9 / 2) * 2
            cost = _encode(source, plan, codec, height, "veryfast", LONG, reps, work) - decode[LONG] - init[codec]
            mpix = width * height / 1e6
            speeds[codec].append([width * height, round(LONG * mpix / max(cost, 1e-3), 2)])
            log(f"{codec} {height}p veryfast: {speeds[codec][-1][1]:.1f} Mpix per CPU s")
        presets[codec] = {}
        decode_preset = decode[SHORT] + (PRESET_FRAMES - SHORT) * per_frame
        for preset in X264_PRESETS:
            cost = _encode(source, plan, codec, PRESET_HEIGHT[codec], preset, PRESET_FRAMES, reps, work) \
                - decode_preset - init[codec]
            presets[codec][preset] = max(cost, 1e-3)
        base = presets[codec]["veryfast"]
        presets[codec] = {p: round(v / base, 3) for p, v in presets[codec].items()}
        log(f"{codec}: encoder start-up {init[codec]:.3f} CPU s; presets vs veryfast {presets[codec]}")
    audio_source = clip_path(cache, AUDIO_SOURCE)
    audio_probe, audio_plan = plan_for(audio_source, EncodeOptions())
    folder = work / "audio"
    folder.mkdir(exist_ok=True)
    (folder / SEGMENT_LIST).unlink(missing_ok=True)
    audio_cpu = _cpu(audio_segments_argv(str(audio_source), audio_probe, audio_plan, str(folder)), reps, folder)
    audio_per_second = max(0.0, audio_cpu - startup) / AUDIO_SOURCE.seconds
    log(f"audio: {audio_per_second:.4f} CPU s per second of source")
    return {
        "machine": machine(),
        "decode_mpix_per_cpu_second": round(source_mpix / per_frame, 1),
        "process_cpu_seconds": round(startup, 3),
        "encoder_init_cpu_seconds": {c: round(v, 3) for c, v in init.items()},
        "encode_mpix_per_cpu_second": speeds,
        "preset_factor": presets,
        "audio_cpu_per_second": round(audio_per_second, 4),
    }


def table(result: dict[str, Any]) -> str:
    """The figures as the keyword arguments of ``chalicelib.model.estimate.Calibration``."""
    m = result["machine"]
    lines = [f"# Measured by `python -m bench.calibrate` on {m['cpu']} ({m['cores']} cores), {m['date']},",
             f"# commit {m['commit']}, {m['ffmpeg'].split(' Copyright')[0]}; load average {m['load_average'][0]:.2f}."]
    for key in ("decode_mpix_per_cpu_second", "process_cpu_seconds", "encoder_init_cpu_seconds",
                "encode_mpix_per_cpu_second", "preset_factor", "audio_cpu_per_second"):
        value = result[key]
        if key == "encode_mpix_per_cpu_second":
            value = {c: tuple(tuple(p) for p in points) for c, points in value.items()}
        lines.append(f"{key}={value!r},")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK / "calibrate")
    parser.add_argument("--cache", type=Path, default=DEFAULT_WORK / "sources")
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = measure(args.cache, args.work, args.reps, log=lambda m: print(m, file=sys.stderr, flush=True))
    result["seconds"] = round(time.perf_counter() - started, 1)
    (args.work / "calibration.json").write_text(json.dumps(result, indent=1))
    print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
