"""ffmpeg argv builders (pure) and runners for chunk video and audio part encodes."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from chalicelib.media import sandbox
from chalicelib.model.audioparts import AudioPart
from chalicelib.model.errors import MediaError
from chalicelib.model.facts import ProbeResult
from chalicelib.model.ladder import Rung
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Chunk, Plan, timeline_start
from chalicelib.model.tracks import MAIN_AUDIO_ID, AudioTrack, SubtitleTrack, main_only
from workers.media import colour as hdr
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


def start_at_zero(chunk: Chunk, plan: Plan) -> str:
    """The chunk's first frame at t=0; in the first chunk of a source whose audio leads, every
    later frame ``plan.lead`` later (the first frame is held until then: no frame added)."""
    if chunk.start_frame == 0 and plan.lead > 0:
        return f"setpts=PTS-STARTPTS+gt(N\\,0)*{plan.lead:.9f}/TB"
    return "setpts=PTS-STARTPTS"


def ladder_filter(chunk: Chunk, plan: Plan, rungs: tuple[Rung, ...], images: ChunkImages | None = None) -> str:
    """Decode once, [pre-roll trim,] start at t=0, then split into one scaled branch per rung
    [and one for the chunk's poster candidates and storyboard tiles]. An HDR source's SDR rungs
    [and images] branch from one tone-mapped picture instead (``workers.media.colour``)."""
    extra = images is not None and not images.empty
    head = [f"trim=start={chunk.keep_from:.6f}"] if chunk.keep_from > 0 else []
    head += [start_at_zero(chunk, plan), f"split={len(rungs) + extra}"]
    branches = "".join(f"[s{i}]" for i in range(len(rungs))) + ("[img]" if extra else "")
    scaled = ";".join(f"[s{i}]{rung_filter(r)}[v{i}]" for i, r in enumerate(rungs))
    pictures = f";{images.filter('img')}" if images is not None and extra else ""
    if plan.colour is not None:  # the plain split becomes: kept HDR branches, one tone-mapped, split again
        head[-1] = hdr.ladder_graph(plan.colour, rungs, (plan.width, plan.height), rung_filter, "img" if extra else "")
        return f"[0:{plan.video_index}]{','.join(head)}{pictures}"
    return f"[0:{plan.video_index}]{','.join(head)}{branches};{scaled}{pictures}"


def rate_args(rung: Rung) -> list[str]:
    """Capped CRF: a peak (and its buffer) on top of the quality target; none when uncapped."""
    return ["-maxrate", f"{rung.maxrate}k", "-bufsize", f"{rung.bufsize}k"] if rung.maxrate else []


def codec_args(rung: Rung, plan: Plan, options: EncodeOptions) -> list[str]:
    """Encoder flags of one rung: closed GOPs of exactly ``plan.gop_frames`` frames in every codec,
    identical for every chunk so that every chunk writes the same init segment."""
    gop = str(plan.gop_frames)
    colour = plan.colour  # an HDR source: colour tags, and a kept HDR rung's 10 bits and metadata
    tags = hdr.encoder_args(colour, rung.codec)
    if rung.codec == "h264":
        return [*x264_args(plan, options, rung.crf), *rate_args(rung), *tags]
    if rung.codec == "hevc":
        x265 = ":".join([f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error",
                         *hdr.x265_params(colour)])
        return ["-c:v", "libx265", "-preset", options.x264_preset, "-crf", str(rung.crf),
                "-pix_fmt", hdr.pix_fmt(colour, rung.codec), *hdr.x265_profile(colour),
                "-tag:v", "hvc1", "-g", gop, "-keyint_min", gop, "-x265-params", x265, *rate_args(rung), *tags]
    if rung.codec == "av1":
        svt = ":".join([f"keyint={gop}:scd=0", *hdr.svtav1_params(colour)])
        return ["-c:v", "libsvtav1", "-preset", str(SVT_PRESETS[options.x264_preset]), "-crf", str(rung.crf),
                "-pix_fmt", hdr.pix_fmt(colour, rung.codec), "-g", gop, "-svtav1-params", svt, *rate_args(rung),
                *tags]
    raise MediaError(f"unknown codec {rung.codec!r}")


def rung_path(out_dir: str, rung: Rung) -> str:
    """Where a chunk encode writes ``rung``'s fragmented MP4."""
    return os.path.join(out_dir, f"{rung.id}.mp4")


def ladder_argv(source: str, chunk: Chunk, plan: Plan, options: EncodeOptions, out_dir: str,
                rungs: tuple[Rung, ...] | None = None, images: ChunkImages | None = None,
                threads: int = 0) -> list[str]:
    """ffmpeg argv: decode frames [start_frame, start_frame + frame_count) of ``source`` once and
    encode every rung of ``rungs`` (default: the plan's ladder) to its own fragmented MP4 [and
    ``images``' JPEGs from the same decoded frames] [with ``threads`` threads for the decoder, the
    filters and each encoder; 0: ffmpeg's choice]."""
    rungs = plan.rungs if rungs is None else rungs
    sized = ["-threads", str(threads)] if threads > 0 else []
    outputs: list[str] = []
    for i, rung in enumerate(rungs):
        outputs += [
            *sized,
            "-map", f"[v{i}]",
            "-an", "-sn", "-dn",
            "-map_metadata", "-1",
            "-map_chapters", "-1",
            "-fps_mode", "passthrough",
            "-frames:v", str(chunk.frame_count),
            *codec_args(rung, plan, options),
            "-video_track_timescale", str(plan.timescale),
            # The encoder's clock is the track's: by default ffmpeg clocks it at 1/frame rate
            # when the rate looks constant, moving every frame off-grid (a held first frame, a
            # broadcast's jitter) to the nearest frame slot.
            "-enc_time_base:v", f"1/{plan.timescale}",
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
        *sized,
        *sandbox.input_args(source),
        *(["-filter_complex_threads", str(threads)] if threads > 0 else []),
        "-filter_complex", ladder_filter(chunk, plan, rungs, images),
        *outputs,
        *(images.outputs(out_dir) if images is not None and not images.empty else []),
    ]


def audio_start_offset(probe: ProbeResult) -> float:
    """Where the output timeline (the first video frame, or the audio's first sample if earlier)
    starts, relative to the input start_time."""
    return max(0.0, timeline_start(probe) - probe.start_time)


def audio_filter(offset: float, *, loudness: str = "", part: AudioPart | None = None) -> str:
    """Align audio so that ``offset`` (input timeline seconds) becomes t=0, resample to 48 kHz
    [, then normalise its loudness (``loudness``: filters from ``workers.media.loudness``) and
    resample back to 48 kHz] [, then keep ``part``'s samples, its pre- and post-roll included].

    A part's cut comes after the resampler, on its output samples: every part then sees the very
    samples a whole-track encode would (a resampler started elsewhere would sit a fraction of a
    sample apart, which a seam would show).
    """
    align = [f"atrim=start={offset:.6f}", f"asetpts=PTS-{offset:.6f}/TB"] if offset > 0 else []
    resample = f"aresample={AUDIO_RATE}:async=1:min_hard_comp=0.02:first_pts=0"
    # loudnorm restamps its output back to back from its first input: the timeline's padding,
    # gaps and overlaps must be settled before it (and its 192 kHz brought back after it).
    extra = [resample, loudness] if loudness else []
    cut = []
    if part is not None and (part.input_start or part.input_end is not None):
        bounds = [f"start_pts={part.input_start}"] if part.input_start else []
        bounds += [] if part.input_end is None else [f"end_pts={part.input_end}"]
        # Cut by the sample count, not the resampler's timestamps (which follow the source's and
        # may round apart from it): every part's frames then sit on the same samples, and two
        # packets meeting at a seam overlap-add to the signal as two of one encode do.
        cut = ["asetpts=N", "atrim=" + ":".join(bounds)]
    return ",".join([*align, *extra, resample, *cut])


def track_folder(out_dir: str, track: AudioTrack) -> str:
    """Where the audio task writes ``track``'s segments (the main track: ``out_dir`` itself)."""
    return out_dir if track.id == MAIN_AUDIO_ID else os.path.join(out_dir, track.id)


def listed_segments(folder: str) -> list[str]:
    """The segment files the segment muxer has closed in ``folder``, in order (its CSV list)."""
    listing = Path(folder) / SEGMENT_LIST
    if not listing.exists():
        return []
    names = [line.split(",", 1)[0] for line in listing.read_text().splitlines() if line.strip()]
    return [n for n in names if (Path(folder) / n).exists()]


def subtitle_path(out_dir: str, track: SubtitleTrack) -> str:
    """Where the audio task writes ``track`` as WebVTT."""
    return os.path.join(out_dir, f"{track.id}.vtt")


def _audio_output(track: AudioTrack, offset: float, plan: Plan, folder: str, loudness: str,
                  part: AudioPart) -> list[str]:
    cuts = ",".join(f"{t:.6f}" for t in part.cut_times(plan.segment_times)) or f"{plan.video_duration + 3600:.6f}"
    return [
        "-map", f"0:{track.index}",
        "-vn", "-sn", "-dn",
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-af", audio_filter(offset, loudness=loudness, part=part),
        "-ac", str(AUDIO_CHANNELS),
        "-c:a", "aac",
        "-profile:a", "aac_low",
        "-b:a", AUDIO_BITRATE,
        "-f", "segment",
        "-segment_times", cuts,
        "-segment_format", "mp4",
        "-segment_format_options", f"movflags=+empty_moov+default_base_moof:frag_duration={WHOLE_SEGMENT_FRAGMENT}",
        "-segment_list", os.path.join(folder, SEGMENT_LIST),
        "-segment_list_type", "csv",
        "-reset_timestamps", "0",
        "-fflags", "+bitexact",
        os.path.join(folder, "%05d.mp4"),
    ]


def _subtitle_output(track: SubtitleTrack, offset: float, path: str) -> list[str]:
    # The cues move with the timeline's start, as the audio does (cues before it are dropped).
    shift = ["-output_ts_offset", f"{-offset:.6f}"] if offset > 0 else []
    return ["-map", f"0:{track.index}", "-vn", "-an", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
            "-c:s", "webvtt", *shift, "-f", "webvtt", path]


def audio_tracks_of(plan: Plan, probe: ProbeResult) -> tuple[AudioTrack, ...]:
    """The plan's audio tracks (a plan made before tracks were kept: the main audio only)."""
    if plan.audio_tracks or probe.audio is None:
        return plan.audio_tracks
    return (main_only(probe.audio.index, plan.audio_duration or 0.0),)


def audio_segments_argv(source: str, probe: ProbeResult, plan: Plan, out_dir: str, *, loudness: str = "",
                        track_loudness: Mapping[str, str] | None = None, part: AudioPart | None = None) -> list[str]:
    """ffmpeg argv: encode every audio track [of ``part``, default the first (the whole audio when
    the plan has one part)] straight into one fragmented MP4 per video segment, cut at the first AAC
    frame at or after each boundary (the main track in ``out_dir``, each other one in its own
    folder), and [with the first part] every text subtitle track into one WebVTT file.
    ``AudioPart.kept`` picks the part's own files (not its pre- and post-roll's).

    No input seek (byte-bisecting demuxers such as mpegts land imprecisely and audio is cheap to
    decode): ``atrim`` cuts audio before the timeline's start sample-accurately, ``asetpts`` moves
    that instant to t=0, and ``aresample`` with ``first_pts=0`` pads a later-starting track with
    silence (and fills timestamp gaps) so it stays in sync.

    The segment muxer lists each finished segment in ``segments.csv`` as it goes, so the task
    can publish audio while the encode still runs. ``loudness``: the main track's filters (see
    ``audio_filter``); ``track_loudness``: each track's, by id (the main one's there wins).
    """
    if probe.audio is None and not plan.subtitles:
        raise MediaError("source has no audio stream")
    part = part or plan.audio_parts[0]
    offset = audio_start_offset(probe)
    outputs: list[str] = []
    filters = {MAIN_AUDIO_ID: loudness, **(track_loudness or {})}
    for track in audio_tracks_of(plan, probe):
        outputs += _audio_output(track, offset, plan, track_folder(out_dir, track), filters.get(track.id, ""), part)
    for subtitle in plan.subtitles if part.index == 0 else ():
        outputs += _subtitle_output(subtitle, offset, subtitle_path(out_dir, subtitle))
    # Only the audio (and the first part's subtitles) is read: the demuxer skips the video's bytes.
    return [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, "-discard:v", "all", *sandbox.input_args(source), *outputs]


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
                  images: ChunkImages | None = None, threads: int = 0) -> dict[str, str]:
    """Encode one chunk's every rung [and ``images``] into ``out_dir`` [with ``threads`` threads
    each: ``ladder_argv``]; rung id → its fragmented MP4."""
    sandbox.run(ladder_argv(source, chunk, plan, options, out_dir, images=images, threads=threads), timeout,
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
    loudness: str = "",
    track_loudness: Mapping[str, str] | None = None,
    part: AudioPart | None = None,
) -> None:
    """Encode every audio track [of ``part``] into segment files in ``out_dir`` [through
    ``loudness``'s (the main one) or ``track_loudness``'s (by track id) filters:
    ``workers.media.loudness.normalisation``], and [with the first part] the text subtitles into
    WebVTT files. Raises MediaError."""
    for track in audio_tracks_of(plan, probe):
        os.makedirs(track_folder(out_dir, track), exist_ok=True)
    argv = audio_segments_argv(source, probe, plan, out_dir, loudness=loudness, track_loudness=track_loudness,
                               part=part)
    what = "encoding audio" if part is None or len(plan.audio_parts) == 1 else f"encoding audio part {part.index}"
    sandbox.run(argv, timeout, what=what,
                cancel=cancel, network=sandbox.is_remote(source), workdir=out_dir)
