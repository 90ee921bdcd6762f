"""What a job's stream holds so far, from its part records alone (no segment bytes are read)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from chalicelib.model.audioparts import AAC_FRAME, AUDIO_RATE
from chalicelib.model.colour import VideoRange, rendition_cicp, rendition_range
from chalicelib.model.errors import VerificationError
from chalicelib.model.kinds import PartState, audio_part, chunk_part
from chalicelib.model.plan import Plan
from chalicelib.model.playback import INIT as INIT  # re-exported: the API reads segments too (thumbnails)
from chalicelib.model.playback import segment_name as segment_name
from chalicelib.model.tracks import SubtitleTrack, main_only
from workers.media.package import AUDIO_ID


@dataclass(frozen=True)
class Rendition:
    """One track of the package: where its segments start on its timeline, their lengths and sizes."""

    id: str
    kind: str  # video | audio
    codecs: str
    timescale: int
    start: int  # tfdt of the first segment
    offset: int  # presentation time offset: the tick that is t=0 (the first video frame)
    durations: tuple[int, ...]
    sizes: tuple[int, ...]
    codec: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_range: str = VideoRange.SDR  # SDR, or the PQ/HLG of a kept HDR rung (HLS VIDEO-RANGE)
    cicp: tuple[int, int, int] | None = None  # a kept HDR rung's colour primaries, transfer, matrix (DASH)
    language: str = ""  # an audio rendition's, as the source tagged it
    name: str = ""
    default: bool = False

    @property
    def seconds(self) -> list[float]:
        """Every segment's duration in seconds."""
        return [d / self.timescale for d in self.durations]

    @property
    def total_seconds(self) -> float:
        """The listed segments' total duration."""
        return sum(self.durations) / self.timescale

    @property
    def peak_bitrate(self) -> int:
        """Highest segment bit rate (bits/s): what an ABR player must be able to sustain."""
        return max((int(-(-8 * s * self.timescale // d)) for s, d in zip(self.sizes, self.durations) if d),
                   default=0)

    @property
    def average_bitrate(self) -> int:
        """Bits/s over the whole listed duration."""
        total = sum(self.durations)
        return int(-(-8 * sum(self.sizes) * self.timescale // total)) if total else 0

    @property
    def frame_rate(self) -> Fraction:
        """The frame rate as a fraction (DASH's ``frameRate`` wants one)."""
        return Fraction(self.fps).limit_denominator(1001)


@dataclass(frozen=True)
class Index:
    """The publishable part of a job's stream: renditions cut to the same number of segments."""

    video: tuple[Rendition, ...]
    audio: Rendition | None  # the main audio
    complete: bool
    target_duration: int
    alternates: tuple[Rendition, ...] = ()  # the other audio tracks, each as long as the main one is listed
    subtitles: tuple[SubtitleTrack, ...] = ()  # once the audio task is done (it writes them)

    @property
    def audios(self) -> tuple[Rendition, ...]:
        """Every audio rendition, the main one first."""
        return (self.audio, *self.alternates) if self.audio is not None else ()

    @property
    def segments(self) -> int:
        """How many video segments are listed."""
        return len(self.video[0].durations) if self.video else 0


def target_duration(plan: Plan) -> int:
    """EXT-X-TARGETDURATION, fixed for the job from its plan (an EVENT playlist may not change it):
    the longest segment rounded. Audio segments are up to one AAC frame longer than the video's,
    and the last one holds whatever audio outlasts the video."""
    ends = [*plan.segment_times[1:], plan.video_duration]
    longest = max((b - a for a, b in zip(plan.segment_times, ends)), default=plan.video_duration)
    if plan.audio_duration is not None and plan.segment_times:
        longest = max(longest, plan.audio_duration - plan.segment_times[-1])
    return max(1, round(longest + AAC_FRAME / AUDIO_RATE))


def _done(record: dict[str, Any]) -> bool:
    return record.get("state") == PartState.DONE


def collect(plan: Plan, parts: dict[str, dict[str, Any]]) -> Index:
    """The renditions of the chunks done so far, in order up to the first one not done, and the
    audio segments done so far; both cut to what plays together. Complete when everything is done.

    VerificationError when two chunks of a rung wrote different init segments.
    """
    done_chunks: list[dict[str, Any]] = []
    for chunk in plan.chunks:
        record = parts.get(chunk_part(chunk.index))
        if record is None or not _done(record):
            break
        done_chunks.append(record)
    records, audio_complete = _audio_records(plan, parts)
    complete = len(done_chunks) == len(plan.chunks) and audio_complete
    video = []
    for rung in plan.rungs:
        durations: list[int] = []
        sizes: list[int] = []
        inits = set()
        codecs = ""
        for record in done_chunks:
            track = record["tracks"][rung.id]
            durations += track["durations"]
            sizes += track["sizes"]
            inits.add(track["init"])
            codecs = track["codecs"]
        if len(inits) > 1:
            raise VerificationError(f"output verification failed: the chunks of {rung.id} have different "
                                    "init segments")
        video.append(Rendition(rung.id, "video", codecs, plan.timescale, plan.origin_ticks, plan.origin_ticks,
                               tuple(durations), tuple(sizes), rung.codec, rung.width, rung.height, plan.fps,
                               rendition_range(plan.colour, rung.codec), rendition_cicp(plan.colour, rung.codec)))
    audios: list[Rendition] = []
    if plan.has_audio:
        wanted = plan.audio_tracks or (main_only(0, plan.audio_duration or 0.0),)
        # Every track listed as far as all of them (and the video) have got: they play together.
        count = min(len(records[t.id]["durations"]) if t.id in records else 0 for t in wanted)
        listed = count if complete else min(count, len(video[0].durations) if video else 0)
        if not complete and listed < (len(video[0].durations) if video else 0):
            video = [_cut(r, listed) for r in video]  # video waits for the audio beside it
        for track in wanted:
            record = records.get(track.id)
            if record:
                audios.append(Rendition(track.id, "audio", record["codecs"], AUDIO_RATE, 0, AAC_FRAME,
                                        tuple(record["durations"][:listed]), tuple(record["sizes"][:listed]),
                                        language=track.language, name=track.name, default=track.default))
    main = next((a for a in audios if a.id == AUDIO_ID), None)
    return Index(tuple(video), main, complete, target_duration(plan), tuple(a for a in audios if a is not main),
                 plan.subtitles if complete else ())


def _audio_records(plan: Plan, parts: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], bool]:
    """Every audio track's record as far as its parts go in order (the done ones, then what the
    first one not done has published so far), and whether all of them are done.

    VerificationError when two parts of a track wrote different init segments.
    """
    tracks: dict[str, dict[str, Any]] = {}
    for part in plan.audio_parts:
        record = parts.get(audio_part(part.index)) or {}
        for track_id, track in (record.get("tracks") or {}).items():
            joined = tracks.setdefault(track_id, {"codecs": track["codecs"], "init": track["init"], "durations": [],
                                                  "sizes": []})
            if joined["init"] != track["init"]:
                raise VerificationError(f"output verification failed: the audio parts of {track_id} have "
                                        "different init segments")
            joined["durations"] += track["durations"]
            joined["sizes"] += track["sizes"]
        if not _done(record):
            return tracks, False
    return tracks, True


def _cut(rendition: Rendition, count: int) -> Rendition:
    return Rendition(**{**rendition.__dict__, "durations": rendition.durations[:count],
                        "sizes": rendition.sizes[:count]})
