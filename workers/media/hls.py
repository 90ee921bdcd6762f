"""HLS playlists (version 7, CMAF fMP4) of a stream index: pure text builders."""
from __future__ import annotations

import math

from chalicelib.model.playback import SUBTITLES
from workers.media.stream import INIT, Index, Rendition, segment_name

VERSION = 7
AUDIO_GROUP = "audio"
SUBTITLE_GROUP = "subs"
PLAYLIST = "index.m3u8"


def media_playlist(rendition: Rendition, index: Index) -> str:
    """One rendition's playlist: ``EVENT`` while the job encodes (segments only ever appended),
    ``VOD`` with ``EXT-X-ENDLIST`` once it is complete."""
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{index.target_duration}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        f"#EXT-X-PLAYLIST-TYPE:{'VOD' if index.complete else 'EVENT'}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{INIT}"',
    ]
    for number, seconds in enumerate(rendition.seconds):
        lines += [f"#EXTINF:{seconds:.6f},", segment_name(number)]
    if index.complete:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def variant_bandwidth(video: Rendition, audio: Rendition | None) -> tuple[int, int]:
    """(BANDWIDTH, AVERAGE-BANDWIDTH) of a variant: its video plus the audio it plays with."""
    peak = video.peak_bitrate + (audio.peak_bitrate if audio else 0)
    average = video.average_bitrate + (audio.average_bitrate if audio else 0)
    return peak, average


def _quoted(value: str) -> str:
    """An attribute's quoted-string value: no quote, no line break (RFC 8216 §4.2)."""
    return "".join(c for c in value if c not in '"\r\n')


def _media(kind: str, group: str, name: str, language: str, default: bool, uri: str, extra: str = "") -> str:
    language_attr = f',LANGUAGE="{_quoted(language)}"' if language else ""
    return (f'#EXT-X-MEDIA:TYPE={kind},GROUP-ID="{group}",NAME="{_quoted(name)}"{language_attr},'
            f'DEFAULT={"YES" if default else "NO"},AUTOSELECT=YES{extra},URI="{uri}"')


def master_playlist(index: Index) -> str:
    """The multivariant playlist: one variant per video rendition (H.264 first), one audio group
    (every audio track, the main one the default), one subtitles group."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    audio = index.audio
    names: set[str] = set()
    for track in index.audios:
        name = track.name or "Audio"
        name = name if name not in names else f"{name} ({track.id})"  # NAME is unique in a group
        names.add(name)
        lines.append(_media("AUDIO", AUDIO_GROUP, name, track.language, track.id == audio.id if audio else False,
                            f"{track.id}/{PLAYLIST}", ',CHANNELS="2"'))
    for subtitle in index.subtitles:
        name = subtitle.name if subtitle.name not in names else f"{subtitle.name} ({subtitle.id})"
        names.add(name)
        forced = ",FORCED=YES" if subtitle.forced else ""
        lines.append(_media("SUBTITLES", SUBTITLE_GROUP, name, subtitle.language, subtitle.default,
                            f"{subtitle.id}/{PLAYLIST}", forced))
    loudest = max(index.audios, key=lambda a: a.peak_bitrate, default=None)  # a variant plays any of them
    for video in index.video:
        peak, average = variant_bandwidth(video, loudest)
        codecs = video.codecs + (f",{audio.codecs}" if audio else "")
        attributes = [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={average}", f'CODECS="{codecs}"',
                      f"RESOLUTION={video.width}x{video.height}", f"FRAME-RATE={video.fps:.3f}",
                      f"VIDEO-RANGE={video.video_range}"]
        if audio is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        if index.subtitles:
            attributes.append(f'SUBTITLES="{SUBTITLE_GROUP}"')
        attributes.append("CLOSED-CAPTIONS=NONE")
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", f"{video.id}/{PLAYLIST}"]
    return "\n".join(lines) + "\n"


def subtitle_playlist(index: Index) -> str:
    """A subtitle rendition's playlist: its one WebVTT file, the whole video long."""
    seconds = index.video[0].total_seconds if index.video else 0.0
    return "\n".join([
        "#EXTM3U", f"#EXT-X-VERSION:{VERSION}", f"#EXT-X-TARGETDURATION:{max(1, math.ceil(seconds))}",
        "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXTINF:{seconds:.6f},", SUBTITLES,
        "#EXT-X-ENDLIST"]) + "\n"


def playlists(index: Index) -> dict[str, str]:
    """Every playlist of the package by its path: the master and one per rendition."""
    files = {"master.m3u8": master_playlist(index)}
    for rendition in (*index.video, *index.audios):
        files[f"{rendition.id}/{PLAYLIST}"] = media_playlist(rendition, index)
    for subtitle in index.subtitles:
        files[f"{subtitle.id}/{PLAYLIST}"] = subtitle_playlist(index)
    return files
