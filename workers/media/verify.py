"""Check an assembled MP4 against its plan before it is published."""
from __future__ import annotations

from typing import Any

from chalicelib.media.probe import ByteSource, probe, top_level_boxes
from chalicelib.model.audioparts import AAC_FRAME, AUDIO_RATE
from chalicelib.model.errors import MediaError, VerificationError
from chalicelib.model.facts import ProbeResult, TrackKind
from chalicelib.model.kinds import chunk_part
from chalicelib.model.plan import Plan
from workers.media.stream import Index

AUDIO_TOLERANCE = 0.05  # seconds


def atom_order(source: str) -> list[str]:
    """Top-level MP4 box types of a local file or an http(s) URL (the composed output's presigned
    one: ranged reads of the box headers only), in file order."""
    reader = ByteSource(source)
    try:
        return [box.type for box in top_level_boxes(reader.read_at, reader.size)]
    finally:
        reader.close()


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise VerificationError(f"output verification failed: {reason}")


def _check_audio(result: ProbeResult, expected_duration: float | None) -> dict[str, Any] | None:
    audio = result.audio
    if expected_duration is None:
        _check(audio is None, "unexpected audio track")
        return None
    _check(audio is not None, "audio track missing")
    assert audio is not None
    _check(audio.codec == "aac", f"audio codec is {audio.codec}, expected aac")
    _check(audio.sample_rate == 48_000, f"audio sample rate is {audio.sample_rate}, expected 48000")
    _check(audio.channels == 2, f"audio has {audio.channels} channels, expected 2")
    _check(
        abs(audio.duration - expected_duration) <= AUDIO_TOLERANCE,
        f"audio lasts {audio.duration:.3f}s, expected {expected_duration:.3f}s",
    )
    return {"codec": audio.codec, "channels": audio.channels, "sample_rate": audio.sample_rate,
            "duration": audio.duration}


def verify_output(path: str, plan: Plan, audio_expected_duration: float | None) -> dict[str, Any]:
    """Check the assembled MP4 against the plan; return its metadata. Raises VerificationError."""
    atoms = atom_order(path)
    _check("moov" in atoms and "mdat" in atoms, "not an MP4 file")
    _check(atoms.index("moov") < atoms.index("mdat"), "moov atom after mdat (not faststart)")
    try:
        result = probe(path)
    except MediaError as exc:
        # A probe that timed out on a loaded machine may pass on the next attempt.
        raise VerificationError(f"output verification failed: {exc}", retryable=exc.retryable) from None
    video = result.video
    _check(video is not None, "no video track")
    assert video is not None
    _check(video.codec == "h264", f"video codec is {video.codec}, expected h264")
    _check(video.profile == "High", f"H.264 profile is {video.profile or 'unknown'}, expected High")
    _check(video.pix_fmt == "yuv420p", f"pixel format is {video.pix_fmt}, expected yuv420p")
    _check(video.rotation == 0, f"output still carries a {video.rotation} degree rotation")
    _check((video.width, video.height) == (plan.width, plan.height), f"size {video.width}x{video.height}")
    _check(
        video.frame_count == plan.total_frames,
        f"{video.frame_count} frames, expected {plan.total_frames}",
    )
    frame = 1 / plan.fps
    _check(
        abs(video.duration - plan.video_duration) <= frame + 1e-3,
        f"video lasts {video.duration:.3f}s, expected {plan.video_duration:.3f}s",
    )
    audio = _check_audio(result, audio_expected_duration)
    tracks = _check_tracks(result, plan, audio_expected_duration is not None)
    return {
        "width": video.width,
        "height": video.height,
        "frames": video.frame_count,
        "fps": video.avg_fps,
        "video_codec": video.codec,
        "profile": video.profile,
        "pix_fmt": video.pix_fmt,
        "duration": video.duration,
        "size": result.size,
        "bitrate": int(result.size * 8 / result.duration) if result.duration > 0 else 0,
        "audio": audio,
        **tracks,
    }


def _check_tracks(result: ProbeResult, plan: Plan, with_audio: bool) -> dict[str, Any]:
    """Every audio track the plan keeps, each lasting what its source track does; every text
    subtitle track, as mov_text."""
    audios = [t for t in result.tracks if t.kind == TrackKind.AUDIO]
    subtitles = [t for t in result.tracks if t.kind == TrackKind.SUBTITLE]
    wanted = plan.audio_tracks if with_audio else ()
    if len(wanted) > 1:
        _check(len(audios) == len(wanted), f"{len(audios)} audio tracks, expected {len(wanted)}")
        for got, track in zip(audios[1:], wanted[1:]):
            _check(abs(got.duration - track.duration) <= AUDIO_TOLERANCE,
                   f"audio track {track.id} lasts {got.duration:.3f}s, expected {track.duration:.3f}s")
    _check(len(subtitles) == len(plan.subtitles), f"{len(subtitles)} subtitle tracks, expected {len(plan.subtitles)}")
    _check(all(t.codec == "mov_text" for t in subtitles), "a subtitle track is not mov_text")
    return {"audio_tracks": [{"language": t.language, "duration": t.duration} for t in audios],
            "subtitles": [{"language": t.language} for t in subtitles]}


def verify_stream(plan: Plan, index: Index, parts: dict[str, dict[str, Any]]) -> None:
    """Check a complete stream against its plan from the part records. Raises VerificationError.

    Every rung: one segment per planned segment and exactly the source's frames, lasting the
    video's length to the tick; the audio: the source's samples (plus the priming frame) ± one AAC frame.
    """
    _check(index.complete, "the stream is missing parts")
    expected = len(plan.segment_times)
    for rung in index.video:
        _check(len(rung.durations) == expected, f"{rung.id} has {len(rung.durations)} segments, expected {expected}")
        frames = sum(sum(parts[chunk_part(c.index)]["tracks"][rung.id]["frames"]) for c in plan.chunks)
        _check(frames == plan.total_frames, f"{rung.id} has {frames} frames, expected {plan.total_frames}")
        # Each chunk's decode timeline ends where the next chunk's first frame starts (the last
        # one's at the video's end): together exactly the source's length, to the tick.
        ticks = round(plan.video_duration * plan.timescale)
        _check(sum(rung.durations) == ticks,
               f"{rung.id} lasts {rung.total_seconds:.3f}s, expected the video's {plan.video_duration:.3f}s")
    _check(len(index.subtitles) == len(plan.subtitles), "a subtitle rendition is missing")
    if plan.audio_duration is None:
        _check(index.audio is None, "unexpected audio rendition")
        return
    _check(index.audio is not None, "audio rendition missing")
    assert index.audio is not None
    lengths = {t.id: t.duration for t in plan.audio_tracks} or {index.audio.id: plan.audio_duration}
    _check(len(index.audios) == len(lengths), f"{len(index.audios)} audio renditions, expected {len(lengths)}")
    for rendition in index.audios:
        samples = sum(rendition.durations) - AAC_FRAME
        wanted = lengths[rendition.id] * AUDIO_RATE
        _check(abs(samples - wanted) <= AAC_FRAME + AUDIO_TOLERANCE * AUDIO_RATE,
               f"{rendition.id} has {samples} samples, expected {wanted:.0f}")
