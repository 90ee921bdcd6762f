"""Bench 5: the control plane — API throughput and latency under load (wrk), Redis commands per chunk.

Load: wrk (a C HTTP load generator, Debian's `wrk`) against 127.0.0.1 only, keep-alive
connections, a Lua script that prints its statistics as JSON. Its own CPU time is measured
(os.wait4) so that a saturated generator would show. Redis commands are counted by the server
(INFO commandstats, which also counts the commands run inside Lua scripts).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench import procs
from bench.common import MP4_ONLY, TINY, Profile, clip_path, run_timed
from bench.fleet import Fleet

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "api.lua"


def wrk_binary() -> str | None:
    return shutil.which("wrk")


def commandstats(fleet: Fleet) -> dict[str, int]:
    stats = fleet.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def _delta(before: dict[str, int], after: dict[str, int], exclude: tuple[str, ...] = ("info",)) -> dict[str, int]:
    out = {k: v - before.get(k, 0) for k, v in after.items() if k not in exclude}
    return {k: v for k, v in out.items() if v}


def wrk(fleet: Fleet, method: str, path: str, keys: list[str], connections: int, seconds: float,
        *, close: bool = False) -> dict[str, Any]:
    binary = wrk_binary()
    assert binary is not None
    threads = max(1, min(2, connections))
    env = {"WRK_METHOD": method, "WRK_PATH": path, "WRK_KEYS": ",".join(keys), "WRK_CLOSE": "1" if close else "",
           "PATH": "/usr/bin:/bin"}
    argv = [binary, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(WRK_SCRIPT), fleet.info["api_url"]]
    ops_before, cpu_before = commandstats(fleet), fleet.cpu()
    run = run_timed(argv, timeout=seconds + 60, env=env)
    ops_after, cpu_after = commandstats(fleet), fleet.cpu()
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({run.returncode}): {run.stderr[-500:]} {run.stdout[-500:]}")
    stats = json.loads(lines[-1])
    duration = stats["duration_us"] / 1e6
    ops = _delta(ops_before, ops_after)
    # No task is queued during a load run: every LPOP is an idle worker's empty poll (EVALSHA + LPOP).
    polls = ops.pop("lpop", 0)
    ops["evalsha"] = ops.get("evalsha", 0) - polls
    # With "Connection: close" the server's closing of each connection shows up as a read error
    # after a complete response: only bad statuses and timeouts count as failed requests there.
    failed = stats["errors"]["status"] + stats["errors"]["timeout"]
    if not close:
        failed += stats["errors"]["connect"] + stats["errors"]["read"] + stats["errors"]["write"]
    return {
        "method": method,
        "connections": connections,
        "threads": threads,
        "requests": stats["requests"],
        "errors": stats["errors"],
        "seconds": duration,
        "rps": stats["requests"] / duration if duration else 0.0,
        "latency_ms": {k: v / 1000 for k, v in stats["latency_us"].items()},
        "ok_fraction": 1 - failed / stats["requests"] if stats["requests"] else 0.0,
        "generator_cpu_fraction": (run.user + run.system) / run.wall,
        "api_cpu_fraction": procs.cpu_delta(cpu_before, cpu_after).get("api+chunker", {}).get("self", 0.0) / run.wall,
        "redis_commands_per_request": sum(ops.values()) / stats["requests"] if stats["requests"] else 0.0,
    }


def _job(fleet: Fleet, source: Path, chunk_seconds: float) -> dict[str, Any]:
    """One job without the CLI (whose status polling would add API calls): upload, then watch the state
    in Redis (one HGET per look, subtracted)."""
    ops_before = commandstats(fleet)
    started = time.monotonic()
    job = fleet.client.create_job(source, {**MP4_ONLY, "chunk_seconds": chunk_seconds})
    fleet.client.upload(source, job)
    job_key = f"{fleet.info['key_prefix']}:job:{job['job_id']}"
    looks = 0
    deadline = time.monotonic() + 600
    state = None
    while time.monotonic() < deadline:
        state = str(fleet.redis.hget(job_key, "state"))
        looks += 1
        if state in ("done", "failed", "cancelled"):
            break
        time.sleep(0.1)
    ended = time.monotonic()
    ops_after = commandstats(fleet)
    if state != "done":
        raise RuntimeError(f"ops job ended {state}")
    chunks = int(fleet.redis.hget(job_key, "chunks_total") or 0)
    ops = _delta(ops_before, ops_after)
    ops["hget"] = ops.get("hget", 0) - looks
    return {"chunks": chunks, "window": ended - started, "ops": ops}


def redis_ops(fleet: Fleet, profile: Profile, cache: Path) -> dict[str, Any]:
    """Redis commands per chunk and per job, without the idle workers' queue polling.

    An empty poll is exactly one EVALSHA of the pop script running one LPOP that finds nothing (the
    idle window below shows it); every LPOP that finds something leases one of the job's tasks. So
    a job's own commands = all commands − 2 × (LPOPs − the job's tasks).
    """
    workers = len(fleet.info["workers"])
    before = commandstats(fleet)
    time.sleep(profile.idle_seconds)
    idle = _delta(before, commandstats(fleet))
    source = clip_path(cache, profile.ops_clip)
    jobs = [_job(fleet, source, length) for length in profile.ops_chunk_lengths]
    for job in jobs:
        tasks = job["chunks"] + 2  # the chunks, the audio, the assembly
        empty_polls = max(0, job["ops"].get("lpop", 0) - tasks)
        net = dict(job["ops"])
        net["evalsha"] = net.get("evalsha", 0) - empty_polls
        net["lpop"] = net.get("lpop", 0) - empty_polls
        job["empty_polls"] = empty_polls
        job["net"] = {k: v for k, v in net.items() if v}
        job["net_total"] = sum(net.values())
    few, many = sorted(jobs, key=lambda j: j["chunks"])
    spread = many["chunks"] - few["chunks"]
    per_chunk = {k: (many["net"].get(k, 0) - few["net"].get(k, 0)) / spread
                 for k in set(few["net"]) | set(many["net"])} if spread else {}
    per_chunk_total = sum(per_chunk.values())
    idle_rate = {k: v / profile.idle_seconds / workers for k, v in idle.items()}  # per idle worker per second
    return {
        "clip": profile.ops_clip.label,
        "idle_per_worker_per_second": sum(idle_rate.values()),
        "idle_breakdown": {k: round(v, 2) for k, v in sorted(idle_rate.items(), key=lambda kv: -kv[1])},
        "jobs": jobs,
        "per_chunk": per_chunk_total,
        "per_chunk_breakdown": {k: round(v, 2) for k, v in sorted(per_chunk.items(), key=lambda kv: -kv[1])
                                if abs(v) >= 0.05},
        "per_job_fixed": few["net_total"] - per_chunk_total * few["chunks"],
    }


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, log: Any = print) -> dict[str, Any]:
    result: dict[str, Any] = {"wrk": None, "load": []}
    log("  control plane: Redis commands per chunk")
    result["redis"] = redis_ops(fleet, profile, cache)
    if wrk_binary() is None:
        result["wrk_missing"] = "wrk is not installed (`make bench` installs Debian's wrk)"
        return result
    version = run_timed([wrk_binary() or "wrk", "--version"], timeout=10)
    banner = (version.stdout or version.stderr or "wrk").splitlines()[0]
    result["wrk"] = banner.split(" Copyright")[0].strip()
    # A job to poll: a finished one (GET then also presigns the download URL: the heaviest read).
    tiny = clip_path(cache, TINY)
    done = fleet.transcode(tiny, work / "control" / "target.mp4", MP4_ONLY)
    get_path = f"/jobs/{done['job_id']}"
    bench_key = [fleet.info["api_key"]]
    owners = fleet.info["owner_keys"] or bench_key
    wrk(fleet, "GET", get_path, bench_key, 4, 1)  # warm-up: server threads, connection pools
    for connections in profile.wrk_connections:
        log(f"  control plane: wrk GET /jobs/{{id}} and POST /jobs, {connections} connections")
        result["load"].append({"route": "GET /jobs/{id}", **wrk(fleet, "GET", get_path, bench_key, connections,
                                                                 profile.wrk_seconds)})
        result["load"].append({"route": f"POST /jobs ({len(owners)} owners)",
                               **wrk(fleet, "POST", "/jobs", owners, connections, profile.wrk_seconds)})
    # The same reads on a new connection each (no keep-alive): separates connection handling
    # from request handling.
    connections = max(profile.wrk_connections)
    result["load"].append({"route": "GET /jobs/{id} (Connection: close)",
                           **wrk(fleet, "GET", get_path, bench_key, connections, profile.wrk_seconds, close=True)})
    # One owner whose jobs pile up (every job of the run stays awaiting its upload), twice in a
    # row: POST /jobs looks at each of the owner's jobs in progress on every call.
    active_key = f"{fleet.info['key_prefix']}:owner:bench:active"
    for attempt in ("1st", "2nd"):
        log(f"  control plane: wrk POST /jobs, one owner, {attempt} run")
        active = fleet.redis.scard(active_key)
        single = wrk(fleet, "POST", "/jobs", bench_key, connections, profile.wrk_seconds)
        result["load"].append({"route": f"POST /jobs (1 owner, {attempt} run)", "owner_active_before": active,
                               **single, "owner_active_after": fleet.redis.scard(active_key)})
    return result
