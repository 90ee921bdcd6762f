"""ffmpeg argv builders (pure) and runners for chunk video and whole-file audio encodes."""

from __future__ import annotations

import os
import threading

from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Chunk, Plan
from workers.media.binary import ffmpeg_binary

AUDIO_RATE = 48_000
AUDIO_CHANNELS = 2
AUDIO_BITRATE = "128k"
CHUNK_FORMAT = "mp4"
AUDIO_FORMAT = "mp4"


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


def x264_args(plan: Plan, options: EncodeOptions) -> list[str]:
    """Encoder flags, identical for every chunk so all chunks share one SPS/PPS (one avcC)."""
    gop = str(plan.gop_frames)
    return [
        "-c:v", "libx264",
        "-preset", options.x264_preset,
        "-crf", str(options.crf),
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


def chunk_argv(source: str, chunk: Chunk, plan: Plan, options: EncodeOptions, out_path: str) -> list[str]:
    """ffmpeg argv encoding exactly frames [start_frame, start_frame + frame_count) of ``source``."""
    return [
        ffmpeg_binary(),
        *sandbox.GLOBAL_ARGS,
        # Input seek (before -i) is accurate: ffmpeg decodes from the previous keyframe and drops
        # frames with pts < seek, which sits half a frame before start_frame (survives any
        # timestamp rounding). Demuxers needing a pre-roll (see plan.py) seek earlier and cut by
        # the source's own timestamps instead (-copyts keeps them for the trim filter).
        *(["-copyts"] if chunk.keep_from > 0 else []),
        *_seek_args(chunk.seek),
        *sandbox.input_args(source),
        "-map", f"0:{plan.video_index}",
        "-an", "-sn", "-dn",
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-vf", video_filter(chunk, plan),
        # Passthrough: no frame duplication or dropping, source (VFR) timestamps kept.
        "-fps_mode", "passthrough",
        "-frames:v", str(chunk.frame_count),
        *x264_args(plan, options),
        "-f", CHUNK_FORMAT,
        out_path,
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


def audio_argv(source: str, probe: ProbeResult, options: EncodeOptions, out_path: str) -> list[str]:
    """ffmpeg argv encoding the whole audio track once, aligned to the output video timeline.

    No input seek (byte-bisecting demuxers such as mpegts land imprecisely and audio is cheap to
    decode): ``atrim`` cuts audio before the first video frame sample-accurately, ``asetpts`` moves
    that frame to t=0, and ``aresample`` with ``first_pts=0`` pads a later-starting track with
    silence (and fills timestamp gaps) so it stays in sync.
    """
    if probe.audio is None:
        raise MediaError("source has no audio stream")
    del options  # the web preset fixes the audio format; kept for a uniform builder signature
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
        "-f", AUDIO_FORMAT,
        out_path,
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


def encode_chunk(
    source: str,
    chunk: Chunk,
    plan: Plan,
    options: EncodeOptions,
    out_path: str,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
) -> None:
    """Encode one chunk to ``out_path`` (MP4, video only). Raises MediaError with a reason."""
    argv = chunk_argv(source, chunk, plan, options, out_path)
    sandbox.run(argv, timeout, what=f"encoding chunk {chunk.index}", cancel=cancel,
                network=sandbox.is_remote(source), workdir=os.path.dirname(os.path.abspath(out_path)))


def encode_audio(
    source: str,
    probe: ProbeResult,
    options: EncodeOptions,
    out_path: str,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
) -> None:
    """Encode the whole audio track to ``out_path`` (MP4/AAC). Raises MediaError with a reason."""
    sandbox.run(audio_argv(source, probe, options, out_path), timeout, what="encoding audio", cancel=cancel,
                network=sandbox.is_remote(source), workdir=os.path.dirname(os.path.abspath(out_path)))
