"""The source's audio and subtitle tracks as the output keeps them: every audio track an audio
rendition (the main one first), every text subtitle a WebVTT rendition; pure, no I/O."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.model.facts import ProbeResult, Record, TrackInfo, TrackKind

MAIN_AUDIO_ID = "audio"  # the main track keeps the name it had when it was the only one
MAX_AUDIO_TRACKS = 8
MAX_SUBTITLE_TRACKS = 16


@dataclass(frozen=True)
class AudioTrack(Record):
    """One audio rendition: which source stream, how it is labelled, how long it must last."""

    id: str
    index: int
    language: str
    name: str
    default: bool
    duration: float  # expected encoded length (seconds from the output's t=0)


@dataclass(frozen=True)
class SubtitleTrack(Record):
    """One text subtitle rendition (WebVTT in the stream, mov_text in the MP4)."""

    id: str
    index: int
    language: str
    name: str
    default: bool
    forced: bool
    codec: str


# Display names of the commonest ISO 639-2 codes (B and T forms); others show the code.
LANGUAGE_NAMES = {
    "eng": "English", "fra": "Français", "fre": "Français", "deu": "Deutsch", "ger": "Deutsch",
    "spa": "Español", "ita": "Italiano", "por": "Português", "nld": "Nederlands", "dut": "Nederlands",
    "rus": "Русский", "jpn": "日本語", "zho": "中文", "chi": "中文", "kor": "한국어", "ara": "العربية",
    "hin": "हिन्दी", "pol": "Polski", "tur": "Türkçe", "swe": "Svenska", "nor": "Norsk", "dan": "Dansk",
    "fin": "Suomi", "ces": "Čeština", "cze": "Čeština", "ell": "Ελληνικά", "gre": "Ελληνικά",
    "heb": "עברית", "ukr": "Українська",
}


def main_only(index: int, duration: float) -> AudioTrack:
    """The main audio alone: a source probed (or a plan made) before every track was kept."""
    return AudioTrack(MAIN_AUDIO_ID, index, "", "Main", True, duration)


def _name(track: TrackInfo, fallback: str) -> str:
    """The track's own title, else its language's name, else ``fallback``."""
    if track.title:
        return track.title
    return LANGUAGE_NAMES.get(track.language, track.language.upper()) if track.language else fallback


def audio_tracks(probe: ProbeResult, timeline_start: float) -> tuple[AudioTrack, ...]:
    """Every audio track, the main one (``probe.audio``) first and marked default."""
    if probe.audio is None:
        return ()
    tracks = [t for t in probe.tracks if t.kind == TrackKind.AUDIO]
    main = next((t for t in tracks if t.index == probe.audio.index), None)
    ordered = [*([main] if main else []), *(t for t in tracks if t.index != probe.audio.index)][:MAX_AUDIO_TRACKS]
    out = []
    for number, track in enumerate(ordered):
        main_track = number == 0
        start, duration = ((probe.audio.start, probe.audio.duration) if main_track else (track.start, track.duration))
        out.append(AudioTrack(
            id=MAIN_AUDIO_ID if main_track else f"audio-{number + 1}",
            index=track.index,
            language=track.language,
            name=_name(track, "Main" if main_track else f"Audio {number + 1}"),
            default=main_track,
            duration=max(0.0, start + duration - timeline_start),
        ))
    if not out:  # a probe of an older record: no track list, the main audio only
        out.append(main_only(probe.audio.index, max(0.0, probe.audio.start + probe.audio.duration - timeline_start)))
    return tuple(out)


def subtitle_tracks(probe: ProbeResult) -> tuple[tuple[SubtitleTrack, ...], tuple[str, ...]]:
    """The text subtitle tracks kept, and a note for each one left out (bitmap, over the limit)."""
    kept: list[SubtitleTrack] = []
    notes: list[str] = []
    for track in (t for t in probe.tracks if t.kind == TrackKind.SUBTITLE):
        label = f"subtitle track {track.index} ({track.codec}{', ' + track.language if track.language else ''})"
        if track.bitmap:
            notes.append(f"{label} left out: picture-based subtitles cannot be converted to text")
        elif len(kept) >= MAX_SUBTITLE_TRACKS:
            notes.append(f"{label} left out: at most {MAX_SUBTITLE_TRACKS} subtitle tracks are kept")
        else:
            number = len(kept) + 1
            kept.append(SubtitleTrack(f"text-{number}", track.index, track.language,
                                      _name(track, f"Subtitles {number}"), track.default, track.forced, track.codec))
    dropped_audio = [t for t in probe.tracks if t.kind == TrackKind.AUDIO][MAX_AUDIO_TRACKS:]
    notes += [f"audio track {t.index} left out: at most {MAX_AUDIO_TRACKS} audio tracks are kept"
              for t in dropped_audio]
    return tuple(kept), tuple(notes)
