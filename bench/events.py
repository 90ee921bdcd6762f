"""``python -m bench.events``: webhook delivery latency and the status lag of polling against
long polling, on the local stack (real sender process, real HTTP receiver on 127.0.0.1).

1. Real jobs: a few small clips submitted together; every event's latency is the time from the
   state change (the payload's ``timestamp``) to the receiver having the request.
2. A burst: 500 jobs become ``uploaded`` at once (driven straight through the job store, as the
   chunker would); latency and the rate the sender drains them at.
3. Status lag: jobs that become ``done`` at a random moment while two clients follow each, one
   polling as ``Client.wait`` did (0.25 s, backing off ×1.25 to 2 s), one long-polling; the lag
   is the time from ``done`` to the client having it.
"""
from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import report, standalone
from bench.common import TINY, Profile, clip_path, percentile
from bench.fleet import Fleet
from chalicelib.model.kinds import FINAL_STATES, JobState
from chalicelib.model.settings import Settings
from chalicelib.stores.jobs import JobStore
from chalicelib.stores.services import build_services
from devstack.client import Client
from tests.support.receivers import Received, webhook_receiver
from tests.support.stack import submit

HEADING = "## 12. Events: webhook delivery and status lag"
OWNER = "bench"  # the owner of the fleet's bench key


def _summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values),
            "mean": statistics.fmean(values)}


def _event_time(r: Received) -> float:
    return datetime.fromisoformat(r.payload["timestamp"].replace("Z", "+00:00")).timestamp()


def _latencies(received: list[Received], accept: Callable[[Received], bool]) -> list[float]:
    return [r.at - _event_time(r) for r in received if r.status < 300 and accept(r)]


def _store(fleet: Fleet) -> JobStore:
    settings = Settings(key_prefix=fleet.info["key_prefix"])
    jobs = build_services(settings, fleet.redis, None).jobs
    assert isinstance(jobs, JobStore)
    return jobs


def real_jobs(fleet: Fleet, cache: Path, count: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``count`` small jobs submitted together: latency of each lifecycle event."""
    with webhook_receiver() as receiver:
        endpoint = fleet.client.add_webhook(receiver.url)
        receiver.secret = endpoint["secret"]
        try:
            source = clip_path(cache, TINY)
            ids = [submit(fleet.client, source, {}) for _ in range(count)]
            for job_id in ids:
                fleet.client.wait(job_id, timeout=600)
            expected = 4 * count  # uploaded, encoding, playable, done
            receiver.wait_for(lambda got: sum(r.status < 300 for r in got) >= expected, timeout=60)
            received = list(receiver.received)
        finally:
            fleet.client.delete_webhook(endpoint["id"])
    mine = set(ids)
    lat = _latencies(received, lambda r: r.payload["data"].get("job_id") in mine)
    by_type: dict[str, list[float]] = {}
    for r in received:
        if r.payload["data"].get("job_id") in mine:
            by_type.setdefault(r.payload["type"], []).append(r.at - _event_time(r))
    log(f"real jobs: {len(lat)} events, p50 {percentile(lat, 50) * 1000:.0f} ms")
    return {"jobs": count, "all": _summary(lat), "by_type": {k: _summary(v) for k, v in sorted(by_type.items())},
            "verified": all(r.verified for r in received)}


def burst(fleet: Fleet, count: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``count`` jobs uploaded at once: latency and drain rate of their ``job.uploaded`` events."""
    jobs = _store(fleet)
    with webhook_receiver() as receiver:
        endpoint = fleet.client.add_webhook(receiver.url, events=["job.uploaded"])
        receiver.secret = endpoint["secret"]
        try:
            ids = [jobs.create({"owner": OWNER, "filename": f"burst-{i}.mp4", "size": 1, "source_key": "none"})
                   for i in range(count)]
            started = time.time()
            for job_id in ids:
                jobs.claim(job_id, "bench", 300)
            claimed = time.time()
            got = receiver.wait_for(lambda rs: sum(r.status < 300 for r in rs) >= count, timeout=300)
            finished = max(r.at for r in got)
        finally:
            fleet.client.delete_webhook(endpoint["id"])
            for job_id in ids:
                jobs.delete(job_id)
    lat = _latencies(got, lambda r: True)
    rate = count / (finished - started)
    log(f"burst of {count}: p50 {percentile(lat, 50) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms, "
        f"{rate:.0f}/s")
    return {"events": count, "all": _summary(lat), "emit_seconds": claimed - started,
            "drain_seconds": finished - started, "per_second": rate, "verified": all(r.verified for r in got)}


def _follow_polling(client: Client, job_id: str) -> float:
    interval = 0.25
    while True:
        if client.job(job_id)["state"] in FINAL_STATES:
            return time.time()
        time.sleep(interval)
        interval = min(interval * 1.25, 2.0)


def _follow_long_poll(client: Client, job_id: str) -> float:
    client.wait(job_id, timeout=120)
    return time.time()


def _note(noticed: dict[str, float], mode: str, follow: Callable[[Client, str], float], client: Client,
          job_id: str) -> None:
    noticed[mode] = follow(client, job_id)


def status_lag(fleet: Fleet, count: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Jobs done at a random moment 1–10 s after two clients start following them."""
    jobs = _store(fleet)
    rng = random.Random(13)
    lags: dict[str, list[float]] = {"polling": [], "long_poll": []}
    for _ in range(count):
        job_id = jobs.create({"owner": OWNER, "filename": "lag.mp4", "size": 1, "source_key": "none"})
        jobs.claim(job_id, "bench", 300)
        jobs.transition(job_id, [JobState.QUEUED], JobState.ENCODING)
        noticed: dict[str, float] = {}
        followers = [threading.Thread(target=_note, args=(noticed, mode, follow, fleet.client, job_id))
                     for mode, follow in (("polling", _follow_polling), ("long_poll", _follow_long_poll))]
        for t in followers:
            t.start()
        time.sleep(rng.uniform(1.0, 10.0))
        jobs.transition(job_id, [JobState.ENCODING], JobState.DONE)
        done_at = float(jobs.get(job_id)[f"t_{JobState.DONE}"])
        for t in followers:
            t.join(30)
        for mode, at in noticed.items():
            lags[mode].append(at - done_at)
        jobs.delete(job_id)
    log("status lag: " + ", ".join(f"{m} p50 {percentile(v, 50) * 1000:.0f} ms" for m, v in lags.items()))
    return {mode: _summary(values) for mode, values in lags.items()}


def run(fleet: Fleet, profile: Profile, cache: Path, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """All three measurements (fewer with the smoke profile)."""
    smoke = profile.name == "smoke"
    return {"real_jobs": real_jobs(fleet, cache, 2 if smoke else 6, log),
            "burst": burst(fleet, 50 if smoke else 500, log),
            "status_lag": status_lag(fleet, 3 if smoke else 20, log)}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def section(result: dict[str, Any]) -> list[str]:
    """The docs/BENCHMARKS.md section."""
    m = result["machine_start"]
    real, burst_, lag = result["real_jobs"], result["burst"], result["status_lag"]
    rows = [[f"{real['jobs']} real jobs together (all their events)", str(real["all"]["n"]),
             _ms(real["all"]["p50"]), _ms(real["all"]["p99"]), _ms(real["all"]["max"])]]
    rows += [[f"… `{kind}`", str(s["n"]), _ms(s["p50"]), _ms(s["p99"]), _ms(s["max"])]
             for kind, s in real["by_type"].items()]
    rows.append([f"burst: {burst_['events']} jobs uploaded at once", str(burst_["all"]["n"]),
                 _ms(burst_["all"]["p50"]), _ms(burst_["all"]["p99"]), _ms(burst_["all"]["max"])])
    lines = [HEADING, "",
             f"Measured by `python -m bench.events` on {m['date']}, commit `{m['commit']}`, {m['cpu']} with "
             f"{m['cores']} cores ({result['seconds'] / 60:.1f} min): the local stack with one webhook sender "
             "process (16 deliveries in flight), a real HTTP receiver on 127.0.0.1 that verifies every signature "
             "with the `standardwebhooks` library. Latency: from the state change (the event's `timestamp`, "
             "taken in the Lua script that made it) to the receiver holding the request.", "",
             *report._table(["events", "n", "p50", "p99", "max"], rows),
             f"The burst was emitted in {burst_['emit_seconds']:.2f} s and delivered by "
             f"{burst_['drain_seconds']:.2f} s: {burst_['per_second']:.0f} deliveries/s from one sender. "
             f"Every signature verified: {real['verified'] and burst_['verified']}.", "",
             "Status lag: a job becomes `done` at a random moment 1–10 s after two clients start following it; "
             "the lag is from `t_done` to the client having the `done` job.", "",
             *report._table(["client", "jobs", "p50", "p99", "max"],
                            [["polling (0.25 s backing off ×1.25 to 2 s, as `Client.wait` did)",
                              str(lag["polling"]["n"]), _ms(lag["polling"]["p50"]), _ms(lag["polling"]["p99"]),
                              _ms(lag["polling"]["max"])],
                             ["long poll (`?wait=20&since=V`, what `Client.wait` and the app do now)",
                              str(lag["long_poll"]["n"]), _ms(lag["long_poll"]["p50"]),
                              _ms(lag["long_poll"]["p99"]), _ms(lag["long_poll"]["max"])]])]
    return lines


def main(argv: list[str] | None = None) -> int:
    return standalone.main("events", __doc__, run, section, argv)


if __name__ == "__main__":
    raise SystemExit(main())
