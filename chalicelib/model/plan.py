"""Pure planning: chunk boundaries (frame indices) and output geometry. No I/O."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chalicelib.model.audioparts import (
    AAC_FRAME,
    AUDIO_PART_SECONDS,
    AUDIO_RATE,
    AudioPart,
    audio_parts,
    split_segments,
)
from chalicelib.model.colour import Colour, source_colour
from chalicelib.model.errors import InvalidMediaError
from chalicelib.model.facts import MOV_FAMILY, ProbeResult, Record, TrackKind
from chalicelib.model.ladder import Rung, build_ladder
from chalicelib.model.options import EncodeOptions
from chalicelib.model.tracks import AudioTrack, SubtitleTrack, audio_tracks, subtitle_tracks

# A last chunk shorter than this fraction of a normal chunk is merged into the previous one.
MIN_LAST_CHUNK_FRACTION = 0.5
# Demuxers whose seek uses a sample index and lands on a keyframe at or before the target.
# Others (mpegts, mpeg-ps, ...) seek by bisecting byte positions and may land just after the
# preceding keyframe, losing frames up to the next one: those get a pre-roll (seek earlier, then
# drop frames before the real start with a trim filter).
INDEXED_SEEK_FORMATS = frozenset({MOV_FAMILY, "matroska,webm", "avi"})
MIN_PREROLL = 3.0
# Work bound: frames decoded across all chunks ≤ this × the source's frames, whatever its GOP
# structure (a chunk decodes from the keyframe its seek lands on). A source with one keyframe
# would otherwise make every chunk decode from the start: work growing with the square of the length.
MAX_DECODE_RATIO = 1.25
MAX_CHUNKS = 2000
MIN_TIMESCALE = 10_000


@dataclass(frozen=True)
class Chunk(Record):
    """Frames [start_frame, start_frame + frame_count) of the source."""

    index: int
    start_frame: int
    frame_count: int
    seek: float  # seconds relative to the input's start_time, for `-ss` (0: no seek)
    start: float  # frame_times[start_frame]
    duration: float  # next chunk start - start (last chunk: up to the last frame's end)
    # Pre-roll formats: drop decoded frames whose source timestamp (seconds, the stream's own pts)
    # is earlier than this; 0 = keep every frame from the seek on.
    keep_from: float = 0.0


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
    rungs: tuple[Rung, ...] = ()  # the ladder, top H.264 rung first (the MP4's)
    timescale: int = 0  # ticks per second of every video track (CMAF: tfdt, sample durations)
    # Start of every media segment (one per GOP), seconds from the first frame: the boundaries
    # every rung, codec and the audio share.
    segment_times: tuple[float, ...] = ()
    # Seconds the audio starts before the first video frame: the output timeline starts with the
    # audio, and the first frame is shown from 0 until the second one (frame count unchanged).
    lead: float = 0.0
    colour: Colour | None = None  # an HDR source's colour (tone mapping, kept HDR rungs); None: SDR
    # Every audio track (the main one first: has_audio, audio_duration and the MP4's first audio),
    # the text subtitle tracks, and what the output leaves out of the source, in plain words.
    audio_tracks: tuple[AudioTrack, ...] = ()
    subtitles: tuple[SubtitleTrack, ...] = ()
    notes: tuple[str, ...] = ()
    # Segment numbers at which the audio's parallel parts after the first start (none: one part).
    audio_splits: tuple[int, ...] = ()

    @property
    def side_task(self) -> bool:
        """Whether the job has audio tasks: every audio track (in parts) and the text subtitles
        (with the first part; a source with subtitles but no audio has that one too)."""
        return self.has_audio or bool(self.subtitles)

    @property
    def audio_parts(self) -> tuple[AudioPart, ...]:
        """The audio tasks' parts, in order (none without a side task)."""
        if not self.side_task:
            return ()
        return audio_parts(self.segment_times or (0.0,), self.audio_splits)

    @property
    def origin_ticks(self) -> int:
        """Video tfdt of the first frame: the AAC encoder's priming frame (1024 samples) sits
        before it at audio tfdt 0, so both tracks' first real samples share one instant (to
        within half a tick)."""
        return round(self.timescale * AAC_FRAME / AUDIO_RATE)

    def segment_range(self, chunk: Chunk) -> range:
        """Global numbers (0-based) of the media segments ``chunk`` produces."""
        first = chunk.start_frame // self.gop_frames
        return range(first, first + -(-chunk.frame_count // self.gop_frames))


def video_timescale(time_base_den: int) -> int:
    """A timescale that holds every source timestamp exactly (so chunks' timelines join without
    a tick of rounding): a multiple of the stream's time base denominator, at least 10 000;
    MPEG's 90 kHz when the time base is unknown."""
    base = time_base_den or 90_000
    return base * -(-MIN_TIMESCALE // base)


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


def timeline_start(probe: ProbeResult) -> float:
    """Absolute time the output starts at: the first video frame, or the audio's first sample
    when that is earlier (an edit list delaying the video, a camera's audio leading a few frames)."""
    if probe.video is None:
        return probe.start_time
    if probe.audio is None:
        return probe.video.first_pts
    others = [t.start for t in probe.tracks if t.kind == TrackKind.AUDIO and t.index != probe.audio.index]
    return min(probe.video.first_pts, probe.audio.start, *others)


def video_lead(probe: ProbeResult) -> float:
    """Seconds the first frame is held before its own time (the audio leads by that much), in
    whole ticks of the video's time base so that every frame time stays exact."""
    video = probe.video
    if video is None:
        return 0.0
    lead = max(0.0, video.first_pts - timeline_start(probe))
    return round(lead * video.time_base_den) / video.time_base_den if video.time_base_den else lead


def output_times(frame_times: Sequence[float], lead: float) -> tuple[float, ...]:
    """Frame times on the output timeline: the first frame at 0, the others ``lead`` later."""
    return tuple(0.0 if i == 0 else t + lead for i, t in enumerate(frame_times))


def expected_audio_duration(probe: ProbeResult) -> float | None:
    """Length of the encoded audio: source audio end minus the output timeline's start."""
    if probe.audio is None or probe.video is None:
        return None
    return max(0.0, probe.audio.start + probe.audio.duration - timeline_start(probe))


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


def decode_start(start: int, frame_times: Sequence[float], keyframes: Sequence[int], preroll: float) -> int:
    """The first frame a chunk starting at frame ``start`` decodes: the keyframe at or before its seek.

    The seek aims half a frame before ``start`` (minus the pre-roll), so a keyframe exactly at
    ``start`` is not the one it lands on. Unknown keyframes (empty): the seek lands on ``start``.
    """
    if start == 0 or not keyframes:
        return start
    target = (frame_times[start - 1] + frame_times[start]) / 2 - preroll
    last_before = max(0, bisect_right(frame_times, target) - 1)
    k = bisect_right(keyframes, last_before) - 1
    return keyframes[k] if k >= 0 else 0


def decoded_frames(starts: Sequence[int], total: int, overhead: Callable[[int], int]) -> int:
    """Frames decoded by chunks starting at ``starts``: each one's own plus its seek overhead."""
    return total + sum(overhead(s) for s in starts)


def bounded_starts(starts: list[int], total: int, gop: int, overhead: Callable[[int], int],
                   max_ratio: float = MAX_DECODE_RATIO, opening_cuts: tuple[int, ...] = ()) -> list[int]:
    """Chunk starts (GOP multiples) whose decode overhead stays within ``max_ratio``.

    1. Move every boundary to the GOP boundary within half a chunk of it that costs the least
       extra decoding (just after a source keyframe where there is one).
    2. Keep the ``opening_cuts`` (a stream's short opening chunks), in order, as far as they alone
       fit in the budget: they go before every other cut.
    3. Drop the costliest other boundaries (merging chunks), spread out among equals, until the
       total is within the budget: a boundary's overhead does not depend on the others, so
       dropping saves exactly its cost.
    """
    budget = max_ratio * total
    if max_ratio == float("inf"):
        return sorted({*starts, *(c for c in opening_cuts if c + gop <= total)})
    moved = [0]
    size = starts[1] - starts[0] if len(starts) > 1 else total
    for nominal in starts[1:]:
        low = max(moved[-1] + gop, nominal - size // 2)
        high = min(total - 1, nominal + size // 2)
        first = -(-low // gop) * gop
        candidates = range(first, high + 1, gop)
        if candidates:
            moved.append(min(candidates, key=lambda c: (overhead(c), abs(c - nominal))))
    opening: list[int] = []
    for cut in opening_cuts:
        if cut + gop <= total and decoded_frames([0, *opening, cut], total, overhead) <= budget:
            opening.append(cut)
    keep = {*moved, *opening}
    spent = decoded_frames(sorted(keep), total, overhead)
    # Costliest first; among equal costs every other cut first, then every other of the rest, …
    # (fewest trailing zero bits of its rank first): a uniformly costly source's chunks merge
    # evenly, two into one, four into one, never into one long first (or last) chunk.
    rank = {b: i for i, b in enumerate(moved)}

    def spread(boundary: int) -> int:
        return (rank[boundary] & -rank[boundary]).bit_length()

    for boundary in sorted(set(moved[1:]) - set(opening), key=lambda b: (-overhead(b), spread(b), -b)):
        if spent <= budget:
            break
        keep.discard(boundary)
        spent -= overhead(boundary)
    return sorted(keep)


RAMP_GOPS = (1, 3)  # a stream's opening chunks: 1 segment, then 2, then full chunks


def seek_preroll(probe: ProbeResult) -> float:
    """Seconds to seek before a chunk's first frame (0 where the demuxer seeks exactly)."""
    if probe.format_name in INDEXED_SEEK_FORMATS or probe.video is None:
        return 0.0
    return max(MIN_PREROLL, 2 * probe.video.keyframe_interval)


def _chunks(starts: Sequence[int], frame_times: Sequence[float], video_duration: float, offset: float,
            first_pts: float, preroll: float, lead: float = 0.0) -> tuple[Chunk, ...]:
    """``offset``: first frame time relative to the input start_time; ``first_pts`` its own timestamp;
    ``lead``: the first frame's hold (the chunks' times are on the output timeline, seeks on the source's)."""
    total = len(frame_times)
    times = output_times(frame_times, lead)
    bounds = [*starts, total]
    chunks = []
    for i, (first, end) in enumerate(zip(bounds, bounds[1:])):
        # Seek to halfway between the previous frame and this one: ffmpeg's accurate seek keeps
        # frames with pts >= seek, and a half-frame margin survives every timestamp rounding.
        middle = 0.0 if first == 0 else (frame_times[first - 1] + frame_times[first]) / 2
        target = 0.0 if first == 0 else offset + middle
        seek = max(0.0, target - preroll)
        stop = times[end] if end < total else video_duration + lead
        chunks.append(
            Chunk(
                index=i,
                start_frame=first,
                frame_count=end - first,
                seek=seek,
                start=times[first],
                duration=stop - times[first],
                # The cut by source timestamp, not by time since the seek: how ffmpeg rebases
                # timestamps after a seek differs between demuxers (MPEG-TS with audio first).
                keep_from=first_pts + middle if target > seek else 0.0,
            )
        )
    return tuple(chunks)


def plan_chunks(probe: ProbeResult, options: EncodeOptions, *, max_decode_ratio: float = MAX_DECODE_RATIO,
                audio_part_seconds: float = AUDIO_PART_SECONDS) -> Plan:
    """Split the probed video into whole-GOP chunks of about ``options.chunk_seconds``, as many as
    the decode budget allows (``max_decode_ratio=inf``: chunks of exactly that length, which
    only the seam tests ask for), and the audio into parts of about ``audio_part_seconds``
    (0: one part; loudness normalisation, measured over the whole track, needs one)."""
    video = probe.video
    if video is None or video.frame_count == 0:
        raise InvalidMediaError("not a video file (no video stream)")
    fps = video.avg_fps if video.avg_fps > 0 else 30.0
    gop = gop_frames(fps, options)
    gops_per_chunk = max(1, round(options.chunk_seconds * fps / gop), -(-video.frame_count // (gop * MAX_CHUNKS)))
    preroll = seek_preroll(probe)

    def overhead(start: int) -> int:
        return start - decode_start(start, video.frame_times, video.keyframes, preroll)

    # A stream opens with one segment, then two: its first segments (of every rung) are out after
    # a one-GOP encode, so playback starts as early as the source allows, whatever the chunk length.
    opening = tuple(g * gop for g in RAMP_GOPS) if options.streaming else ()
    starts = bounded_starts(chunk_starts(video.frame_count, gop, gops_per_chunk), video.frame_count, gop, overhead,
                            max_decode_ratio, opening)
    width, height = output_size(video.display_width, video.display_height, options.max_width, options.max_height)
    rungs = build_ladder(options, width, height, fps)
    lead = video_lead(probe)
    subtitles, notes = subtitle_tracks(probe)
    times = output_times(video.frame_times, lead)
    segment_times = tuple(times[i] for i in range(0, video.frame_count, gop))
    tracks = audio_tracks(probe, timeline_start(probe))
    audio_duration = expected_audio_duration(probe)
    splits: tuple[int, ...] = ()
    if audio_duration is not None and options.loudness_target is None:
        shortest = min([audio_duration, *(t.duration for t in tracks)])
        splits = split_segments(segment_times, min(shortest, video.duration + lead), audio_part_seconds)
    return Plan(
        chunks=_chunks(
            starts, video.frame_times, video.duration, video.first_pts - probe.start_time, video.first_pts, preroll,
            lead,
        ),
        total_frames=video.frame_count,
        gop_frames=gop,
        width=rungs[0].width,  # the MP4's: the top H.264 rung
        height=rungs[0].height,
        fps=fps,
        has_audio=probe.audio is not None,
        video_duration=video.duration + lead,
        video_index=video.index,
        audio_duration=audio_duration,
        rungs=rungs,
        timescale=video_timescale(video.time_base_den),
        segment_times=segment_times,
        lead=lead,
        colour=source_colour(video, options),
        audio_tracks=tracks,
        subtitles=subtitles,
        notes=notes,
        audio_splits=splits,
    )
