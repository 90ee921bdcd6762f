"""The whole local stack (Valkey, moto server over HTTP, Chalice API, event pump, worker
processes, real ffmpeg): every file of the shared corpus in, a verified MP4 out."""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from devstack.client import ApiError, Client
from devstack.testsrc import make_synthetic_clip
from tests.support.media import CORPUS_FRAMES, decode_report, ffmpeg_cmd
from tests.support.stack import assert_frame_exact, run_job, running_part, submit, wait_for, worker

S3_MIN_PART = 5 * 1024**2
LONG = "long_1080p_lowbitrate.mp4"
LONG_CUT_SECONDS = 60.0
FAST = {"x264_preset": "ultrafast", "chunk_seconds": 1.0}


def stream_facts(path: Path) -> dict[str, Any]:
    """Codec facts of an output, read with PyAV (independent of the pipeline's own verifier)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        facts = {"codec": v.codec_context.name, "profile": v.codec_context.profile,
                 "pix_fmt": v.codec_context.pix_fmt, "width": v.codec_context.width,
                 "height": v.codec_context.height, "video_duration": float(v.duration * v.time_base),
                 "audio": None}
        if c.streams.audio:
            a = c.streams.audio[0]
            facts["audio"] = {"codec": a.codec_context.name, "rate": a.codec_context.sample_rate,
                              "channels": a.codec_context.channels,
                              "duration": float(a.duration * a.time_base)}
    return facts


@pytest.fixture(scope="module")
def client(stack: Any) -> Client:
    return Client(stack.api_url)


@pytest.fixture(scope="module")
def long_cut(media: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The 6-minute file's first whole GOPs from LONG_CUT_SECONDS on, by stream copy (the segment
    muxer cuts at the first keyframe after it): the same encode, GOP structure and audio, several
    10 s chunks, a sixth of the frames. With its decoded frame count, the truth for the cut."""
    folder = tmp_path_factory.mktemp("long-cut")
    proc = ffmpeg_cmd("-v", "error", "-i", str(media / LONG), "-map", "0", "-c", "copy", "-f", "segment",
                      "-segment_time", f"{LONG_CUT_SECONDS:g}", "-segment_format", "mp4", "-reset_timestamps", "1",
                      str(folder / "cut%d.mp4"))
    assert proc.returncode == 0, proc.stderr
    cut = folder / "cut0.mp4"
    frames, errors = decode_report(cut)
    assert errors == "" and LONG_CUT_SECONDS * 30 <= frames < CORPUS_FRAMES[LONG] / 3, (frames, errors)
    return cut, frames


@pytest.mark.parametrize("name", sorted(CORPUS_FRAMES))
def test_corpus_file_is_transcoded_frame_exact(client: Client, media: Path, tmp_path: Path, name: str,
                                               request: pytest.FixtureRequest) -> None:
    source, expected = media / name, CORPUS_FRAMES[name]
    options = FAST
    if name == LONG:
        # The 6-minute file's class (long GOPs of black 1080p, 10 s chunks at 360p: decoding, not
        # start-ups) on its first minute: 7 chunks instead of 37 (65 s of CI).
        source, expected = request.getfixturevalue("long_cut")
        options = {**FAST, "max_height": 360, "chunk_seconds": 10.0}
    status = run_job(client, source, options)
    assert status["state"] == "done", status.get("error")
    if name == LONG:
        assert status["progress"]["chunks_total"] >= 6
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)

    frames, errors = decode_report(out)
    assert frames == expected, "output must have exactly the source's decoded frames"
    assert errors == "", f"output does not decode cleanly: {errors}"
    facts = stream_facts(out)
    assert facts["codec"] == "h264" and facts["profile"] == "High" and facts["pix_fmt"] == "yuv420p"
    assert facts["width"] % 2 == 0 and facts["height"] % 2 == 0
    src = status["probe"]
    fps = expected / src["video"]["duration"]
    assert abs(facts["video_duration"] - src["video"]["duration"]) <= 1.0 / fps + 1e-3
    if src.get("audio"):
        assert facts["audio"] is not None
        assert facts["audio"]["codec"] == "aac" and facts["audio"]["rate"] == 48000
        assert facts["audio"]["channels"] == 2
    else:
        assert facts["audio"] is None
    progress = status["progress"]
    assert progress["chunks_done"] == progress["chunks_total"] >= 1 and progress["percent"] == 100.0
    assert status["output"]["frames"] == expected
    assert set(status["timings"]) >= {"upload", "queue", "probe", "encode", "assemble", "total"}


@pytest.mark.parametrize("name", ["sample.avi", "bbb_2500ms.ts"])
def test_default_options_on_a_source_with_held_first_frames(client: Client, media: Path, tmp_path: Path,
                                                            name: str) -> None:
    # The whole default ladder, HLS + DASH + MP4: the assembler's stream check must pass.
    status = run_job(client, media / name, {})
    assert_frame_exact(client, status, CORPUS_FRAMES[name], tmp_path / "out.mp4")


def test_audio_only_upload_fails_with_reason(client: Client, media: Path) -> None:
    status = run_job(client, media / "sample_audio_only.mp4", FAST)
    assert status["state"] == "failed"
    assert "no video" in status["error"]


def test_rotated_source_is_output_upright(client: Client, media: Path, tmp_path: Path) -> None:
    status = run_job(client, media / "internal_emulator_transformer_output_180_rotated.mp4", FAST)
    assert status["state"] == "done", status.get("error")
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0))
        assert getattr(frame, "rotation", 0) == 0, "rotation must be applied, not carried as metadata"


@pytest.mark.parametrize("content,filename,reason", [
    (b"this is not a video, just some text\n" * 50, "notes.mp4", "not"),
    (b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n", "evil.mp4", ""),
    (b"ffconcat version 1.0\nfile /etc/passwd\n", "concat.mp4", ""),
])
def test_bad_upload_fails_quickly_with_reason(client: Client, tmp_path: Path, content: bytes, filename: str,
                                              reason: str) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    started = time.monotonic()
    status = run_job(client, path, FAST, timeout=60)
    assert status["state"] == "failed"
    assert status["error"] and reason in status["error"]
    assert "Traceback" not in status["error"]
    assert time.monotonic() - started < 30


def test_truncated_upload_fails(client: Client, media: Path, tmp_path: Path) -> None:
    data = (media / "sample_with_increasing_timestamps_360p.mp4").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    status = run_job(client, path, FAST, timeout=60)
    assert status["state"] == "failed" and status["error"]


def test_api_rejects_bad_requests_before_upload(stack: Any) -> None:
    api = stack.api_url
    auth = {"X-Api-Key": stack.api_key}
    cases = [
        {"filename": "x.txt", "size": 10, "content_type": "text/plain"},
        {"filename": "x.mp4", "size": 0, "content_type": "video/mp4"},
        {"filename": "x.mp4", "size": 6 * 1024**3, "content_type": "video/mp4"},
        {"filename": "x.mp4", "size": 10, "content_type": "video/mp4", "options": {"crf": 99}},
        {"filename": "x.mp4", "content_type": "video/mp4"},
    ]
    for body in cases:
        resp = requests.post(f"{api}/jobs", json=body, headers=auth, timeout=10)
        assert resp.status_code == 400, body
        assert "error" in resp.json() and "Traceback" not in resp.text
    assert requests.get(f"{api}/jobs/{'0' * 32}", headers=auth, timeout=10).status_code == 404
    assert requests.get(f"{api}/jobs/not-an-id", headers=auth, timeout=10).status_code == 404
    assert requests.get(f"{api}/health", timeout=10).json()["status"] == "ok"


def test_presigned_post_is_bound_to_the_job_key(client: Client, media: Path) -> None:
    job = client.create_job(media / "sample.mp4")
    fields = job["upload"]["fields"]
    assert fields["key"] == f"uploads/{job['job_id']}/source.mp4"
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    conditions = policy["conditions"]
    size = (media / "sample.mp4").stat().st_size
    assert ["content-length-range", size, size] in conditions  # exactly the declared size
    assert {"Content-Type": "video/mp4"} in conditions
    assert {"key": fields["key"]} in conditions
    assert job["expires_in"] <= 900


def test_listing_is_newest_first_and_paged(client: Client, media: Path) -> None:
    ids = [client.create_job(media / "sample.mp4")["job_id"] for _ in range(3)]
    page = client._call("GET", "/jobs?limit=2")
    assert [j["job_id"] for j in page["jobs"]] == ids[::-1][:2]
    rest = client._call("GET", f"/jobs?limit=2&before={page['next']}")
    assert rest["jobs"][0]["job_id"] == ids[0]


def test_multipart_upload_and_duplicate_events_make_one_job(stack: Any, media: Path, tmp_path: Path) -> None:
    """A file above the part size goes through the multipart routes; moto then emits two
    ObjectCreated events for it, and we replay a third: still exactly one job, done once."""
    client = Client(stack.api_url)
    source = tmp_path / "grainy.mp4"
    make_synthetic_clip(str(source), 6, width=640, height=360, grain=40)
    assert source.stat().st_size > 2 * S3_MIN_PART, "need at least three parts"
    job = client.create_job(source, FAST)
    job["multipart"]["part_size"] = S3_MIN_PART  # force several parts
    client.upload(source, job)
    status = client.wait(job["job_id"], timeout=300)
    assert status["state"] == "done", status.get("error")
    from chalicelib.stores.clients import get_sqs
    from chalicelib.stores.services import get_services

    svc = get_services()
    sqs = get_sqs()
    url = sqs.get_queue_url(QueueName=svc.settings.upload_queue)["QueueUrl"]
    event = {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": svc.settings.upload_bucket},
                                                                   "object": {"key": job["key"]}}}]}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    time.sleep(3)
    again = client.job(job["job_id"])
    assert again["state"] == "done" and again["output"]["filename"] == status["output"]["filename"]
    assert "key" not in again["output"]  # where the output sits is not the caller's business
    assert again["progress"]["chunks_done"] == status["progress"]["chunks_total"]


def test_cancel_stops_a_running_job(stack: Any, media: Path) -> None:
    client = Client(stack.api_url)
    job = client.create_job(media / "long_1080p_lowbitrate.mp4", {"x264_preset": "medium", "chunk_seconds": 2})
    client.upload(media / "long_1080p_lowbitrate.mp4", job)
    deadline = time.monotonic() + 60
    while client.job(job["job_id"])["state"] != "encoding":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    cancelled = client.cancel(job["job_id"])
    assert cancelled["state"] == "cancelled"
    from chalicelib.stores.services import get_services

    svc = get_services()
    time.sleep(3)  # running chunks notice within a heartbeat
    depth = svc.process_queue.depth()
    assert depth["ready"] == 0 and depth["inflight"] == 0
    assert client.job(job["job_id"])["state"] == "cancelled"
    with pytest.raises(ApiError, match="409"):
        client.cancel(job["job_id"])


def test_kill_9_of_a_processor_mid_chunk_still_completes(stack: Any, media: Path, tmp_path: Path) -> None:
    client = Client(stack.api_url)
    source = media / "sample_with_increasing_timestamps_360p.mp4"
    job_id = submit(client, source, {"x264_preset": "veryslow", "chunk_seconds": 2.0})
    victim = wait_for(lambda: running_part(client, job_id), "a running chunk")
    proc = worker(stack, victim["worker"]).proc
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    status = client.wait(job_id, timeout=300)
    stack.supervise()  # bring the fleet back to size for the next tests
    assert status["parts"][victim["name"]]["attempt"] >= 2, "the killed chunk was redone"
    assert_frame_exact(client, status, CORPUS_FRAMES[source.name], tmp_path / "out.mp4")


def test_delete_removes_the_job_and_its_files(stack: Any, media: Path) -> None:
    client = Client(stack.api_url)
    status = run_job(client, media / "sample.mp4", FAST)
    assert status["state"] == "done"
    from chalicelib.stores.services import get_services

    svc = get_services()
    auth = {"X-Api-Key": stack.api_key}
    assert requests.delete(f"{stack.api_url}/jobs/{status['job_id']}", headers=auth, timeout=10).status_code == 204
    assert requests.get(f"{stack.api_url}/jobs/{status['job_id']}", headers=auth, timeout=10).status_code == 404
    leftovers = svc.storage.s3.list_objects_v2(Bucket=svc.settings.upload_bucket, Prefix="")
    keys = [o["Key"] for o in leftovers.get("Contents", [])]
    assert not [k for k in keys if status["job_id"] in k]
