"""One still of a job's own output, decoded in a sandboxed subprocess (PyAV), as a JPEG or WebP.

``still()`` runs ``python -m chalicelib.media.still <source> <start> <at_ms> <width> <height>
<format>`` under the sandbox (rlimits, timeout, none of our environment; no network for a local
file). The child decodes from the keyframe at or before the instant to the frame displayed then
(the last one whose time on the output's timeline, rounded to whole milliseconds, is at most
``at_ms``; the file's first frame is at ``start`` seconds), scales it and writes the image to
stdout. ``source``: a local file (a rendition's init segment followed by the one media segment
holding the instant) or an http(s) URL of the MP4 (range reads).
"""
from __future__ import annotations

import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from chalicelib.media import sandbox
from chalicelib.media.probe import ByteSource, RangeReader
from chalicelib.model.errors import MediaError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame

STILL_TIMEOUT = 20.0
STILL_COMMAND = (sys.executable, "-m", "chalicelib.media.still")
# Encoder and picture format per image format: JPEG is full range, WebP's VP8 limited range.
FORMATS: dict[str, tuple[Literal["mjpeg", "libwebp"], str, str]] = {
    "jpg": ("mjpeg", "yuvj420p", "JPEG"), "webp": ("libwebp", "yuv420p", "MPEG")}
# Only our own MP4s are ever read here.
OWN_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def still(source: str, start: float, at_ms: int, width: int, height: int, fmt: str, *,
          timeout: float = STILL_TIMEOUT) -> bytes:
    """The frame of ``source`` (whose first frame is at ``start`` s) displayed at ``at_ms``,
    ``width`` x ``height``, as ``fmt`` (jpg/webp) bytes. Raises MediaError."""
    if fmt not in FORMATS:
        raise MediaError(f"unknown image format {fmt!r}")
    argv = [*STILL_COMMAND, source, repr(start), str(at_ms), str(width), str(height), fmt]
    with tempfile.TemporaryDirectory(prefix="ff-still-") as scratch:
        result = sandbox.run(argv, timeout,
                             check=False, extra_env={"PYTHONPATH": _PACKAGE_ROOT}, what="thumbnail",
                             network=sandbox.is_remote(source), workdir=scratch)
    if result.returncode != 0 or not result.stdout:
        reason = sandbox.describe_failure(result.stderr, result.returncode)
        raise MediaError(f"the thumbnail could not be made: {reason}")
    return result.stdout


def _open(source: str) -> InputContainer:
    import av

    options = {"format_whitelist": OWN_FORMATS, "protocol_whitelist": sandbox.LOCAL_PROTOCOLS,
               "max_streams": str(sandbox.MAX_STREAMS)}
    return av.open(RangeReader(ByteSource(source)), mode="r", options=options)


def displayed_frame(container: InputContainer, start: float, at_ms: int) -> VideoFrame:
    """The video frame displayed at ``at_ms`` (the first frame being at ``start`` s): seek to the
    keyframe at or before it, decode on to the last frame not later than it."""
    stream = container.streams.video[0]
    if stream.time_base is None:
        raise MediaError("the video has no time base")
    time_base = stream.time_base
    first = stream.start_time or 0
    if at_ms > round(start * 1000):
        container.seek(first + int((at_ms / 1000 - start) / time_base), stream=stream, backward=True)
    chosen = None
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        if round((start + float((frame.pts - first) * time_base)) * 1000) > at_ms:
            break
        chosen = frame
    if chosen is None:
        raise MediaError(f"no frame at {at_ms} ms")
    return chosen


def encode_image(frame: VideoFrame, width: int, height: int, fmt: str) -> bytes:
    """``frame`` scaled to ``width`` x ``height`` (bicubic, from the output's limited range) as one image."""
    import av

    codec, pix_fmt, color_range = FORMATS[fmt]
    picture = frame.reformat(width=width, height=height, format=pix_fmt, interpolation="BICUBIC",
                             src_color_range="MPEG", dst_color_range=color_range)
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, pix_fmt
    encoder.time_base = Fraction(1, 1)  # one picture: any will do, but the encoder wants one
    if codec == "mjpeg":
        encoder.options = {"qmin": "2", "qmax": "2"}  # ffmpeg's -q:v 2, the workers' poster quality
    else:
        encoder.options = {"quality": "85"}
    packets = [*encoder.encode(picture), *encoder.encode(None)]
    return b"".join(bytes(p) for p in packets)


def main(argv: list[str]) -> int:
    """Child entry point: write the image of ``argv`` (source, at_ms, width, height, format) to stdout."""
    import av

    av.logging.set_level(av.logging.ERROR)
    source, start, at_ms, width, height, fmt = argv[0], float(argv[1]), *(int(a) for a in argv[2:5]), argv[5]
    try:
        with _open(source) as container:
            data = encode_image(displayed_frame(container, start, at_ms), width, height, fmt)
    except (MediaError, av.error.FFmpegError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
