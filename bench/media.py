"""Media measurements: the plain-ffmpeg reference, quality scores, bitrate, frame exactness."""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench.common import Timed, run_timed
from chalicelib.media.probe import probe
from chalicelib.model.facts import ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan, expected_audio_duration, plan_chunks
from tests.support.media import decode_report
from workers.media.binary import ffmpeg_binary
from workers.media.encode import SEGMENT_LIST, audio_segments_argv, ladder_argv, single_pass_argv

# What the MP4 benches (1-7) ask of a job: the MP4 alone, one uncapped rung (bench.common.MP4_ONLY).
MP4 = EncodeOptions(outputs=("mp4",))
VMAF_MODEL = "version=vmaf_v0.6.1"  # built into libvmaf: no model file needed
DECODE_LIMIT = 5000  # outputs up to this many frames are fully decoded to count frames


def plan_for(source: Path, options: EncodeOptions | None = None) -> tuple[ProbeResult, Plan]:
    """The chunker's probe and plan of a local file (what the pipeline decides for it; default: an
    MP4-only job)."""
    probed = probe(str(source))
    return probed, plan_chunks(probed, options or MP4)


def reference(source: Path, out: Path, options: EncodeOptions | None = None) -> Timed:
    """One plain ffmpeg command with the pipeline's encoder settings; only ffmpeg itself is timed."""
    options = options or MP4
    probed, plan = plan_for(source, options)
    out.parent.mkdir(parents=True, exist_ok=True)
    run = run_timed(single_pass_argv(str(source), probed, plan, options, str(out)), timeout=3600)
    if run.returncode != 0:
        raise RuntimeError(f"reference ffmpeg failed on {source.name}: {run.stderr[-1000:]}")
    return run


def chunks_locally(source: Path, work: Path, options: EncodeOptions | None = None) -> dict[str, float]:
    """Every chunk (each one ``ladder_argv`` process: every rung of the plan from one decode) and the
    audio (``audio_segments_argv``) encoded one after another from the local file, outside the
    stack: the CPU cost of chunking itself, without concurrency, bookkeeping or packaging."""
    options = options or MP4
    probed, plan = plan_for(source, options)
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for chunk in plan.chunks:
        folder = work / f"c{chunk.index:05d}"
        folder.mkdir(exist_ok=True)
        runs.append(run_timed(ladder_argv(str(source), chunk, plan, options, str(folder)), timeout=3600))
    if probed.audio is not None:
        folder = work / "audio"
        folder.mkdir(exist_ok=True)
        (folder / SEGMENT_LIST).unlink(missing_ok=True)
        runs.append(run_timed(audio_segments_argv(str(source), probed, plan, str(folder)), timeout=3600))
    failed = [r.stderr[-300:] for r in runs if r.returncode != 0]
    if failed:
        raise RuntimeError(f"local chunk encode failed: {failed[0]}")
    return {"wall": sum(r.wall for r in runs), "cpu": sum(r.user + r.system for r in runs), "runs": len(runs)}


def video_bitrate(path: Path) -> dict[str, float]:
    """Video stream bytes (sum of packets), bits per second over the video duration, file size."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = 0
        first = last = None
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            total += packet.size
            t = float(packet.pts * packet.time_base)
            end = t + float((packet.duration or 0) * packet.time_base)
            first = t if first is None else min(first, t)
            last = end if last is None else max(last, end)
    duration = (last or 0.0) - (first or 0.0)
    return {"video_bytes": total, "video_bps": total * 8 / duration if duration > 0 else 0.0,
            "file_bytes": path.stat().st_size}


def seek_preroll(source: Path, plan: Plan) -> dict[str, Any]:
    """Frames every chunk decodes only to reach its first frame: ffmpeg's accurate seek starts at the
    source keyframe at or before the chunk (a long source GOP means many such frames)."""
    import av

    with av.open(str(source)) as container:
        stream = container.streams[plan.video_index]
        packets = sorted((p.pts, p.is_keyframe) for p in container.demux(stream) if p.pts is not None and p.size)
    keys = [i for i, (_, key) in enumerate(packets) if key]
    extra = 0
    for chunk in plan.chunks[1:]:
        before = [k for k in keys if k <= chunk.start_frame]
        extra += chunk.start_frame - (before[-1] if before else 0)
    gop = (keys[-1] - keys[0]) / (len(keys) - 1) / plan.fps if len(keys) > 1 else None
    return {"source_gop_seconds": gop, "extra_decoded_frames": extra,
            "extra_fraction": extra / plan.total_frames if plan.total_frames else 0.0}


def quality(distorted: Path, source: Path, log_path: Path, *, threads: int = 2, upscale: bool = False,
            seconds: float | None = None) -> dict[str, Any]:
    """Per-frame VMAF (vmaf_v0.6.1), PSNR-Y and SSIM of ``distorted`` against ``source``.

    One libvmaf pass computes all three (its psnr and float_ssim features), per frame, written as
    JSON by libvmaf itself (``log_path``). If the sizes differ the source is scaled to the output
    size, or with ``upscale`` the output to the source size (how a smaller ladder rung is seen on
    the source's screen), bicubic. ``seconds``: only the first that many seconds of both.
    """
    dist = probe(str(distorted)).video
    ref = probe(str(source)).video
    assert dist is not None and ref is not None
    same = (dist.width, dist.height) == (ref.width, ref.height)
    up = "" if same or not upscale else f"scale={ref.width}:{ref.height}:flags=bicubic,"
    down = "" if same or upscale else f"scale={dist.width}:{dist.height}:flags=bicubic,"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    graph = (f"[0:v]{up}settb=AVTB,setpts=PTS-STARTPTS[d];[1:v]{down}settb=AVTB,setpts=PTS-STARTPTS[r];"
             f"[d][r]libvmaf=model={VMAF_MODEL}:feature=name=psnr|name=float_ssim:n_threads={threads}"
             f":log_fmt=json:log_path={log_path.name}")  # relative (run in its folder): nothing to escape
    window = [] if seconds is None else ["-t", f"{seconds:g}"]
    argv = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-loglevel", "error",
            *window, "-i", str(distorted.resolve()), *window, "-i", str(source.resolve()), "-lavfi", graph,
            "-f", "null", "-"]
    run = run_timed(argv, timeout=7200, cwd=str(log_path.parent))
    if run.returncode != 0:
        raise RuntimeError(f"libvmaf failed on {distorted.name}: {run.stderr[-1000:]}")
    frames = json.loads(log_path.read_text())["frames"]
    series = {name: [float(f["metrics"][key]) for f in frames]
              for name, key in (("vmaf", "vmaf"), ("psnr_y", "psnr_y"), ("ssim", "float_ssim"))}
    return {
        "frames": len(frames),
        "mean": {name: statistics.fmean(values) for name, values in series.items()},
        "series": series,
        "seconds": round(run.wall, 2),
    }


def seam_stats(scores: list[float], seams: list[int], *, window: int = 5, neighbourhood: int = 30) -> dict[str, Any]:
    """How frames near chunk seams score against the rest.

    Near a seam: frames within ±``window`` of a chunk's first frame. A seam's deficit: the mean of
    its neighbourhood (frames ``window``+1 … ``neighbourhood`` away, both sides) minus the worst
    frame near it.
    """
    near: set[int] = set()
    deficits = []
    for seam in seams:
        close = [i for i in range(seam - window, seam + window + 1) if 0 <= i < len(scores)]
        around = [i for i in range(seam - neighbourhood, seam + neighbourhood + 1)
                  if 0 <= i < len(scores) and abs(i - seam) > window]
        near.update(close)
        if close and around:
            worst = min(scores[i] for i in close)
            deficits.append({"seam": seam, "worst": worst,
                             "deficit": statistics.fmean(scores[i] for i in around) - worst})
    elsewhere = [s for i, s in enumerate(scores) if i not in near]
    near_scores = [scores[i] for i in sorted(near)]
    return {
        "seams": len(seams),
        "worst_near_seams": min(near_scores) if near_scores else None,
        "worst_elsewhere": min(elsewhere) if elsewhere else None,
        "mean_near_seams": statistics.fmean(near_scores) if near_scores else None,
        "mean_elsewhere": statistics.fmean(elsewhere) if elsewhere else None,
        "max_deficit": max((d["deficit"] for d in deficits), default=None),
        "deficits": deficits,
    }


def frames_of(path: Path, probed: ProbeResult) -> tuple[int, str]:
    """Frame count of an output: decoded (up to DECODE_LIMIT frames), else counted packets."""
    assert probed.video is not None
    if probed.video.frame_count <= DECODE_LIMIT:
        decoded, errors = decode_report(path)
        if errors:
            raise RuntimeError(f"{path.name} does not decode cleanly: {errors[:300]}")
        return decoded, "decoded"
    return probed.video.frame_count, "packets"


def exactness(source: Path, output: Path, source_frames: int | None = None) -> dict[str, Any]:
    """Frames, duration and A/V offset of ``output`` against ``source``.

    ``source_frames``: the known truth; None: the source's own frames (decoded, or packets if long).
    """
    src, out = probe(str(source)), probe(str(output))
    assert src.video is not None and out.video is not None
    frames, method = frames_of(output, out)
    expected = source_frames if source_frames is not None else frames_of(source, src)[0]
    frame = 1 / (src.video.avg_fps or 30.0)
    duration_delta = out.video.duration - src.video.duration
    result: dict[str, Any] = {
        "source_frames": expected,
        "frames": frames,
        "frames_method": method,
        "duration": out.video.duration,
        "duration_delta": duration_delta,
        "duration_delta_frames": duration_delta / frame,
        "av_start_offset": None,
        "audio_end_delta": None,
    }
    expected_audio = expected_audio_duration(src)
    if out.audio is not None:
        # Where the audio starts relative to the first video frame, and how its length compares
        # with the source audio from the first video frame on (what the pipeline promises).
        result["av_start_offset"] = out.audio.start - out.video.first_pts
        if expected_audio is not None:
            result["audio_end_delta"] = out.audio.duration - expected_audio
    result["exact"] = frames == expected and abs(duration_delta) <= frame + 1e-3 and (
        (out.audio is None) == (expected_audio is None))
    return result
