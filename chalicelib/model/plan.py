"""Pure planning: chunk boundaries (frame indices) and output geometry. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.model.errors import InvalidMediaError
from chalicelib.model.facts import MOV_FAMILY, ProbeResult, Record
from chalicelib.model.options import EncodeOptions

# A last chunk shorter than this fraction of a normal chunk is merged into the previous one.
MIN_LAST_CHUNK_FRACTION = 0.5
# Demuxers whose seek uses a sample index and lands on a keyframe at or before the target.
# Others (mpegts, mpeg-ps, ...) seek by bisecting byte positions and may land just after the
# preceding keyframe, losing frames up to the next one: those get a pre-roll (seek earlier, then
# drop frames before the real start with a trim filter).
INDEXED_SEEK_FORMATS = frozenset({MOV_FAMILY, "matroska,webm", "avi"})
MIN_PREROLL = 3.0


@dataclass(frozen=True)
class Chunk(Record):
    """Frames [start_frame, start_frame + frame_count) of the source."""

    index: int
    start_frame: int
    frame_count: int
    seek: float  # seconds relative to the input's start_time, for `-ss` (0: no seek)
    start: float  # frame_times[start_frame]
    duration: float  # next chunk start - start (last chunk: up to the last frame's end)
    trim: float = 0.0  # after seeking, drop decoded frames earlier than this (seconds past `seek`)


@dataclass(frozen=True)
class Plan(Record):
    """Everything the encoders and the assembler need, derived from the probe and options."""

    chunks: tuple[Chunk, ...]
    total_frames: int
    gop_frames: int
    width: int
    height: int
    fps: float
    has_audio: bool
    video_duration: float
    video_index: int = 0  # source stream mapped by every chunk encode
    audio_duration: float | None = None  # expected encoded audio length (None: no audio)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def output_size(display_width: int, display_height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Fit the display size (SAR and rotation already applied) in max_width x max_height.

    Keeps the display aspect ratio, never upscales, returns even dimensions (yuv420p needs them).
    """
    if display_width <= 0 or display_height <= 0:
        raise InvalidMediaError("video has invalid dimensions")
    scale = min(1.0, max_width / display_width, max_height / display_height)
    width, height = _even(display_width * scale), _even(display_height * scale)
    # Rounding to even may step over an (even) box edge by one pixel pair only if the box is odd.
    return min(width, max_width - max_width % 2), min(height, max_height - max_height % 2)


def expected_audio_duration(probe: ProbeResult) -> float | None:
    """Length of the encoded audio: source audio end minus the first video frame time."""
    if probe.audio is None or probe.video is None:
        return None
    return max(0.0, probe.audio.start + probe.audio.duration - probe.video.first_pts)


def gop_frames(fps: float, options: EncodeOptions) -> int:
    """Fixed GOP length in frames (≈ options.gop_seconds at the source frame rate)."""
    return max(1, round(fps * options.gop_seconds))


def chunk_starts(total_frames: int, gop: int, gops_per_chunk: int) -> list[int]:
    """Start frame of every chunk: whole GOPs each, a too-short tail merged into its predecessor."""
    if total_frames <= 0:
        return []
    size = gop * gops_per_chunk
    starts = list(range(0, total_frames, size))
    tail = total_frames - starts[-1]
    if len(starts) > 1 and tail < size * MIN_LAST_CHUNK_FRACTION:
        starts.pop()
    return starts


def seek_preroll(probe: ProbeResult) -> float:
    """Seconds to seek before a chunk's first frame (0 where the demuxer seeks exactly)."""
    if probe.format_name in INDEXED_SEEK_FORMATS or probe.video is None:
        return 0.0
    return max(MIN_PREROLL, 2 * probe.video.keyframe_interval)


def _chunks(
    starts: Sequence[int], frame_times: Sequence[float], video_duration: float, offset: float, preroll: float
) -> tuple[Chunk, ...]:
    """``offset``: first frame time relative to the input start_time."""
    total = len(frame_times)
    bounds = [*starts, total]
    chunks = []
    for i, (first, end) in enumerate(zip(bounds, bounds[1:])):
        # Seek to halfway between the previous frame and this one: ffmpeg's accurate seek keeps
        # frames with pts >= seek, and a half-frame margin survives every timestamp rounding.
        target = 0.0 if first == 0 else offset + (frame_times[first - 1] + frame_times[first]) / 2
        seek = max(0.0, target - preroll)
        stop = frame_times[end] if end < total else video_duration
        chunks.append(
            Chunk(
                index=i,
                start_frame=first,
                frame_count=end - first,
                seek=seek,
                start=frame_times[first],
                duration=stop - frame_times[first],
                trim=target - seek,
            )
        )
    return tuple(chunks)


def plan_chunks(probe: ProbeResult, options: EncodeOptions) -> Plan:
    """Split the probed video into whole-GOP chunks of about ``options.chunk_seconds``."""
    video = probe.video
    if video is None or video.frame_count == 0:
        raise InvalidMediaError("not a video file (no video stream)")
    fps = video.avg_fps if video.avg_fps > 0 else 30.0
    gop = gop_frames(fps, options)
    gops_per_chunk = max(1, round(options.chunk_seconds * fps / gop))
    starts = chunk_starts(video.frame_count, gop, gops_per_chunk)
    width, height = output_size(video.display_width, video.display_height, options.max_width, options.max_height)
    return Plan(
        chunks=_chunks(
            starts, video.frame_times, video.duration, video.first_pts - probe.start_time, seek_preroll(probe)
        ),
        total_frames=video.frame_count,
        gop_frames=gop,
        width=width,
        height=height,
        fps=fps,
        has_audio=probe.audio is not None,
        video_duration=video.duration,
        video_index=video.index,
        audio_duration=expected_audio_duration(probe),
    )
