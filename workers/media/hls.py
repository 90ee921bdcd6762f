"""HLS playlists (version 7, CMAF fMP4) of a stream index: pure text builders."""
from __future__ import annotations

from workers.media.stream import INIT, Index, Rendition, segment_name

VERSION = 7
AUDIO_GROUP = "audio"
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


def master_playlist(index: Index) -> str:
    """The multivariant playlist: one variant per video rendition (H.264 first), one audio group."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    audio = index.audio
    if audio is not None:
        lines.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,'
                     f'CHANNELS="2",URI="{audio.id}/{PLAYLIST}"')
    for video in index.video:
        peak, average = variant_bandwidth(video, audio)
        codecs = video.codecs + (f",{audio.codecs}" if audio else "")
        attributes = [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={average}", f'CODECS="{codecs}"',
                      f"RESOLUTION={video.width}x{video.height}", f"FRAME-RATE={video.fps:.3f}"]
        if audio is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        attributes.append("CLOSED-CAPTIONS=NONE")
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", f"{video.id}/{PLAYLIST}"]
    return "\n".join(lines) + "\n"


def playlists(index: Index) -> dict[str, str]:
    """Every playlist of the package by its path: the master and one per rendition."""
    files = {"master.m3u8": master_playlist(index)}
    for rendition in (*index.video, *([index.audio] if index.audio else [])):
        files[f"{rendition.id}/{PLAYLIST}"] = media_playlist(rendition, index)
    return files
