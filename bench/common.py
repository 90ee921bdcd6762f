"""What the benches share: the run profile (full or smoke), cached sources, timed processes."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.media import sandbox
from devstack.testsrc import synthetic_clip_argv
from workers.media.binary import ffmpeg_binary

REPO = Path(__file__).resolve().parents[1]
# The job default is every output (HLS, DASH and the MP4) with a full ladder; the benches that compare
# the MP4 against one plain ffmpeg MP4 command ask for the MP4 alone (its one uncapped rung, as
# before streaming) to stay apples to apples.
MP4_ONLY: dict[str, Any] = {"outputs": ["mp4"]}
DEFAULT_WORK = Path(os.environ.get("FRAMEFLEET_BENCH_DIR") or Path(tempfile.gettempdir()) / "framefleet-bench")


@dataclass(frozen=True)
class Clip:
    """A synthetic source: testsrc2 + temporal grain + a tone (devstack.testsrc)."""

    label: str
    seconds: float
    width: int
    height: int
    fps: int = 30
    gop: int | None = None  # frames between keyframes; None: 2 s (as cameras write)


TINY = Clip("2 s 160x90", 2, 160, 90)  # warm-up and memory baseline job
GOP_LENGTHS = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 30.0, 60.0)
HD = Clip("60 s 1080p30", 60, 1920, 1080)
HD720_5MIN = Clip("5 min 720p30", 300, 1280, 720)


@dataclass(frozen=True)
class Profile:
    """How big every bench runs. ``full`` is what `make bench` runs; ``smoke`` is for the tests."""

    name: str
    workers: int
    # 1. overhead: (clip, interleaved reference/pipeline pairs)
    overhead: tuple[tuple[Clip, int], ...]
    corpus: tuple[str, ...]          # files of ../shared/media, one pair each
    # 2. quality: the 1080p source and the chunk lengths swept
    quality_clip: Clip
    chunk_lengths: tuple[float, ...]
    # 4. scaling: input lengths made from the quality clip (stream-copied trims / repeats)
    scaling_seconds: tuple[float, ...]
    model_seconds: float             # the input the fleet model is about (the longest scaling input)
    model_workers: tuple[int, ...]
    model_chunk_lengths: tuple[float, ...]
    s3_mb_per_s: float               # stated S3 throughput per worker in the fleet model
    # 5. control plane
    wrk_seconds: float
    wrk_connections: tuple[int, ...]
    owners: int
    ops_clip: Clip
    ops_chunk_lengths: tuple[float, float]
    idle_seconds: float
    # 6. GOP structure: (a source with one keyframe, the chunk length asked for)
    long_gop: tuple[tuple[Clip, float], ...] = ()
    # 8. streaming: the ladder's source and interleaved pairs, work-split rounds, the VMAF window of
    # the per-rung scores; first-playable source lengths (rendered at playable_base_seconds and cut
    # or repeated), and those of them that run to the end for the assembly's cost.
    streaming_clip: Clip = HD
    streaming_pairs: int = 3
    split_rounds: int = 1
    rung_vmaf_seconds: float = 20.0
    playable_seconds: tuple[float, ...] = (30.0, 300.0, 1800.0)
    playable_base_seconds: float = 300.0
    playable_size: tuple[int, int] = (1920, 1080)
    # (source seconds, job options): extra first-playable runs, cancelled once playable
    playable_extra: tuple[tuple[float, dict[str, Any]], ...] = ((30.0, {"chunk_seconds": 2.0}),)
    plan_chunk_lengths: tuple[float, ...] = (2.0, 5.0, 10.0)  # the planner's chunks of those sources
    assembly_seconds: tuple[float, ...] = (30.0, 300.0)
    # 4. the fleet model's derived input (from the measured rates of the scaling runs), and S3's
    # server-side copy rate for the bytes the assembler copies (None: not on its link)
    model_long_seconds: float = 3600.0
    s3_copy_mb_per_s: float | None = None
    # 10. the real speed-up on this machine: the clip through stacks of each worker count, rounds
    cores_clip: Clip = HD
    cores_workers: tuple[int, ...] = (1, 2)
    cores_rounds: int = 2
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)




def full_profile() -> Profile:
    cores = os.cpu_count() or 2
    return Profile(
        name="full",
        workers=cores,
        overhead=((HD, 3), (HD720_5MIN, 1)),
        corpus=(
            "sample_with_increasing_timestamps_360p.mp4",
            "sample_with_increasing_timestamps_320w_240h.mp4",
            "bbb_800x640_768kbps_30fps_avc_pyramid_3b.mp4",
            "bbb_1920x1080_60fps_vp8.webm",
            "sample.avi",
            "bbb_2500ms.ts",
            "sample_video_only.mp4",
            "internal_emulator_transformer_output_180_rotated.mp4",
            "sowt-with-video.mov",
            "sample.mp4",
        ),
        quality_clip=HD,
        chunk_lengths=(2.0, 5.0, 10.0, 30.0),
        scaling_seconds=(30.0, 120.0, 600.0),
        model_seconds=600.0,
        model_workers=tuple(range(1, 257)),
        model_chunk_lengths=GOP_LENGTHS,
        s3_mb_per_s=100.0,
        wrk_seconds=10.0,
        wrk_connections=(1, 16, 64),
        owners=200,
        ops_clip=Clip("24 s 320x180", 24, 320, 180),
        ops_chunk_lengths=(6.0, 2.0),
        idle_seconds=10.0,
        long_gop=((Clip("5 min 640x360, one keyframe", 300, 640, 360, gop=10**6), 2.0),),
        cores_workers=tuple(range(1, cores + 1)),
        # Every round runs the clip once per worker count (~1.5 min on 2 cores); a big machine
        # runs many counts, each faster, so one round there costs about what two cost here.
        cores_rounds=2 if cores <= 8 else 1,
    )


def smoke_profile() -> Profile:
    tiny = Clip("4 s 320x180", 4, 320, 180)
    return Profile(
        name="smoke",
        workers=2,
        overhead=((tiny, 1),),
        corpus=("sample.mp4",),
        quality_clip=tiny,
        chunk_lengths=(1.0, 2.0),
        scaling_seconds=(2.0, 8.0),
        model_seconds=8.0,
        model_workers=(1, 2, 4, 8),
        model_chunk_lengths=(1.0, 2.0, 4.0),
        s3_mb_per_s=100.0,
        wrk_seconds=1.0,
        wrk_connections=(4,),
        owners=5,
        ops_clip=Clip("4 s 160x90", 4, 160, 90),
        ops_chunk_lengths=(2.0, 1.0),
        idle_seconds=1.0,
        long_gop=((Clip("10 s 160x90, one keyframe", 10, 160, 90, gop=10**6), 2.0),),
        streaming_clip=Clip("4 s 640x360", 4, 640, 360),
        streaming_pairs=1,
        rung_vmaf_seconds=2.0,
        playable_seconds=(4.0, 8.0),
        playable_base_seconds=4.0,
        playable_size=(640, 360),
        playable_extra=((8.0, {"chunk_seconds": 2.0}),),
        assembly_seconds=(4.0,),
        model_long_seconds=32.0,
        cores_clip=tiny,
        cores_workers=(1, 2),
        cores_rounds=1,
    )


# ---------------------------------------------------------------------------------------- sources

def _render(out: Path, argv_for: Any) -> Path:
    """Run ``argv_for(tmp_path)`` (trusted ffmpeg argv) into a temp file, then rename: crash-safe cache."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        sandbox.run(argv_for(str(tmp)), timeout=3600, what=f"rendering {out.name}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _digest(argv: list[str]) -> str:
    return hashlib.sha256(json.dumps(argv).encode()).hexdigest()[:10]


def clip_path(cache: Path, clip: Clip) -> Path:
    """The rendered clip (made once, then reused from the cache; the name hashes the argv)."""
    def argv(out: str) -> list[str]:
        return synthetic_clip_argv(out, clip.seconds, clip.width, clip.height, clip.fps, gop=clip.gop)

    key = _digest([a for a in argv("OUT") if a != ffmpeg_binary()])
    gop = f"_gop{clip.gop}" if clip.gop else ""
    name = f"testsrc_{clip.width}x{clip.height}_{clip.fps}_{clip.seconds:g}s{gop}_{key}.mp4"
    return _render(cache / name, argv)


def resized(cache: Path, base: Path, base_seconds: float, seconds: float) -> Path:
    """``base`` cut to ``seconds`` (shorter) or repeated ``seconds / base_seconds`` times, by stream copy.

    Repeating the same rendered minute costs seconds instead of re-rendering ten minutes of 1080p;
    the encoders see the same per-frame statistics either way.
    """
    if seconds == base_seconds:
        return base
    out = cache / f"{base.stem}_as_{seconds:g}s.mp4"
    if seconds < base_seconds:
        return _render(out, lambda tmp: [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, "-i", str(base),
                                         "-t", f"{seconds:g}", "-map", "0", "-c", "copy",
                                         "-movflags", "+faststart", tmp])
    repeats = round(seconds / base_seconds)
    if abs(repeats * base_seconds - seconds) > 1e-6:
        raise ValueError(f"{seconds:g} s is not a whole number of {base_seconds:g} s clips")
    listing = cache / f"{out.stem}.ffconcat"
    listing.write_text("ffconcat version 1.0\n" + f"file '{base.resolve()}'\n" * repeats)
    return _render(out, lambda tmp: [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, "-f", "concat", "-safe", "0",
                                     "-i", str(listing), "-map", "0", "-c", "copy",
                                     "-movflags", "+faststart", tmp])


# -------------------------------------------------------------------------------------- processes

@dataclass
class Timed:
    """A finished child process: wall seconds, its CPU time (os.wait4) and its peak RSS."""

    returncode: int
    wall: float
    user: float
    system: float
    max_rss_kib: int
    stdout: str
    stderr: str


def _peak_rss(pid: int, argv: list[str], done: threading.Event, peak: list[int]) -> None:
    """Poll the child's VmHWM once it runs ``argv``. (wait4's ru_maxrss would also count the parent's
    memory: a vfork'ed child shares it until exec, and the kernel keeps that high-water mark.)"""
    expected = "\0".join(argv) + "\0"
    while not done.wait(0.05):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace") != expected:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except (OSError, ValueError):
            continue


def run_timed(argv: list[str], *, timeout: float, env: dict[str, str] | None = None,
              cwd: str | None = None) -> Timed:
    """Run ``argv`` (trusted) and measure it; the process group is killed after ``timeout``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd,
                                start_new_session=True)
        timer = threading.Timer(timeout, lambda: _killpg(proc.pid))
        timer.start()
        done, peak = threading.Event(), [0]
        sampler = threading.Thread(target=_peak_rss, args=(proc.pid, argv, done, peak), daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
            sampler.join()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Timed(proc.returncode, wall, usage.ru_utime, usage.ru_stime, peak[0],
                     out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------------------------------------ stats

def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


# ----------------------------------------------------------------------------------- provenance

def machine() -> dict[str, Any]:
    """What the numbers were measured on (and how busy it was)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    version = run_timed([ffmpeg_binary(), "-hide_banner", "-version"], timeout=30).stdout.splitlines()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            check=False)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True, check=False)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "ffmpeg": version[0] if version else "",
        "commit": commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else ""),
        "load_average": list(os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
