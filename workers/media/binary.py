"""Which ffmpeg the workers run: the static build pinned by the imageio-ffmpeg wheel."""
from __future__ import annotations

import os


def ffmpeg_binary() -> str:
    """Path of the ffmpeg executable: $FFMPEG_BINARY, else imageio-ffmpeg's static build."""
    configured = os.environ.get("FFMPEG_BINARY")
    if configured:
        return configured
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())
