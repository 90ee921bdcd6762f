"""The progressive MP4: the top H.264 rung's segments and the audio segments, remuxed (no encode)."""

from __future__ import annotations

import os
import threading

from chalicelib.media import sandbox
from chalicelib.model.plan import AAC_FRAME, AUDIO_RATE
from workers.media.binary import ffmpeg_binary

# Our own local intermediates: nothing beyond plain files may be opened.
_OWN_FILE = ["-protocol_whitelist", "file"]
# ffmpeg converts the MP4 edit list through microseconds: at a finer timescale it loses ticks,
# and an edit starting 2 ticks late hid a 23.04 MHz source's first frame (measured). The MP4's
# video is rescaled to 90 kHz then (the segments keep the exact timescale).
MAX_MP4_TIMESCALE = 1_000_000
MP4_TIMESCALE = 90_000


def remux_argv(video_path: str, audio_path: str | None, out_path: str, timescale: int = MP4_TIMESCALE) -> list[str]:
    """ffmpeg argv: a faststart MP4 from a rung's fragmented MP4 (init + its segments, in order)
    and the audio's, stream copy.

    The segments' timeline starts at the AAC priming frame; the audio input is moved one frame
    earlier so the MP4's audio edit list hides the priming as a plain AAC encode's would, and
    its first real sample meets the first video frame at t=0. ``timescale``: the segments'.
    """
    argv = [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, *_OWN_FILE, "-i", video_path]
    maps = ["-map", "0:v:0"]
    if audio_path is not None:
        argv += [*_OWN_FILE, "-itsoffset", f"-{AAC_FRAME / AUDIO_RATE:.6f}", "-i", audio_path]
        maps += ["-map", "1:a:0"]
    rescale = ["-video_track_timescale", str(MP4_TIMESCALE)] if timescale > MAX_MP4_TIMESCALE else []
    return [
        *argv,
        *maps,
        "-c", "copy",
        *rescale,
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-f", "mp4",
        out_path,
    ]


def remux(video_path: str, audio_path: str | None, out_path: str, *, timescale: int, timeout: float,
          cancel: threading.Event | None = None) -> None:
    """Write the MP4 at ``out_path``. Raises MediaError with a reason."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    # Our own local files in, a local file out: no network at all.
    sandbox.run(remux_argv(video_path, audio_path, out_path, timescale), timeout, what="assembling output",
                cancel=cancel, network=False, workdir=out_dir)
