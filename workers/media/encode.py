"""ffmpeg argv builders (pure) and runners for chunk video and whole-file audio encodes."""

from __future__ import annotations

import os
import threading

from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.ladder import Rung
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Chunk, Plan
from workers.media.binary import ffmpeg_binary
from workers.media.images import ChunkImages

AUDIO_RATE = 48_000
AUDIO_CHANNELS = 2
AUDIO_BITRATE = "128k"
# One fragment per closed GOP (frag_keyframe), the moov first and empty, data offsets from each
# moof, and negative composition offsets so the first frame's pts is its fragment's tfdt (no edit
# list: the init segment is then the same bytes for every chunk).
CMAF_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets"
# Every audio segment a single fragment: no time-based cut inside one (µs; the option's maximum).
WHOLE_SEGMENT_FRAGMENT = 2_000_000_000
SEGMENT_LIST = "segments.csv"
# SVT-AV1's preset for each x264 speed name (the option users already set).
SVT_PRESETS = {"ultrafast": 12, "superfast": 11, "veryfast": 10, "faster": 9, "fast": 8, "medium": 7,
               "slow": 6, "slower": 5, "veryslow": 4}


def _seek_args(seconds: float) -> list[str]:
    return ["-ss", f"{seconds:.6f}"] if seconds > 0 else []


def video_filter(chunk: Chunk, plan: Plan) -> str:
    """[Pre-roll trim,] scale (after ffmpeg's autorotate), square pixels, 8-bit 4:2:0, t=0 start."""
    trim = [f"trim=start={chunk.keep_from:.6f}"] if chunk.keep_from > 0 else []
    return ",".join(
        [
            *trim,
            f"scale={plan.width}:{plan.height}:flags=bicubic:out_range=tv",
            "setsar=1",
            "format=yuv420p",
            # Each chunk starts at t=0; the concat list's per-chunk `duration` places it.
            "setpts=PTS-STARTPTS",
        ]
    )


def x264_args(plan: Plan, options: EncodeOptions, crf: int | None = None) -> list[str]:
    """Encoder flags, identical for every chunk so all chunks share one SPS/PPS (one avcC)."""
    gop = str(plan.gop_frames)
    return [
        "-c:v", "libx264",
        "-preset", options.x264_preset,
        "-crf", str(options.crf if crf is None else crf),
        "-profile:v", "high",
        # -profile is only a ceiling: ultrafast disables every High tool and x264 then writes
        # Constrained Baseline. The 8x8 transform keeps the promised High profile at ~no cost.
        "-x264-params", "8x8dct=1",
        "-pix_fmt", "yuv420p",
        # Closed, fixed GOPs: a keyframe every `gop` frames from each chunk's first frame, so the
        # concatenated stream has the same GOP grid as a single-pass encode.
        "-g", gop,
        "-keyint_min", gop,
        "-sc_threshold", "0",
        "-flags", "+cgop",
    ]


def rung_filter(rung: Rung) -> str:
    """One rung's picture: its size (bicubic, limited range), square pixels, 8-bit 4:2:0."""
    return f"scale={rung.width}:{rung.height}:flags=bicubic:out_range=tv,setsar=1,format=yuv420p"


def ladder_filter(chunk: Chunk, plan: Plan, rungs: tuple[Rung, ...], images: ChunkImages | None = None) -> str:
    """Decode once, [pre-roll trim,] start at t=0, then split into one scaled branch per rung
    [and one for the chunk's poster candidates and storyboard tiles]."""
    extra = images is not None and not images.empty
    head = [f"trim=start={chunk.keep_from:.6f}"] if chunk.keep_from > 0 else []
    head += ["setpts=PTS-STARTPTS", f"split={len(rungs) + extra}"]
    branches = "".join(f"[s{i}]" for i in range(len(rungs))) + ("[img]" if extra else "")
    scaled = ";".join(f"[s{i}]{rung_filter(r)}[v{i}]" for i, r in enumerate(rungs))
    pictures = f";{images.filter('img')}" if images is not None and extra else ""
    return f"[0:{plan.video_index}]{','.join(head)}{branches};{scaled}{pictures}"


def rate_args(rung: Rung) -> list[str]:
    """Capped CRF: a peak (and its buffer) on top of the quality target; none when uncapped."""
    return ["-maxrate", f"{rung.maxrate}k", "-bufsize", f"{rung.bufsize}k"] if rung.maxrate else []


def codec_args(rung: Rung, plan: Plan, options: EncodeOptions) -> list[str]:
    """Encoder flags of one rung: closed GOPs of exactly ``plan.gop_frames`` frames in every codec,
    identical for every chunk so that every chunk writes the same init segment."""
    gop = str(plan.gop_frames)
    if rung.codec == "h264":
        return [*x264_args(plan, options, rung.crf), *rate_args(rung)]
    if rung.codec == "hevc":
        return ["-c:v", "libx265", "-preset", options.x264_preset, "-crf", str(rung.crf), "-pix_fmt", "yuv420p",
                "-tag:v", "hvc1", "-g", gop, "-keyint_min", gop,
                "-x265-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error",
                *rate_args(rung)]
    if rung.codec == "av1":
        return ["-c:v", "libsvtav1", "-preset", str(SVT_PRESETS[options.x264_preset]), "-crf", str(rung.crf),
                "-pix_fmt", "yuv420p", "-g", gop, "-svtav1-params", f"keyint={gop}:scd=0", *rate_args(rung)]
    raise MediaError(f"unknown codec {rung.codec!r}")


def rung_path(out_dir: str, rung: Rung) -> str:
    """Where a chunk encode writes ``rung``'s fragmented MP4."""
    return os.path.join(out_dir, f"{rung.id}.mp4")


def ladder_argv(source: str, chunk: Chunk, plan: Plan, options: EncodeOptions, out_dir: str,
                rungs: tuple[Rung, ...] | None = None, images: ChunkImages | None = None) -> list[str]:
    """ffmpeg argv: decode frames [start_frame, start_frame + frame_count) of ``source`` once and
    encode every rung of ``rungs`` (default: the plan's ladder) to its own fragmented MP4 [and
    ``images``' JPEGs from the same decoded frames]."""
    rungs = plan.rungs if rungs is None else rungs
    outputs: list[str] = []
    for i, rung in enumerate(rungs):
        outputs += [
            "-map", f"[v{i}]",
            "-an", "-sn", "-dn",
            "-map_metadata", "-1",
            "-map_chapters", "-1",
            "-fps_mode", "passthrough",
            "-frames:v", str(chunk.frame_count),
            *codec_args(rung, plan, options),
            "-video_track_timescale", str(plan.timescale),
            "-movflags", CMAF_MOVFLAGS,
            "-fflags", "+bitexact",
            "-f", "mp4",
            rung_path(out_dir, rung),
        ]
    return [
        ffmpeg_binary(),
        *sandbox.GLOBAL_ARGS,
        *(["-copyts"] if chunk.keep_from > 0 else []),
        *_seek_args(chunk.seek),
        *sandbox.input_args(source),
        "-filter_complex", ladder_filter(chunk, plan, rungs, images),
        *outputs,
        *(images.outputs(out_dir) if images is not None and not images.empty else []),
    ]


def audio_start_offset(probe: ProbeResult) -> float:
    """Where the output timeline (first video frame) starts, relative to the input start_time."""
    if probe.video is None:
        return 0.0
    return max(0.0, probe.video.first_pts - probe.start_time)


def audio_filter(offset: float) -> str:
    """Align audio so that ``offset`` (input timeline seconds) becomes t=0, resample to 48 kHz."""
    align = [f"atrim=start={offset:.6f}", f"asetpts=PTS-{offset:.6f}/TB"] if offset > 0 else []
    return ",".join([*align, f"aresample={AUDIO_RATE}:async=1:min_hard_comp=0.02:first_pts=0"])


def audio_segments_argv(source: str, probe: ProbeResult, plan: Plan, out_dir: str) -> list[str]:
    """ffmpeg argv: encode the whole audio track once straight into one fragmented MP4 per video
    segment, cut at the first AAC frame at or after each boundary.

    No input seek (byte-bisecting demuxers such as mpegts land imprecisely and audio is cheap to
    decode): ``atrim`` cuts audio before the first video frame sample-accurately, ``asetpts`` moves
    that frame to t=0, and ``aresample`` with ``first_pts=0`` pads a later-starting track with
    silence (and fills timestamp gaps) so it stays in sync.

    The segment muxer lists each finished segment in ``segments.csv`` as it goes, so the task
    can publish audio while the encode still runs.
    """
    if probe.audio is None:
        raise MediaError("source has no audio stream")
    cuts = ",".join(f"{t:.6f}" for t in plan.segment_times[1:]) or f"{plan.video_duration + 3600:.6f}"
    return [
        ffmpeg_binary(),
        *sandbox.GLOBAL_ARGS,
        *sandbox.input_args(source),
        "-map", f"0:{probe.audio.index}",
        "-vn", "-sn", "-dn",
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-af", audio_filter(audio_start_offset(probe)),
        "-ac", str(AUDIO_CHANNELS),
        "-c:a", "aac",
        "-profile:a", "aac_low",
        "-b:a", AUDIO_BITRATE,
        "-f", "segment",
        "-segment_times", cuts,
        "-segment_format", "mp4",
        "-segment_format_options", f"movflags=+empty_moov+default_base_moof:frag_duration={WHOLE_SEGMENT_FRAGMENT}",
        "-segment_list", os.path.join(out_dir, SEGMENT_LIST),
        "-segment_list_type", "csv",
        "-reset_timestamps", "0",
        "-fflags", "+bitexact",
        os.path.join(out_dir, "%05d.mp4"),
    ]


def single_pass_argv(source: str, probe: ProbeResult, plan: Plan, options: EncodeOptions, out_path: str) -> list[str]:
    """One plain ffmpeg command producing the web preset in a single pass (the benchmarks' reference).

    Built from the same pieces as the pipeline (the first chunk's filter covers the whole video,
    ``x264_args``, ``audio_filter``), so the only difference from a chunked encode is chunking.
    """
    whole = Chunk(index=0, start_frame=0, frame_count=plan.total_frames, seek=0.0, start=0.0,
                  duration=plan.video_duration)
    audio = [] if probe.audio is None else [
        "-map", f"0:{probe.audio.index}",
        "-af", audio_filter(audio_start_offset(probe)),
        "-ac", str(AUDIO_CHANNELS), "-c:a", "aac", "-profile:a", "aac_low", "-b:a", AUDIO_BITRATE,
    ]
    return [
        ffmpeg_binary(),
        *sandbox.GLOBAL_ARGS,
        *sandbox.input_args(source),
        "-map", f"0:{plan.video_index}",
        *audio,
        "-sn", "-dn",
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-vf", video_filter(whole, plan),
        "-fps_mode", "passthrough",
        *x264_args(plan, options),
        "-movflags", "+faststart",
        "-f", "mp4",
        out_path,
    ]


def encode_ladder(source: str, chunk: Chunk, plan: Plan, options: EncodeOptions, out_dir: str, *,
                  timeout: float, cancel: threading.Event | None = None,
                  images: ChunkImages | None = None) -> dict[str, str]:
    """Encode one chunk's every rung [and ``images``] into ``out_dir``; rung id → its fragmented MP4."""
    sandbox.run(ladder_argv(source, chunk, plan, options, out_dir, images=images), timeout,
                what=f"encoding chunk {chunk.index}", cancel=cancel, network=sandbox.is_remote(source),
                workdir=out_dir)
    return {rung.id: rung_path(out_dir, rung) for rung in plan.rungs}


def encode_audio(
    source: str,
    probe: ProbeResult,
    plan: Plan,
    out_dir: str,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
) -> None:
    """Encode the whole audio track into segment files in ``out_dir``. Raises MediaError."""
    sandbox.run(audio_segments_argv(source, probe, plan, out_dir), timeout, what="encoding audio", cancel=cancel,
                network=sandbox.is_remote(source), workdir=out_dir)
