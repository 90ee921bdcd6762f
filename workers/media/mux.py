"""The progressive MP4: the top H.264 rung's segments and the audio segments, remuxed (no encode)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from chalicelib.media import sandbox
from chalicelib.model.audioparts import AAC_FRAME, AUDIO_RATE
from workers.media.binary import ffmpeg_binary

# Our own local intermediates: nothing beyond plain files may be opened.
_OWN_FILE = ["-protocol_whitelist", "file"]
# ffmpeg converts the MP4 edit list through microseconds: at a finer timescale it loses ticks,
# and an edit starting 2 ticks late hid a 23.04 MHz source's first frame (measured). The MP4's
# video is rescaled to 90 kHz then (the segments keep the exact timescale).
MAX_MP4_TIMESCALE = 1_000_000
MP4_TIMESCALE = 90_000


def remux_argv(video_path: str, audio_path: str | None, out_path: str, timescale: int = MP4_TIMESCALE, *,
               languages: Sequence[str] = (), alternates: Sequence[tuple[str, str]] = (),
               subtitles: Sequence[tuple[str, str]] = ()) -> list[str]:
    """ffmpeg argv: a faststart MP4 from a rung's fragmented MP4 (init + its segments, in order)
    and the audio's, stream copy [with the other audio tracks' and the WebVTT subtitles as
    ``mov_text`` tracks: (path, ISO 639-2 language) each; ``languages``: the main audio's].

    The segments' timeline starts at the AAC priming frame; the audio inputs are moved one frame
    earlier so the MP4's audio edit lists hide the priming as a plain AAC encode's would, and
    their first real samples meet the first video frame at t=0. ``timescale``: the segments'.
    """
    argv = [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, *_OWN_FILE, "-i", video_path]
    maps = ["-map", "0:v:0"]
    tags: list[str] = []
    audio_inputs = ([(audio_path, languages[0] if languages else "")] if audio_path is not None else [])
    for number, (path, language) in enumerate([*audio_inputs, *(alternates if audio_path is not None else ())]):
        argv += [*_OWN_FILE, "-itsoffset", f"-{AAC_FRAME / AUDIO_RATE:.6f}", "-i", path]
        maps += ["-map", f"{len(maps) // 2}:a:0"]
        tags += [f"-metadata:s:a:{number}", f"language={language or 'und'}",
                 f"-disposition:a:{number}", "default" if number == 0 else "0"]
    for number, (path, language) in enumerate(subtitles):
        argv += [*_OWN_FILE, "-i", path]
        maps += ["-map", f"{len(maps) // 2}:s:0"]
        tags += [f"-metadata:s:s:{number}", f"language={language or 'und'}", f"-disposition:s:{number}", "0"]
    rescale = ["-video_track_timescale", str(MP4_TIMESCALE)] if timescale > MAX_MP4_TIMESCALE else []
    return [
        *argv,
        *maps,
        "-c", "copy",
        *(["-c:s", "mov_text"] if subtitles else []),
        *rescale,
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        *tags,
        "-movflags", "+faststart",
        "-f", "mp4",
        out_path,
    ]


def remux(video_path: str, audio_path: str | None, out_path: str, *, timescale: int, timeout: float,
          cancel: threading.Event | None = None, languages: Sequence[str] = (),
          alternates: Sequence[tuple[str, str]] = (), subtitles: Sequence[tuple[str, str]] = ()) -> None:
    """Write the MP4 at ``out_path`` (see ``remux_argv``). Raises MediaError with a reason."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    # Our own local files in, a local file out: no network at all.
    sandbox.run(remux_argv(video_path, audio_path, out_path, timescale, languages=languages, alternates=alternates,
                           subtitles=subtitles), timeout, what="assembling output", cancel=cancel, network=False,
                workdir=out_dir)
