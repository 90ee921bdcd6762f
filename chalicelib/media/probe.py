"""Probe a (possibly remote, always untrusted) video with PyAV inside a sandboxed subprocess.

``probe()`` runs ``python -m chalicelib.media.probe <source>`` under the same rlimits/timeout as ffmpeg;
the child prints a JSON ``ProbeResult`` (or an error reason).

Frame timestamps come from demuxing packets (no decoding): for every file ffmpeg decodes exactly
the non-discard packets. MP4/MOV indexes hold DTS only (PyAV's ``index_entries`` expose no
composition offsets), so for that family the demux pass runs over a reader that returns zeros for
``mdat`` payloads: the mov demuxer takes timestamps from the index, never from sample bytes, so
only the header boxes are actually read (a few range requests for presigned URLs).
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from chalicelib.media import containers, sandbox
from chalicelib.model.errors import InvalidMediaError, MediaError
from chalicelib.model.facts import (
    MOV_FAMILY,
    AudioInfo,
    MasteringDisplay,
    ProbeResult,
    TrackInfo,
    TrackKind,
    VideoInfo,
)

if TYPE_CHECKING:  # PyAV is imported only in the sandboxed child, where the probing happens
    from http.client import HTTPResponse

    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.sidedata.sidedata import SideData
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

PROBE_TIMEOUT = 120.0
MAX_FPS = 240  # the fastest real video (high-speed phone capture) has ~240 frames per second
MAX_FRAMES = 4 * 3600 * 120  # 4 hours (the longest allowed) at 120 fps
PROBE_COMMAND = (sys.executable, "-m", "chalicelib.media.probe")  # the child; its last argument is the source
# Largest frame the probe will decode (8K UHD is 33 Mpx); the configurable limit is checked later.
MAX_DECODE_PIXELS = 8192 * 8192
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


# --------------------------------------------------------------------------- byte sources


class Box(NamedTuple):
    """A top-level ISO-BMFF box: 4-char type, absolute offset, total size, header length."""

    type: str
    offset: int
    size: int
    header: int


def top_level_boxes(read_at: Callable[[int, int], bytes], size: int) -> list[Box]:
    """Walk MP4/MOV top-level box headers; stops at the first malformed header."""
    boxes: list[Box] = []
    pos = 0
    while pos + 8 <= size and len(boxes) < 10_000:
        head = read_at(pos, 16)
        if len(head) < 8:
            break
        box_size, raw_type = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1 and len(head) >= 16:
            box_size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header:
            break
        boxes.append(Box(raw_type.decode("latin-1"), pos, box_size, header))
        pos += box_size
    return boxes


class ByteSource:
    """Random access to the input bytes: a local file, an http(s) URL with Range support, or
    ``pipe:<request fd>,<reply fd>``: ranges asked of the parent, which reads the URL itself
    (the probe child has no network)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.remote = sandbox.is_remote(source)
        self.bytes_fetched = 0
        self._pipe: tuple[int, int] | None = None
        if source.startswith("pipe:"):
            request_fd, reply_fd = (int(fd) for fd in source[5:].split(","))
            self._pipe, self._file = (request_fd, reply_fd), None
            self.size = int(self._ask(-1, 0))
        elif self.remote:
            self.size = self._remote_size()
            self._file = None
        elif "://" in source:
            raise InvalidMediaError("unsupported URL scheme")
        else:
            try:
                self._file = open(source, "rb")
            except OSError as exc:
                raise InvalidMediaError(f"cannot open input: {exc.strerror}") from None
            self.size = os.fstat(self._file.fileno()).st_size

    def _remote_size(self) -> int:
        # Presigned GETs reject HEAD, so ask for one byte and read the total from Content-Range.
        with self._request(0, 1) as resp:
            content_range = resp.headers.get("Content-Range", "")
            if resp.status != 206 or "/" not in content_range:
                raise MediaError("input server does not support HTTP range requests")
            resp.read()
        total = content_range.rsplit("/", 1)[1]
        if not total.isdigit():
            raise MediaError("input server did not report the file size")
        return int(total)

    def _request(self, offset: int, length: int) -> HTTPResponse:
        req = urllib.request.Request(  # noqa: S310 - only http(s) sources reach this (is_remote)
            self.source, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        try:
            response: HTTPResponse = urllib.request.urlopen(req, timeout=30)  # noqa: S310 - see above
            return response
        except urllib.error.HTTPError as exc:
            raise MediaError(f"input URL returned HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise MediaError(f"input URL unreachable: {exc}") from None

    def _ask(self, offset: int, length: int) -> bytes:
        """One request to the parent: ``offset length`` (offset -1: the size); the reply is a
        status byte, an 8-byte length and that many bytes (data, or the error's text)."""
        assert self._pipe is not None
        os.write(self._pipe[0], f"{offset} {length}\n".encode())
        head = _read_exactly(self._pipe[1], 9)
        body = _read_exactly(self._pipe[1], struct.unpack(">Q", head[1:])[0])
        if head[0] != 0:
            raise MediaError(body.decode("utf-8", "replace"))
        return body

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (short only at end of file)."""
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        if self._pipe is not None:
            data = self._ask(offset, length)
        elif self._file is not None:
            data = os.pread(self._file.fileno(), length, offset)
        else:
            with self._request(offset, length) as resp:
                data = resp.read(length)
        self.bytes_fetched += len(data)
        return data

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise MediaError("the input reader went away")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


MAX_REQUEST = 64 * 1024**2  # the probe reads blocks; anything bigger is not a probe asking


def serve_ranges(source: ByteSource, request_fd: int, reply_fd: int) -> None:
    """Answer a probe child's range requests from ``source`` until it closes its end."""
    buffered = b""
    while True:
        while b"\n" not in buffered:
            chunk = os.read(request_fd, 4096)
            if not chunk:
                return
            buffered += chunk
        line, buffered = buffered.split(b"\n", 1)
        try:
            offset, length = (int(v) for v in line.split())
            if length > MAX_REQUEST:
                raise MediaError("probe asked for too much at once")
            body, status = (str(source.size).encode() if offset < 0 else source.read_at(offset, length)), 0
        except (MediaError, ValueError) as exc:
            body, status = str(exc).encode(), 1
        try:
            os.write(reply_fd, bytes([status]) + struct.pack(">Q", len(body)))
            view = memoryview(body)
            while view:
                view = view[os.write(reply_fd, view):]
        except BrokenPipeError:
            return


class RangeReader(io.RawIOBase):
    """Seekable file object over a ByteSource with a block cache and optional zero-filled ranges.

    Sequential reads grow the fetch size (fewer HTTP requests when a whole file must be demuxed).
    """

    BLOCK = 64 * 1024
    MAX_FETCH = 8 * 1024 * 1024
    CACHE_BYTES = 64 * 1024 * 1024

    def __init__(self, source: ByteSource) -> None:
        super().__init__()
        self.src = source
        self.pos = 0
        self.zero: list[tuple[int, int]] = []
        self._cache: dict[int, bytes] = {}
        self._fetch_blocks = 1
        self._last_block = -2

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.src.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self.src.size - self.pos))
        done = 0
        while done < n:
            pos = self.pos + done
            zero_end = self._zero_end(pos)
            if zero_end:
                step = min(n - done, zero_end - pos)
                view[done : done + step] = bytes(step)
            else:
                block = self._block(pos // self.BLOCK)
                start = pos % self.BLOCK
                step = min(n - done, len(block) - start)
                if step <= 0:
                    break
                view[done : done + step] = block[start : start + step]
            done += step
        self.pos += done
        return done

    def _zero_end(self, pos: int) -> int:
        for start, end in self.zero:
            if start <= pos < end:
                return end
        return 0

    def _block(self, number: int) -> bytes:
        if number not in self._cache:
            sequential = number == self._last_block + 1
            self._fetch_blocks = min(self._fetch_blocks * 2, self.MAX_FETCH // self.BLOCK) if sequential else 1
            data = self.src.read_at(number * self.BLOCK, self._fetch_blocks * self.BLOCK)
            if sum(map(len, self._cache.values())) + len(data) > self.CACHE_BYTES:
                self._cache.clear()
            for i in range(0, len(data), self.BLOCK):
                self._cache[number + i // self.BLOCK] = data[i : i + self.BLOCK]
        self._last_block = number
        return self._cache.get(number, b"")


# --------------------------------------------------------------------------- in-process probe


def _open_container(reader: RangeReader) -> InputContainer:
    import av

    reader.seek(0)
    options = {
        "format_whitelist": sandbox.FORMAT_WHITELIST,
        "protocol_whitelist": sandbox.LOCAL_PROTOCOLS,
        "max_streams": str(sandbox.MAX_STREAMS),
        "probesize": str(sandbox.PROBESIZE),
        "analyzeduration": str(sandbox.ANALYZEDURATION),
    }
    with av.logging.Capture() as logs:
        try:
            container = av.open(reader, mode="r", options=options, metadata_errors="ignore")
        except av.error.FFmpegError as exc:
            # What is wrong with the container where we can tell, else what ffmpeg said.
            text = "".join(str(entry[2]) for entry in logs) + str(exc.strerror)
            raise InvalidMediaError(containers.problem(reader.src.read_at, reader.src.size)
                                    or sandbox.describe_failure(text, 1)) from None
    if not any(stream.codec_context.width > 0 for stream in container.streams.video):
        # Opened, but with no usable picture: a broken header may have hidden it.
        problem = containers.problem(reader.src.read_at, reader.src.size)
        if problem is not None:
            container.close()
            raise InvalidMediaError(problem)
    return container


def _pick_video(container: InputContainer) -> VideoStream | None:
    """The stream ffmpeg itself would pick: the default one, then the largest picture; never cover
    art, a motion photo's still or a one-frame thumbnail track while there is a moving picture."""
    candidates = [
        s
        for s in container.streams.video
        if not s.disposition & 0x400  # AV_DISPOSITION_ATTACHED_PIC (cover art)
        and s.codec_context.width > 0
    ]

    def score(stream: VideoStream) -> tuple[bool, bool, int, int]:
        moving = stream.frames != 1 and not (stream.codec_context.name in _STILL_CODECS and stream.frames <= 1)
        default = bool(stream.disposition & 0x1)  # AV_DISPOSITION_DEFAULT
        return moving, default, stream.codec_context.width * stream.codec_context.height, -stream.index

    return max(candidates, key=score) if candidates else None


# Picture codecs a container may carry as a one-picture "video" track (a thumbnail, a still).
_STILL_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp", "tiff", "jpeg2000", "jpegxl"})


def _check_frame_size(stream: VideoStream) -> None:
    """Refuse to decode frames larger than any real video (a decompression bomb) before trying."""
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > MAX_DECODE_PIXELS:
        raise InvalidMediaError(f"frame size {width}x{height} is larger than any supported video")


def _first_frame(container: InputContainer, stream: VideoStream) -> VideoFrame:
    import av

    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise InvalidMediaError(f"video stream cannot be decoded ({exc.strerror})") from None
    raise InvalidMediaError("video stream has no decodable frames")


def _check_mov_truncation(stream: VideoStream, read_at: Callable[[int, int], bytes], size: int) -> None:
    """Refuse an MP4/MOV whose video samples are not all in the file: truncated (it ends inside a
    box), or an index pointing past its end; with no samples at all, a broken sample table."""
    entries = stream.index_entries
    if len(entries) == 0:
        problem = containers.mov_problem(read_at, size)
        if problem is not None:
            raise InvalidMediaError(problem)
        return
    end = max(entry.pos + entry.size for entry in entries)
    if end > size:
        raise InvalidMediaError(containers.mov_index_problem(read_at, size, end))


@dataclass
class _Packets:
    pts: list[int] = field(default_factory=list)
    keyframes: list[int] = field(default_factory=list)
    last_duration: int = 0
    audio_start: int | None = None  # the main audio's
    audio_end: int | None = None
    audio_spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # every audio stream's (start, end)


# Containers whose declared length is a header field muxers often get wrong (an AVI's dwLength
# and dwTotalFrames), not something ffmpeg measures or reads from an index: it bounds nothing.
UNTRUSTED_LENGTH_FORMATS = frozenset({"avi"})


def frame_cap(duration: float, format_name: str = "") -> int:
    """Most video frames a file may hold: twice its declared length (demuxers estimate some
    lengths) at ``MAX_FPS``, never more than ``MAX_FRAMES`` (the only bound where the length is
    a header's word, ``UNTRUSTED_LENGTH_FORMATS``). The frame tables stay in the probe child and
    bounded."""
    if duration <= 0 or format_name in UNTRUSTED_LENGTH_FORMATS:
        return MAX_FRAMES
    return min(MAX_FRAMES, int(2 * duration * MAX_FPS) + 10_000)


def _scan_packets(container: InputContainer, video_index: int, audio_index: int | None,
                  key_dts: set[int] | None = None, max_frames: int = 0, others: tuple[int, ...] = ()) -> _Packets:
    """Demux (no decode) video and audio packets; collect what ffmpeg will actually decode.
    ``key_dts``: the decode timestamps of the keyframes, where the index knows them; ``others``:
    further audio streams whose spans to measure."""
    streams = [s for s in container.streams if s.index in (video_index, audio_index, *others)]
    found = _Packets()
    max_pts = None
    limit = max_frames or MAX_FRAMES
    for packet in container.demux(streams):
        if packet.is_discard or packet.size == 0:
            continue
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            continue
        if packet.stream.index == video_index:
            if len(found.pts) >= limit:
                raise InvalidMediaError(f"the video has more than {limit} frames, more than its length allows")
            found.pts.append(ts)
            if packet.dts in key_dts if key_dts is not None else packet.is_keyframe:
                found.keyframes.append(ts)
            if max_pts is None or ts >= max_pts:
                max_pts, found.last_duration = ts, packet.duration or 0
        else:
            end = ts + (packet.duration or 0)
            index = packet.stream.index
            start, last = found.audio_spans.get(index, (ts, end))
            found.audio_spans[index] = (min(start, ts), max(last, end))
    if audio_index in found.audio_spans:
        found.audio_start, found.audio_end = found.audio_spans[audio_index]
    return found


def _pick_audio(container: InputContainer) -> AudioStream | None:
    """The main audio: the default stream, else the first."""
    streams = list(container.streams.audio)
    defaults = [s for s in streams if s.disposition & 0x1]
    return (defaults or streams)[0] if streams else None


def _language(stream: Any) -> str:
    language = str((stream.metadata or {}).get("language", "")).strip().lower()
    return "" if language in ("und", "") else language[:16]


def _track_facts(container: InputContainer) -> list[dict[str, Any]]:
    """Every audio and subtitle stream as tagged (no timing yet)."""
    tracks = []
    for stream in container.streams:
        if stream.type not in ("audio", "subtitle"):
            continue
        cc: Any = stream.codec_context
        audio = stream.type == "audio"
        tracks.append({
            "index": stream.index,
            "kind": TrackKind.AUDIO if audio else TrackKind.SUBTITLE,
            "codec": cc.codec.canonical_name if cc.codec else (cc.name or ""),
            "language": _language(stream),
            "title": str((stream.metadata or {}).get("title", ""))[:100],
            "default": bool(stream.disposition & 0x1),
            "forced": bool(stream.disposition & 0x40),
            "channels": (cc.layout.nb_channels if cc.layout else cc.channels) if audio else 0,
            "sample_rate": cc.sample_rate if audio else 0,
        })
    return tracks


def _rotation(frame: VideoFrame) -> int:
    # PyAV reports the display matrix angle counter-clockwise (ffprobe's "rotation" value).
    return int(round(-(frame.rotation or 0) / 90.0)) % 4 * 90


def _display_size(width: int, height: int, sar: Fraction | None, rotation: int) -> tuple[int, int]:
    if sar and sar > 0 and sar != 1:
        width = max(1, round(width * sar))
    return (height, width) if rotation in (90, 270) else (width, height)


def _bit_depth(pix_fmt: str) -> int:
    import av

    try:
        return max(c.bits for c in av.VideoFormat(pix_fmt).components)
    except (ValueError, TypeError):
        return 8


# ffmpeg's names of the AVColorTransferCharacteristic / AVColorPrimaries values (libavutil/pixfmt.h).
_TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
              9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1",
              14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film",
              9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "jedec-p22"}
_MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco",
             9: "bt2020nc", 10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c",
             14: "ictcp"}
_RANGES = {1: "tv", 2: "pc"}


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _hdr_metadata(frame: VideoFrame) -> dict[str, Any]:
    """HDR10 static metadata from a decoded frame's side data (the decoder puts the bitstream's SEI
    or OBU and the container's boxes there): the mastering display and the content light level.

    PyAV hands side data over as raw bytes: AVMasteringDisplayMetadata is 10 AVRationals (R, G, B,
    white point xy; min, max luminance) and two ints saying which half is set; AVContentLightMetadata
    is two unsigned ints (MaxCLL, MaxFALL), all in native byte order.
    """
    found: dict[str, Any] = {}
    # PyAV's stubs type ``side_data`` as one SideData; it is their container.
    for side in cast("Iterable[SideData]", frame.side_data):
        data, kind = bytes(side), side.type.name
        if kind == "MASTERING_DISPLAY_METADATA" and len(data) >= 88:
            fields = struct.unpack("=22i", data[:88])
            values = [_ratio(fields[i], fields[i + 1]) for i in range(0, 20, 2)]
            has_primaries, has_luminance = fields[20], fields[21]
            xy = [tuple(values[i:i + 2]) for i in range(0, 8, 2)] if has_primaries else [(), (), (), ()]
            found["mastering"] = MasteringDisplay(
                red=xy[0], green=xy[1], blue=xy[2], white=xy[3],
                min_luminance=values[8] if has_luminance else 0.0, max_luminance=values[9] if has_luminance else 0.0)
        elif kind == "CONTENT_LIGHT_LEVEL" and len(data) >= 8:
            found["max_cll"], found["max_fall"] = struct.unpack("=2I", data[:8])
    return found


def _video_facts(stream: VideoStream, frame: VideoFrame) -> dict[str, Any]:
    """Static facts of the video stream, taken from the real (not zero-filled) open."""
    cc = stream.codec_context
    rotation = _rotation(frame)
    sar = stream.sample_aspect_ratio or cc.sample_aspect_ratio
    display_width, display_height = _display_size(cc.width, cc.height, sar, rotation)
    pix_fmt = frame.format.name
    return {
        "index": stream.index,
        "codec": cc.codec.canonical_name,
        "width": cc.width,
        "height": cc.height,
        "rotation": rotation,
        "display_width": display_width,
        "display_height": display_height,
        "pix_fmt": pix_fmt,
        "bit_depth": _bit_depth(pix_fmt),
        "profile": str(cc.profile or ""),
        "color_transfer": _TRANSFERS.get(int(frame.color_trc or 0), ""),
        "color_primaries": _PRIMARIES.get(int(frame.color_primaries or 0), ""),
        "color_matrix": _MATRICES.get(int(frame.colorspace), "") if frame.colorspace is not None else "",
        "color_range": _RANGES.get(int(frame.color_range or 0), ""),
        **_hdr_metadata(frame),
    }


def _audio_facts(stream: AudioStream | None) -> dict[str, Any] | None:
    if stream is None:
        return None
    cc = stream.codec_context
    return {
        "index": stream.index,
        "codec": cc.codec.canonical_name,
        "channels": cc.layout.nb_channels if cc.layout else cc.channels,
        "sample_rate": cc.sample_rate,
    }


def _video_info(facts: dict[str, Any], time_base: Fraction, packets: _Packets,
                first_decoded: int | None = None) -> VideoInfo:
    """``first_decoded``: the pts of the first frame the decoder outputs. Frames shown before it
    cannot be decoded (a stream cut before its first keyframe, open-GOP leading pictures): the
    decoder drops them, and so does every encode of this file."""
    pts = sorted(packets.pts)
    if first_decoded is not None and any(p >= first_decoded for p in pts):
        pts = [p for p in pts if p >= first_decoded]
    if not pts:
        raise InvalidMediaError("video stream has no frames")
    first = pts[0]
    times = tuple(float((p - first) * time_base) for p in pts)
    if packets.last_duration > 0:
        last_len = float(packets.last_duration * time_base)
    elif len(times) > 1:
        last_len = times[-1] / (len(times) - 1)
    else:
        last_len = 1 / 30
    duration = times[-1] + last_len
    keyframes = sorted({*packets.keyframes, pts[-1]})
    gaps = [float((b - a) * time_base) for a, b in zip(keyframes, keyframes[1:])]
    # pts are unique per frame in any file ffmpeg decodes in order; a keyframe's index is its rank.
    rank = {p: i for i, p in enumerate(pts)}
    # None flagged at all: assume the worst (only the first frame starts a decode) for planning.
    keyframe_indices = tuple(sorted({rank[k] for k in packets.keyframes if k in rank})) or (0,)
    return VideoInfo(
        **facts,
        avg_fps=len(times) / duration,
        frame_count=len(times),
        duration=duration,
        first_pts=float(first * time_base),
        frame_times=times,
        keyframe_interval=max(gaps, default=duration),
        keyframes=keyframe_indices,
        time_base_den=time_base.denominator,
    )


def _audio_info(facts: dict[str, Any] | None, time_base: Fraction | None, packets: _Packets,
                decoded: tuple[float | None, float | None] = (None, None)) -> AudioInfo | None:
    """The audio's first sample and length: as decoded where the probe could decode its ends
    (edit lists, encoder priming and headers that lie about lengths make packet times differ from
    what a decoder outputs), else from the packets."""
    if facts is None or time_base is None or packets.audio_start is None or packets.audio_end is None:
        return None
    start = float(packets.audio_start * time_base) if decoded[0] is None else decoded[0]
    end = float(packets.audio_end * time_base) if decoded[1] is None else decoded[1]
    return AudioInfo(**facts, start=start, duration=max(0.0, end - start))


def _track(facts: dict[str, Any], packets: _Packets, time_bases: dict[int, Fraction],
           spans: dict[int, tuple[float | None, float | None]]) -> TrackInfo:
    """A track's record; an audio track with its span (decoded where it could be)."""
    index = facts["index"]
    if facts["kind"] != TrackKind.AUDIO or index not in packets.audio_spans or index not in time_bases:
        return TrackInfo(**facts)
    first, last = packets.audio_spans[index]
    start, end = spans.get(index, (None, None))
    start = float(first * time_bases[index]) if start is None else start
    end = float(last * time_bases[index]) if end is None else end
    return TrackInfo(**facts, start=start, duration=max(0.0, end - start))


TAIL_SECONDS = 1.0  # how far before the packets' end the probe seeks to decode the audio's last samples


def _decoded_audio_ends(container: InputContainer, stream: AudioStream, packets_end: float
                        ) -> tuple[float | None, float | None]:
    """(first sample time, end of the last sample) of ``stream`` as its decoder outputs them:
    the first frames from the start, the last ones after a seek to ``TAIL_SECONDS`` before the
    packets' end. None where it cannot tell (no timestamps, a failed seek)."""
    import av

    time_base = stream.time_base
    if time_base is None:
        return None, None
    first = end = None
    # The other streams' samples are not even read (the MP4 demuxer skips discarded ones).
    for other in container.streams:
        other.discard = type(other.discard).all if other.index != stream.index else type(other.discard).default
    try:
        for frame in container.decode(stream):
            if frame.pts is not None:
                first = float(frame.pts * time_base)
                break
        if first is None:
            return None, None
        target = max(first, packets_end - TAIL_SECONDS)
        container.seek(int(target / time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if frame.pts is not None and frame.sample_rate:
                end = max(end or 0.0, float(frame.pts * time_base) + frame.samples / frame.sample_rate)
    except (av.error.FFmpegError, ValueError, OverflowError):
        return first, None
    return first, end


def probe_in_process(source: str) -> ProbeResult:
    """Probe ``source`` in this process. Only call inside the sandbox (see ``probe``)."""
    src = ByteSource(source)
    try:
        if src.size == 0:
            raise InvalidMediaError("file is empty")
        reader = RangeReader(src)
        container = _open_container(reader)
        with container:
            if len(container.streams) >= sandbox.MAX_STREAMS:
                # The demuxer stops adding streams at max_streams: the file has at least that many.
                raise InvalidMediaError(f"the file has too many streams (at least {sandbox.MAX_STREAMS}; "
                                        f"at most {sandbox.MAX_STREAMS - 1} are supported)")
            video = _pick_video(container)
            if video is None and container.streams.video:
                raise InvalidMediaError("the video stream's header is invalid (no usable frame size)")
            if video is None:
                raise InvalidMediaError("not a video file (no video stream)")
            audio = _pick_audio(container)
            track_facts = _track_facts(container)
            others = tuple(t["index"] for t in track_facts if t["kind"] == TrackKind.AUDIO
                           and (audio is None or t["index"] != audio.index))
            format_name = container.format.name
            if format_name == MOV_FAMILY:
                _check_mov_truncation(video, src.read_at, src.size)
            _check_frame_size(video)
            first_frame = _first_frame(container, video)
            video_facts = _video_facts(video, first_frame)
            first_decoded = first_frame.pts
            audio_facts = _audio_facts(audio)
            duration = (container.duration or 0) / 1_000_000
            start_time = (container.start_time or 0) / 1_000_000
            video_index, audio_index = video.index, audio.index if audio else None
            # MP4/MOV: sync samples come from the index (stss); the timestamp pass below reads
            # zeros instead of sample data, and packets lose the keyframe flags parsers set.
            key_dts = ({e.timestamp for e in video.index_entries if e.is_keyframe and not e.is_discard}
                       if format_name == MOV_FAMILY else None)
        if format_name == MOV_FAMILY:
            boxes = top_level_boxes(src.read_at, src.size)
            reader.zero = [(b.offset + b.header, b.offset + b.size) for b in boxes if b.type == "mdat"]
        with _open_container(reader) as container:
            packets = _scan_packets(container, video_index, audio_index, key_dts, frame_cap(duration, format_name),
                                    others)
            video_tb = container.streams[video_index].time_base
            if video_tb is None:
                raise InvalidMediaError("the video stream has no time base")
            video_info = _video_info(video_facts, video_tb, packets, first_decoded)
            time_bases = {s.index: s.time_base for s in container.streams.audio if s.time_base is not None}
        audio_tb = time_bases.get(audio_index) if audio_index is not None else None
        # Each audio track's ends as decoded (edit lists, priming, lying headers), from the real bytes.
        reader.zero = []
        spans: dict[int, tuple[float | None, float | None]] = {}
        for index in sorted(packets.audio_spans.keys() & time_bases.keys()):
            with _open_container(reader) as container:  # each from the start, as a decoder meets it
                stream = next(s for s in container.streams.audio if s.index == index)
                spans[index] = _decoded_audio_ends(container, stream,
                                                   float(packets.audio_spans[index][1] * time_bases[index]))
        audio_info = _audio_info(audio_facts, audio_tb, packets, spans.get(audio_index, (None, None))
                                 if audio_index is not None else (None, None))
        tracks = tuple(_track(facts, packets, time_bases, spans) for facts in track_facts)
        return ProbeResult(format_name, src.size, duration, start_time, video_info, audio_info, tracks)
    finally:
        src.close()


# --------------------------------------------------------------------------- sandboxed entry


def probe(source: str, *, timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """Probe a local path or http(s) URL in a sandboxed subprocess.

    Raises InvalidMediaError for unusable inputs, MediaError/MediaTimeoutError otherwise.
    """
    extra = {"PYTHONPATH": _PACKAGE_ROOT}
    command = list(PROBE_COMMAND)
    if not sandbox.is_remote(source):
        with tempfile.TemporaryDirectory(prefix="ff-probe-") as scratch:
            result = sandbox.run([*command, os.path.abspath(source)], timeout, check=False, extra_env=extra,
                                 what="probe", network=False, workdir=scratch)
    else:
        # The child gets no network: this process fetches the ranges it asks for over two pipes.
        remote = ByteSource(source)
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        server = threading.Thread(target=serve_ranges, args=(remote, request_r, reply_w), daemon=True)
        server.start()
        try:
            with tempfile.TemporaryDirectory(prefix="ff-probe-") as scratch:
                result = sandbox.run([*command, f"pipe:{request_w},{reply_r}"], timeout, check=False,
                                     extra_env=extra, what="probe", network=False, pass_fds=(request_w, reply_r),
                                     workdir=scratch)
        finally:
            for fd in (request_w, reply_r):
                os.close(fd)
            server.join(timeout=5)
            for fd in (request_r, reply_w):
                os.close(fd)
            remote.close()
    try:
        payload = json.loads(result.stdout)
    except ValueError:
        failure = sandbox.classify_failure(result.stderr, result.returncode)
        message = f"the file could not be analysed safely: probe {failure.reason}"
        if result.returncode < 0 and not failure.retryable:
            # Killed by its own resource limits or crashed while parsing: the file is hostile or
            # broken, and another attempt would end the same way.
            raise InvalidMediaError(message) from None
        raise MediaError(message, retryable=failure.retryable) from None
    if "error" in payload:
        error_class = InvalidMediaError if payload.get("invalid") else MediaError
        raise error_class(payload["error"])
    return ProbeResult.from_dict(dict(payload["result"]))


def main(argv: list[str]) -> int:
    """Child entry point: print the probe of ``argv[0]`` as JSON."""
    import av

    av.logging.set_level(av.logging.ERROR)  # needed for Capture() to see demuxer messages
    try:
        result = probe_in_process(argv[0])
    except MediaError as exc:
        print(json.dumps({"error": str(exc), "invalid": isinstance(exc, InvalidMediaError)}))
        return 2
    except Exception as exc:  # noqa: BLE001 - hostile input may break PyAV in unexpected ways
        print(json.dumps({"error": f"unreadable input ({type(exc).__name__})", "invalid": True}))
        return 2
    print(json.dumps({"result": result.to_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
