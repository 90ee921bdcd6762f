"""Bench 8: the streaming outputs (issue 12) — an adaptive ladder as CMAF HLS + DASH (+ the MP4).

1. Ladder wall-clock: the auto ladder of a 1080p source through the local stack against ONE plain
   ffmpeg command with the same settings (decode once, ``split``, a scale and an x264 per rung
   with the flags of `workers.media.encode.codec_args`, AAC, the ``hls`` muxer), interleaved pairs.
2. Work split: every chunk encoded by one process for all rungs (``ladder_argv``, what the
   workers do) against one process per (chunk × rung), run two at a time like two workers.
3. Time to first playable: from the source landing (the job leaving ``awaiting_upload``) to the
   job's ``playable_at``, for sources of growing length; long jobs are cancelled once playable.
4. Assembly against input length: the assembly stage split into playlists + MPD and the MP4
   remux, with the bytes each reads.
5. Per rung bitrate and VMAF against the same rung from the single ffmpeg command of 1.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import media, procs
from bench.common import Clip, Profile, Timed, _digest, _render, clip_path, median, resized, run_timed
from bench.fleet import Fleet, task_parts
from chalicelib.media import sandbox
from chalicelib.media.probe import probe
from chalicelib.model.facts import ProbeResult
from chalicelib.model.kinds import is_audio_part
from chalicelib.model.ladder import Rung
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Chunk, Plan, decode_start, plan_chunks, seek_preroll
from workers.media import dash, hls
from workers.media.binary import ffmpeg_binary
from workers.media.encode import (
    AUDIO_BITRATE,
    AUDIO_CHANNELS,
    audio_filter,
    audio_start_offset,
    codec_args,
    ladder_argv,
    ladder_filter,
)
from workers.media.stream import collect
from workers.media.verify import verify_stream

AUDIO_GROUP = "audio"
POLL_SECONDS = 0.05
IDLE_SECONDS = 1.0  # no encoder running for this long: the stack is idle again
LADDER_RUNGS = 3  # issue 15: a 3-rung HLS ladder against the plain ffmpeg ladder command


# ------------------------------------------------------------------------------ sources

@dataclass(frozen=True)
class FastClip:
    """A quickly rendered source: testsrc2 + a tone, x264 ``ultrafast`` (no grain: long sources
    render in a fraction of real time), a keyframe every 2 s, at a capped bitrate: at CRF 23
    ultrafast writes ~16 Mb/s of testsrc2 (3.5 GB for 30 min), and the local S3 stand-in (moto)
    reads a whole object into memory for every ranged GET."""

    seconds: float
    width: int = 1920
    height: int = 1080
    fps: int = 30
    video_kbps: int = 2500

    @property
    def label(self) -> str:
        length = f"{self.seconds / 60:g} min" if self.seconds >= 60 else f"{self.seconds:g} s"
        return f"{length} {self.height}p{self.fps}"

    def argv(self, out: str) -> list[str]:
        video = f"testsrc2=size={self.width}x{self.height}:rate={self.fps}:duration={self.seconds:g}"
        tone = f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={self.seconds:g}"
        return [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", tone,
                "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{self.video_kbps}k", "-maxrate",
                f"{self.video_kbps}k", "-bufsize", f"{2 * self.video_kbps}k", "-g", str(2 * self.fps),
                "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", out]


def fast_clip_path(cache: Path, clip: FastClip, base_seconds: float | None = None) -> Path:
    """The rendered clip, cached; with ``base_seconds`` the clip of that length cut or repeated by
    stream copy (a 30 min source is six 5 min renders back to back)."""
    if base_seconds is not None and base_seconds != clip.seconds:
        base = FastClip(base_seconds, clip.width, clip.height, clip.fps, clip.video_kbps)
        return resized(cache, fast_clip_path(cache, base), base_seconds, clip.seconds)
    key = _digest([a for a in clip.argv("OUT") if a != ffmpeg_binary()])
    return _render(cache / f"fast_{clip.width}x{clip.height}_{clip.fps}_{clip.seconds:g}s_{key}.mp4", clip.argv)


# ------------------------------------------------------------------------------ the plain ffmpeg ladder

def _per_stream(args: list[str], index: int) -> list[str]:
    """Encoder flags of one output stream of many: every option gets the stream specifier
    ``:v:index`` (``-crf 23`` → ``-crf:v:0 23``, ``-c:v libx264`` → ``-c:v:0 libx264``)."""
    out = []
    for i in range(0, len(args), 2):
        name, value = args[i], args[i + 1]
        name = name[:-2] if name.endswith(":v") else name
        out += [f"{name}:v:{index}", value]
    return out


def ladder_reference_argv(source: str, probe: ProbeResult, plan: Plan, options: EncodeOptions, out_dir: str,
                          rungs: tuple[Rung, ...] | None = None) -> list[str]:
    """ONE plain ffmpeg command for the whole ladder, the benchmark's reference: decode once, split
    into a scale per rung (``ladder_filter`` over the whole video), an encoder per rung with the
    workers' ``codec_args`` (CRF, maxrate, bufsize, closed fixed GOP), AAC with the workers' audio
    chain, and ffmpeg's own ``hls`` muxer writing CMAF (fMP4) segments of ``segment_seconds``,
    a media playlist per rendition in ``out_dir/<rung id>/`` and ``out_dir/master.m3u8``."""
    rungs = plan.rungs if rungs is None else rungs
    whole = Chunk(index=0, start_frame=0, frame_count=plan.total_frames, seek=0.0, start=0.0,
                  duration=plan.video_duration)
    argv = [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, *sandbox.input_args(source),
            "-filter_complex", ladder_filter(whole, plan, rungs)]
    streams = []
    for i, rung in enumerate(rungs):
        argv += ["-map", f"[v{i}]", *_per_stream(codec_args(rung, plan, options), i)]
        streams.append(f"v:{i},agroup:{AUDIO_GROUP},name:{rung.id}")
    if probe.audio is not None:
        argv += ["-map", f"0:{probe.audio.index}", "-filter:a", audio_filter(audio_start_offset(probe)),
                 "-ac", str(AUDIO_CHANNELS), "-c:a", "aac", "-profile:a", "aac_low", "-b:a", AUDIO_BITRATE]
        streams = [f"a:0,agroup:{AUDIO_GROUP},name:audio", *streams]
    else:
        streams = [s.replace(f",agroup:{AUDIO_GROUP}", "") for s in streams]
    return [
        *argv,
        "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
        "-fps_mode:v", "passthrough",
        "-f", "hls",
        "-hls_segment_type", "fmp4",
        # Cut at every keyframe (one segment per closed GOP, as the workers' segments): half a
        # frame under the GOP's length, so timestamp rounding never skips one.
        "-hls_time", f"{(plan.gop_frames - 0.5) / plan.fps:.6f}",
        "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments",
        "-hls_fmp4_init_filename", "init.mp4",
        "-hls_segment_filename", os.path.join(out_dir, "%v", "%d.m4s"),
        "-master_pl_name", "master.m3u8",
        "-var_stream_map", " ".join(streams),
        os.path.join(out_dir, "%v", "index.m3u8"),
    ]


def join_playlist(playlist: Path, out: Path) -> Path:
    """One fragmented MP4 of a CMAF media playlist: its init segment, then its segments in order."""
    text = playlist.read_text()
    names = [line.split('URI="', 1)[1].split('"', 1)[0] for line in text.splitlines() if "#EXT-X-MAP" in line]
    names += [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as joined:
        for name in names:
            joined.write((playlist.parent / name).read_bytes())
    return out


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------ 1. ladder wall-clock

def ladder_heights(source: Path, rungs: int = LADDER_RUNGS) -> list[int]:
    """The top ``rungs`` H.264 heights of the source's auto ladder (1080/720/540 for 1080p)."""
    _, plan = media.plan_for(source, EncodeOptions(outputs=("hls",)))
    return [r.height for r in plan.rungs if r.codec == "h264"][:rungs]


def ladder_wallclock(fleet: Fleet, source: Path, pairs: int, work: Path, log: Any) -> dict[str, Any]:
    """The job ``{"outputs": ["hls"], "ladder": [3 explicit rungs]}`` against one plain ffmpeg
    command making the same rungs (the plan of the same options), interleaved pairs."""
    heights = ladder_heights(source)
    ladder = [{"height": h, "codec": "h264"} for h in heights]
    job_options: dict[str, Any] = {"outputs": ["hls"], "ladder": ladder}
    options = EncodeOptions.from_dict(job_options)
    probed, plan = media.plan_for(source, options)
    ref_runs: list[dict[str, Any]] = []
    ff_runs: list[dict[str, Any]] = []
    for pair in range(pairs):
        for which in (("ref", "ff") if pair % 2 == 0 else ("ff", "ref")):
            if which == "ref":
                out = work / "ladder" / f"reference-{pair}"
                out.mkdir(parents=True, exist_ok=True)
                timed = run_timed(ladder_reference_argv(str(source), probed, plan, options, str(out)), timeout=7200)
                if timed.returncode != 0:
                    raise RuntimeError(f"the reference ladder failed: {timed.stderr[-1500:]}")
                ref_runs.append({"wall": timed.wall, "cpu": timed.user + timed.system, "path": str(out),
                                 "bytes": _folder_bytes(out)})
            else:
                out = work / "ladder" / f"framefleet-{pair}"
                record = fleet.transcode(source, out, job_options)
                job = record["timings"]
                ff_runs.append({"wall": record["summary"]["wall_seconds"], "job_total": job.get("total"),
                                "stages": {k: job.get(k) for k in ("upload", "queue", "probe", "encode", "assemble")},
                                "client_upload": record["summary"]["timings"]["client_upload"],
                                "download": record["summary"]["timings"].get("download"),
                                "cpu": sum(v["self"] + v["children"] for v in record["cpu"].values()),
                                "path": str(out), "bytes": _folder_bytes(out),
                                "renditions": record["output"]["renditions"], "job_id": record["job_id"]})
        log(f"  streaming ladder pair {pair + 1}/{pairs}: plain ffmpeg {ref_runs[-1]['wall']:.2f} s, "
            f"framefleet {ff_runs[-1]['wall']:.2f} s")
    ratios = [f["wall"] / r["wall"] for f, r in zip(ff_runs, ref_runs)]
    ref_med, ff_med = median([r["wall"] for r in ref_runs]), median([f["wall"] for f in ff_runs])
    return {
        "rungs": [r.to_dict() for r in plan.rungs],
        "job_options": job_options,
        "chunks": len(plan.chunks),
        "segment_seconds": options.segment_seconds,
        "reference": ref_runs,
        "framefleet": ff_runs,
        "reference_median": ref_med,
        "framefleet_median": ff_med,
        "job_total_median": median([float(f["job_total"] or 0.0) for f in ff_runs]),
        "pair_ratios": ratios,
        "ratio": ff_med / ref_med if ref_med else None,
        "median_pair_ratio": median(ratios),
    }


# ------------------------------------------------------------------------------ 2. work split

def _run_pool(argvs: list[tuple[list[str], Path]], concurrency: int) -> dict[str, Any]:
    """Run the argvs ``concurrency`` at a time in list order (a worker takes the next when free)."""
    def one(item: tuple[list[str], Path]) -> Timed:
        argv, folder = item
        folder.mkdir(parents=True, exist_ok=True)
        return run_timed(argv, timeout=7200)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        runs = list(pool.map(one, argvs))
    wall = time.perf_counter() - started
    failed = [r.stderr[-500:] for r in runs if r.returncode != 0]
    if failed:
        raise RuntimeError(f"work split encode failed: {failed[0]}")
    return {"wall": wall, "cpu": sum(r.user + r.system for r in runs), "processes": len(runs),
            "max_rss_kib": max(r.max_rss_kib for r in runs)}


def _digests(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest()[:16], p.stat().st_size)
            for p in sorted(folder.rglob("*.mp4"))}


def compare_outputs(a: Path, b: Path) -> dict[str, Any]:
    """How many rung files of two work-split variants are byte-identical, and the largest size gap."""
    da, db = _digests(a), _digests(b)
    names = sorted(set(da) | set(db))
    same = [n for n in names if da.get(n, ("", 0))[0] == db.get(n, ("?", 0))[0]]
    gaps = [abs(da[n][1] - db[n][1]) for n in names if n in da and n in db]
    return {"files": len(names), "identical": len(same), "max_size_gap_bytes": max(gaps, default=0)}


def work_split(source: Path, work: Path, concurrency: int, rounds: int, log: Any) -> dict[str, Any]:
    options = EncodeOptions()
    _, plan = media.plan_for(source, options)

    def together(folder: Path) -> list[tuple[list[str], Path]]:
        return [(ladder_argv(str(source), c, plan, options, str(folder / f"c{c.index:05d}")),
                 folder / f"c{c.index:05d}") for c in plan.chunks]

    def apart(folder: Path) -> list[tuple[list[str], Path]]:
        return [(ladder_argv(str(source), c, plan, options, str(folder / f"c{c.index:05d}"), rungs=(r,)),
                 folder / f"c{c.index:05d}") for c in plan.chunks for r in plan.rungs]

    results: dict[str, list[dict[str, Any]]] = {"together": [], "apart": []}
    for n in range(rounds):
        for name in (("together", "apart") if n % 2 == 0 else ("apart", "together")):
            folder = work / "split" / f"{name}-{n}"
            run = _run_pool((together if name == "together" else apart)(folder), concurrency)
            results[name].append(run)
            log(f"  streaming work split round {n + 1}/{rounds}: {name} {run['wall']:.2f} s wall, "
                f"{run['cpu']:.1f} CPU s in {run['processes']} processes")
    compared = compare_outputs(work / "split" / "together-0", work / "split" / "apart-0")
    t_cpu = median([r["cpu"] for r in results["together"]])
    a_cpu = median([r["cpu"] for r in results["apart"]])
    t_wall = median([r["wall"] for r in results["together"]])
    a_wall = median([r["wall"] for r in results["apart"]])
    return {"chunks": len(plan.chunks), "rungs": len(plan.rungs), "concurrency": concurrency, "rounds": rounds,
            "together": results["together"], "apart": results["apart"],
            "together_cpu": t_cpu, "apart_cpu": a_cpu, "together_wall": t_wall, "apart_wall": a_wall,
            "cpu_ratio": a_cpu / t_cpu if t_cpu else None, "wall_ratio": a_wall / t_wall if t_wall else None,
            "identical_outputs": compared["identical"] == compared["files"], "outputs": compared}


# ------------------------------------------------------------------------------ 3 + 4. first playable, assembly

def _ffmpeg_running(fleet: Fleet) -> bool:
    return any(p.argv and os.path.basename(p.argv[0]).startswith("ffmpeg") for p in procs.tree(fleet.pid).values())


def _wait_idle(fleet: Fleet, timeout: float = 300) -> None:
    """Until no encoder has run for IDLE_SECONDS (a cancelled job's tasks wind down)."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if _ffmpeg_running(fleet):
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= IDLE_SECONDS:
            return
        time.sleep(0.1)


def _parts(fleet: Fleet, job_id: str) -> dict[str, dict[str, Any]]:
    raw = fleet.redis.hgetall(f"{fleet.info['key_prefix']}:job:{job_id}:parts")
    return {str(k): json.loads(v) for k, v in raw.items()}


def _kind(part: str) -> tuple[str, int | None]:
    """A part name as (task kind, chunk index): ``v00003`` → ("chunk", 3)."""
    if is_audio_part(part):
        return "audio", None
    if part.startswith("v"):
        return "chunk", int(part[1:])
    return ("assemble" if part == "assembly" else part), None


def _worker_log_tasks(fleet: Fleet, job_id: str, origin: float, record: dict[str, str]) -> list[dict[str, Any]]:
    """The job's finished tasks from the workers' logs (start, end: seconds after ``origin``)."""
    names = task_parts(record, _parts(fleet, job_id))
    found = []
    for task in fleet.tasks(job_id, origin, names):
        kind, index = _kind(task["part"])
        found.append({**task, "kind": kind, "index": index})
    return found


def _assembler_pid(fleet: Fleet) -> int | None:
    for worker in fleet.info["workers"]:
        if worker["name"].startswith("assembler"):
            return int(worker["pid"])
    return None


class AssemblyWatcher:
    """Looks at the assembler from outside every ``interval`` s while a job runs: when its scratch
    folder for the MP4 (``ff-asm-*``: made once the playlists and the MPD are written and the stream
    checked) exists, and the lifetime of each child it runs (the remux ffmpeg, the verifying probe)."""

    def __init__(self, fleet: Fleet, interval: float = 0.01) -> None:
        self.scratch = Path(fleet.info["home"]) / "scratch"
        self.pid = _assembler_pid(fleet)
        self.interval = interval
        self.folders: dict[str, list[float]] = {}
        self.children: dict[tuple[int, int], dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="assembly-watcher", daemon=True)

    def __enter__(self) -> AssemblyWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.time()
            try:
                names = [e.name for e in os.scandir(self.scratch) if e.name.startswith("ff-asm-")]
            except OSError:
                names = []
            for name in names:
                self.folders.setdefault(name, [now, now])[1] = now
            if self.pid is None:
                continue
            for proc in procs.tree(self.pid).values():
                if proc.pid == self.pid:
                    continue
                exe = os.path.basename(proc.argv[0])
                kind = "remux" if exe.startswith("ffmpeg") else (
                    "probe" if any("probe" in a for a in proc.argv) else exe)
                entry = self.children.setdefault((proc.pid, proc.start), {"kind": kind, "first": now, "last": now})
                entry["last"] = now

    def phases(self, assembling: float, done: float) -> dict[str, Any]:
        """Seconds of each phase of the assembly between the job's ``assembling`` and ``done`` marks."""
        inside = [f for f in self.folders.values() if assembling - 1 <= f[0] <= done + 1]
        mp4_start = min((f[0] for f in inside), default=None)
        kids = [c for c in self.children.values() if assembling - 1 <= c["first"] <= done + 1]
        remux = [c for c in kids if c["kind"] == "remux"]
        probe = [c for c in kids if c["kind"] == "probe"]
        out: dict[str, Any] = {"resolution": self.interval,
                               "children": [{"kind": c["kind"], "first": round(c["first"] - assembling, 3),
                                             "last": round(c["last"] - assembling, 3)} for c in kids]}
        if mp4_start is not None:
            out["playlists_mpd"] = round(mp4_start - assembling, 3)
            out["mp4"] = round(done - mp4_start, 3)
        if remux:
            out["remux"] = round(max(c["last"] for c in remux) - min(c["first"] for c in remux), 3)
            if mp4_start is not None:
                out["fetch_segments"] = round(min(c["first"] for c in remux) - mp4_start, 3)
        if probe:
            out["verify"] = round(max(c["last"] for c in probe) - min(c["first"] for c in probe), 3)
            out["upload_and_record"] = round(done - max(c["last"] for c in probe), 3)
        return out


def watch_job(fleet: Fleet, source: Path, options: dict[str, Any], *, cancel_when_playable: bool,
              timeout: float = 7200, give_up: float = 180.0) -> dict[str, Any]:
    """Create a job, upload, then look at its record and parts every POLL_SECONDS: when chunk 0
    was done, when the first audio segment was recorded, ``playable_at``; cancel once playable
    (``cancel_when_playable``; also when it is still not playable ``give_up`` s after landing)
    or wait until done."""
    started = time.time()
    with AssemblyWatcher(fleet) as watcher:
        job = fleet.client.create_job(source, options)
        job_id = job["job_id"]
        fleet.client.upload(source, job)
        uploaded = time.time()
        seen: dict[str, float] = {}
        record: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        cancelled_at = None
        while time.monotonic() < deadline:
            record = fleet.job_record(job_id)
            now = time.time()
            state = record.get("state", "")
            if "chunk0_done" not in seen or "audio_first" not in seen:
                parts = _parts(fleet, job_id)
                if parts.get("v00000", {}).get("state") == "done":
                    seen.setdefault("chunk0_done", now)
                audio = ((parts.get("audio") or {}).get("tracks") or {}).get("audio")
                if audio and audio.get("durations"):
                    seen.setdefault("audio_first", now)
            if state in ("done", "failed", "cancelled"):
                break
            landed_at = float(record.get("t_queued") or now)
            late = now - landed_at > give_up
            if cancel_when_playable and cancelled_at is None and (record.get("playable_at") or late):
                fleet.client.cancel(job_id)
                cancelled_at = time.time()
            time.sleep(POLL_SECONDS)
        if record.get("state") == "failed":
            raise RuntimeError(f"job {job_id} failed: {record.get('error')}")
        _wait_idle(fleet)
    record = fleet.job_record(job_id)
    marks = {k[2:]: float(v) for k, v in record.items() if k.startswith("t_")}
    landed = marks.get("queued")
    origin = landed or started
    # What the API says (GET /jobs/{id}): playable_at, or for a job that was never published
    # before it ended (a single chunk) the time it was done.
    playable = float(record["playable_at"]) if record.get("playable_at") else marks.get("done")
    view = fleet.client.job(job_id)
    phases = watcher.phases(marks["assembling"], marks["done"]) if "assembling" in marks and "done" in marks \
        else {}
    return {
        "job_id": job_id, "state": record.get("state"), "options": options,
        "client_upload": uploaded - started,
        "marks": {k: round(v - origin, 3) for k, v in marks.items()},
        "first_playable": round(playable - landed, 3) if playable and landed else None,
        "playable_from": "playable_at" if record.get("playable_at") else "done",
        "chunk0_done": round(seen["chunk0_done"] - origin, 3) if "chunk0_done" in seen else None,
        "audio_first_seen": round(seen["audio_first"] - origin, 3) if "audio_first" in seen else None,
        "cancelled_at": round(cancelled_at - origin, 3) if cancelled_at else None,
        "tasks": _worker_log_tasks(fleet, job_id, origin, record),
        "parts": _parts(fleet, job_id),
        "plan": json.loads(record["plan"]) if record.get("plan") else None,
        "timings": view["timings"],
        "output": view.get("output"),
        "assembly_phases": phases,
    }


def _first_task(tasks: list[dict[str, Any]], kind: str, index: int | None = None) -> dict[str, Any] | None:
    for task in tasks:
        if task.get("kind") == kind and (index is None or task.get("index") == index):
            return task
    return None


def _playable_row(clip: FastClip, source: Path, run: dict[str, Any]) -> dict[str, Any]:
    plan = Plan.from_dict(run["plan"]) if run["plan"] else None
    chunk0 = _first_task(run["tasks"], "chunk", 0)
    audio = _first_task(run["tasks"], "audio")
    part0 = run["parts"].get("v00000") or {}
    marks = run["marks"]
    return {
        "label": clip.label, "seconds": clip.seconds, "bytes": source.stat().st_size, "job_id": run["job_id"],
        "state": run["state"], "first_playable": run["first_playable"], "playable_from": run["playable_from"],
        "client_upload": round(run["client_upload"], 3),
        "probe_plan": round(marks.get("encoding", 0.0) - marks.get("queued", 0.0), 3),
        "chunks": len(plan.chunks) if plan else None,
        "chunk0_frames": plan.chunks[0].frame_count if plan else None,
        "chunk0_task_start": chunk0["start"] if chunk0 else None,
        "chunk0_task_seconds": chunk0["seconds"] if chunk0 else None,
        # The part's own seconds start once the worker has its local copy of the source.
        "chunk0_encode_seconds": part0.get("seconds"),
        "chunk0_before_encode": round(chunk0["seconds"] - float(part0["seconds"]), 3)
        if chunk0 and part0.get("seconds") is not None else None,
        "chunk0_done_seen": run["chunk0_done"],
        "audio_first_seen": run["audio_first_seen"],
        "audio_task_start": audio["start"] if audio else None,
        "audio_task_seconds": audio["seconds"] if audio else None,
        "cancelled_at": run["cancelled_at"],
    }


def assembly_row(clip: FastClip, run: dict[str, Any]) -> dict[str, Any]:
    """The assembly of a finished job: its stage (the job's marks), its phases seen from outside
    (AssemblyWatcher), and the bytes each phase reads.

    * Playlists + MPD: reads the part records only (0 segment bytes: the records hold every
      segment's duration and size); ``collect`` + ``verify_stream`` + the VOD playlists and the MPD
      are also rebuilt here from the job's real records to time their computation alone.
    * MP4: fetches the top H.264 rung's and the audio's init + segments (sizes from the records),
      remuxes, verifies, uploads.
    """
    plan = Plan.from_dict(run["plan"])
    options = EncodeOptions.from_dict(run["options"] or {})
    parts = run["parts"]
    started = time.perf_counter()
    index = collect(plan, parts)
    verify_stream(plan, index, parts)
    texts = hls.playlists(index)
    manifest = dash.manifest(index) if "dash" in options.outputs else ""
    compute = time.perf_counter() - started
    top = index.video[0]
    audio = index.audio
    inits = len({p["tracks"][top.id]["init"] for n, p in parts.items() if n.startswith("v")})
    task = _first_task(run["tasks"], "assemble")
    output = run.get("output") or {}
    return {
        "label": clip.label, "seconds": clip.seconds, "job_id": run["job_id"], "chunks": len(plan.chunks),
        "segments": index.segments, "renditions": len(index.video) + (1 if audio else 0),
        "assemble_stage": float(run["timings"].get("assemble", 0.0)),
        "assembly_task_seconds": task["seconds"] if task else None,
        "phases": run["assembly_phases"],
        "playlists_mpd": {"compute_seconds": round(compute, 4), "segment_bytes_read": 0,
                          "files_written": len(texts) + (1 if manifest else 0),
                          "bytes_written": sum(len(t) for t in texts.values()) + len(manifest)},
        "mp4": {"segment_bytes_read": sum(top.sizes) + (sum(audio.sizes) if audio else 0),
                "segments_read": len(top.durations) + (len(audio.durations) if audio else 0),
                "top_rung": top.id, "distinct_inits": inits, "output_bytes": output.get("size")},
    }


def plan_facts(source: Path, label: str, chunk_lengths: tuple[float, ...]) -> list[dict[str, Any]]:
    """What the planner makes of ``source`` for each chunk length asked for (pure: probe + plan):
    the first chunk's size (what gates first playable), the other chunks', the frames decoded only
    to seek per chunk boundary and in all; and how long the probe of the local file takes."""
    started = time.perf_counter()
    found = probe(str(source))
    probe_seconds = time.perf_counter() - started
    video = found.video
    assert video is not None
    preroll = seek_preroll(found)
    out = []
    for length in chunk_lengths:
        plan = plan_chunks(found, EncodeOptions(chunk_seconds=length))
        starts = [c.start_frame for c in plan.chunks]
        extra = [s - decode_start(s, video.frame_times, video.keyframes, preroll) for s in starts[1:]]
        out.append({"label": label, "chunk_seconds": length, "chunks": len(plan.chunks),
                    "nominal_chunks": -(-plan.total_frames // max(1, round(length * plan.fps))),
                    "chunk0_frames": plan.chunks[0].frame_count,
                    "other_chunk_frames_max": max((c.frame_count for c in plan.chunks[1:]), default=0),
                    "fps": plan.fps, "seek_extra_per_boundary": median([float(e) for e in extra]) if extra else 0.0,
                    "decode_ratio": (plan.total_frames + sum(extra)) / plan.total_frames,
                    "source_keyframe_interval": video.keyframe_interval,
                    "local_probe_seconds": round(probe_seconds, 3)})
    return out


def first_playable(fleet: Fleet, profile: Profile, cache: Path, log: Any) -> dict[str, Any]:
    rows, assembly = [], []
    runs: list[tuple[float, dict[str, Any]]] = [(s, {}) for s in profile.playable_seconds]
    runs += list(profile.playable_extra)
    for seconds, options in runs:
        clip = FastClip(seconds, *profile.playable_size)
        source = fast_clip_path(cache, clip, profile.playable_base_seconds)
        full = not options and seconds in profile.assembly_seconds
        asked = ", ".join(f"{k} {v}" for k, v in options.items()) or "default options"
        until = "to the end" if full else "cancelled once playable"
        log(f"  streaming: first playable, {clip.label}, {asked} ({until})")
        run = watch_job(fleet, source, options, cancel_when_playable=not full)
        row = {**_playable_row(clip, source, run), "asked": asked}
        rows.append(row)
        log(f"    playable {row['first_playable']} s after the source landed (chunk 0 task "
            f"{row['chunk0_task_seconds']} s, of it before the encode {row['chunk0_before_encode']} s)")
        if full:
            assembly.append(assembly_row(clip, run))
            log(f"    assembly {assembly[-1]['assemble_stage']:.2f} s")
    plans = []
    for seconds in profile.playable_seconds:
        clip = FastClip(seconds, *profile.playable_size)
        plans += plan_facts(fast_clip_path(cache, clip, profile.playable_base_seconds), clip.label,
                            profile.plan_chunk_lengths)
    return {"rows": rows, "assembly": assembly, "plans": plans}


# ------------------------------------------------------------------------------ 5. per rung quality

def rung_quality(ladder: dict[str, Any], source: Path, seconds: float, work: Path, threads: int,
                 log: Any) -> dict[str, Any]:
    """Each rung of the last framefleet and reference ladders of 1: bitrate over the whole clip, VMAF
    over its first ``seconds`` at the rung's own size (the source scaled down to it, bicubic: scoring
    every rung at 1080p would cost minutes per rung on 2 cores)."""
    ff = Path(ladder["framefleet"][-1]["path"])
    ref = Path(ladder["reference"][-1]["path"])
    rows = []
    for rung in ladder["rungs"]:
        row: dict[str, Any] = {"id": rung["id"], "width": rung["width"], "height": rung["height"],
                               "crf": rung["crf"], "maxrate": rung["maxrate"]}
        for name, root in (("framefleet", ff), ("reference", ref)):
            joined = join_playlist(root / rung["id"] / hls.PLAYLIST, work / "rungs" / f"{name}-{rung['id']}.mp4")
            scores = media.quality(joined, source, work / "rungs" / f"{name}-{rung['id']}.vmaf.json",
                                   threads=threads, seconds=seconds)
            row[name] = {**media.video_bitrate(joined), "vmaf": scores["mean"]["vmaf"],
                         "psnr_y": scores["mean"]["psnr_y"], "frames": scores["frames"],
                         "vmaf_min": min(scores["series"]["vmaf"]), "score_seconds": scores["seconds"]}
        row["bitrate_pct"] = 100 * (row["framefleet"]["video_bps"] / row["reference"]["video_bps"] - 1)
        row["vmaf_delta"] = row["framefleet"]["vmaf"] - row["reference"]["vmaf"]
        log(f"  streaming rung {rung['id']}: {row['framefleet']['video_bps'] / 1000:.0f} vs "
            f"{row['reference']['video_bps'] / 1000:.0f} kb/s, VMAF {row['framefleet']['vmaf']:.2f} vs "
            f"{row['reference']['vmaf']:.2f}")
        rows.append(row)
    return {"rows": rows, "vmaf_seconds": seconds, "scaled": "source scaled down to the rung (bicubic)"}


# ------------------------------------------------------------------------------ the bench

def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, log: Any = print) -> dict[str, Any]:
    clip: Clip = profile.streaming_clip
    source = clip_path(cache, clip)
    durations: dict[str, float] = {}
    t = time.perf_counter()
    ladder = ladder_wallclock(fleet, source, profile.streaming_pairs, work / "streaming", log)
    durations["ladder"] = time.perf_counter() - t
    t = time.perf_counter()
    split = work_split(source, work / "streaming", profile.workers, profile.split_rounds, log)
    durations["split"] = time.perf_counter() - t
    t = time.perf_counter()
    quality = rung_quality(ladder, source, min(profile.rung_vmaf_seconds, clip.seconds), work / "streaming",
                           profile.workers, log)
    durations["quality"] = time.perf_counter() - t
    t = time.perf_counter()
    playable = first_playable(fleet, profile, cache, log)
    durations["playable"] = time.perf_counter() - t
    return {"clip": {"label": clip.label, "file": source.name, "frames": round(clip.seconds * clip.fps),
                     "bytes": source.stat().st_size, "width": clip.width, "height": clip.height},
            "playable_base_seconds": profile.playable_base_seconds,
            "ladder": ladder, "split": split, "quality": quality, "playable": playable["rows"],
            "assembly": playable["assembly"], "plans": playable["plans"],
            "durations": {k: round(v, 1) for k, v in durations.items()},
            "workers": profile.workers}
