"""Sources whose GOP structure would amplify work (issue: no upload can amplify work).

A chunk decodes from the keyframe its seek lands on; with one keyframe in a whole file every
chunk would decode from the start. Generated sources of the classes that matter — one keyframe,
sparse keyframes, keyframes that do not match our GOP grid, MPEG-TS (pre-roll seeks) — go through
the planner on their real probe and through the live stack: frame-exact output, and the frames
the plan decodes stay within ``MAX_DECODE_RATIO`` of the source's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.media.probe import probe
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import MAX_DECODE_RATIO, decode_start, decoded_frames, plan_chunks, seek_preroll
from devstack.client import Client
from tests.support.media import decode_report, ffmpeg_cmd
from tests.support.stack import run_job

SECONDS, FPS = 40, 30
CLASSES = {
    # name: (x264 keyframe options, container)
    "one-keyframe.mp4": (["-g", "100000", "-keyint_min", "100000", "-sc_threshold", "0"], "mp4"),
    "keyframes-every-7s.mkv": (["-g", str(7 * FPS), "-keyint_min", str(7 * FPS), "-sc_threshold", "0"], "matroska"),
    "odd-gop-37-frames.mp4": (["-g", "37", "-keyint_min", "37", "-sc_threshold", "0", "-bf", "3"], "mp4"),
    "one-keyframe.ts": (["-g", "100000", "-keyint_min", "100000", "-sc_threshold", "0"], "mpegts"),
}


def _render(path: Path, keyframe_args: list[str], fmt: str) -> None:
    result = ffmpeg_cmd("-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={SECONDS}",
                        "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={SECONDS}",
                        "-c:v", "libx264", "-preset", "ultrafast", *keyframe_args, "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-f", fmt, "-y", str(path))
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("long-gop")
    out = {}
    for name, (args, fmt) in CLASSES.items():
        out[name] = folder / name
        _render(out[name], args, fmt)
    return out


def _ratio(source: Path, options: EncodeOptions) -> tuple[float, int]:
    found = probe(str(source))
    assert found.video is not None
    video, preroll = found.video, seek_preroll(found)
    plan = plan_chunks(found, options)
    spent = decoded_frames([c.start_frame for c in plan.chunks], plan.total_frames,
                           lambda s: s - decode_start(s, video.frame_times, video.keyframes, preroll))
    return spent / plan.total_frames, len(plan.chunks)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_planned_decoding_is_bounded_on_the_real_probe(sources: dict[str, Path], name: str) -> None:
    ratio, _ = _ratio(sources[name], EncodeOptions(chunk_seconds=2))
    assert ratio <= MAX_DECODE_RATIO


@pytest.mark.parametrize("name", ["one-keyframe.mp4", "keyframes-every-7s.mkv", "one-keyframe.ts"])
def test_long_gop_sources_transcode_frame_exact(stack: Any, sources: dict[str, Path], tmp_path: Path,
                                                 name: str) -> None:
    client = Client(stack.api_url)
    status = run_job(client, sources[name], {"x264_preset": "ultrafast", "chunk_seconds": 2})
    assert status["state"] == "done", status.get("error")
    out = tmp_path / "out.mp4"
    client.download(status["output"]["url"], out)
    assert decode_report(out) == (SECONDS * FPS, "")
    if name == "keyframes-every-7s.mkv":
        assert status["progress"]["chunks_total"] >= 4  # still parallel: chunks sit next to keyframes
