"""A job's poster and storyboard: the image branches of a chunk's one decode (pure builders), what
a chunk keeps of them, and the files made from the chunks' records.

**Poster**: a frame of the first ``POSTER_WINDOW`` seconds. Each chunk in the window runs ffmpeg's
``thumbnail`` filter (the most representative frame of each batch of about a second) and measures
each pick's luma (``signalstats``). Once the window's chunks are done, the poster is the earliest
candidate that is neither (near) black nor flat and has at least ``FADE_RATIO`` of the best
contrast: not a frame of a fade-in, and no later than needed.

**Storyboard**: one tile every ``tile_interval(duration)`` seconds, each the frame displayed at
that instant (the last one at or before it: ffmpeg's ``fps`` filter rounding up), laid out by
each chunk in its own sprite sheets; the assembler writes the WebVTT from the chunks' records.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.media import sandbox
from chalicelib.model.errors import VerificationError
from chalicelib.model.plan import Chunk, Plan
from chalicelib.model.playback import STORYBOARD_DIR
from workers.media.binary import ffmpeg_binary

POSTER_WINDOW = 6.0  # seconds: with 2 s segments, the stream's first two chunks (plan.RAMP_GOPS)
POSTER_MAX_WIDTH = 1280
# Frames a second the thumbnail filter picks from (in batches of a second): each is scaled to the
# poster's size and measured, some 5 ms at 1080p, so not every frame is.
POSTER_SAMPLES_PER_SECOND = 5
MIN_LUMA = 32.0  # full-range mean luma below this: (near) black
MIN_CONTRAST = 32.0  # luma's 10th to 90th percentile spread below this: flat (a fade's start)
FADE_RATIO = 0.95  # a candidate further below the best contrast is still fading in
POSTER_QUALITY = 2  # mjpeg -q:v (2 best … 31)
TILE_QUALITY = 5
TILE_WIDTH = 256
MAX_TILES = 200
TILE_INTERVALS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600)
SHEET_COLUMNS = 10
SHEET_ROWS = 10
# The chunk encode's scratch folder (ffmpeg's working directory) holds these.
POSTER_STATS = "poster.txt"
TILE_STATS = "tiles.txt"
CANDIDATES = "poster-%03d.jpg"
SHEETS = "sheet-%03d.jpg"
SIGNALSTATS = "lavfi.signalstats."
_EPSILON = 1e-6  # seconds: below any timestamp tick of a real video


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def image_size(plan: Plan, max_width: int) -> tuple[int, int]:
    """A picture of the output's aspect ratio, at most ``max_width`` wide (never wider than the output)."""
    width = _even(min(max_width, plan.width))
    return width, _even(width * plan.height / plan.width)


def tile_count(duration: float, interval: float) -> int:
    """Tiles at 0, ``interval``, 2 × ``interval``… before the video's end (at least one)."""
    return max(1, math.ceil(duration / interval - _EPSILON))


def tile_interval(duration: float) -> int:
    """Seconds between tiles: the shortest of ``TILE_INTERVALS`` that gives at most ``MAX_TILES``
    (a 3-minute video: every second; 10 minutes: 5 s; an hour: 30 s; 4 hours: 2 minutes)."""
    for interval in TILE_INTERVALS:
        if tile_count(duration, interval) <= MAX_TILES:
            return interval
    return math.ceil(duration / MAX_TILES)


def chunk_tiles(plan: Plan, chunk: Chunk) -> range:
    """Indices of the tiles that show frames of ``chunk``: those whose instant is in
    [its start, the next chunk's start)."""
    interval = tile_interval(plan.video_duration)
    total = tile_count(plan.video_duration, interval)
    following = chunk.index + 1
    first = math.ceil(chunk.start / interval - _EPSILON)
    end = math.ceil(plan.chunks[following].start / interval - _EPSILON) if following < len(plan.chunks) else total
    return range(min(first, total), min(end, total))


def in_poster_window(chunk: Chunk) -> bool:
    """Whether ``chunk`` holds frames of the poster window."""
    return chunk.index == 0 or chunk.start < POSTER_WINDOW


@dataclass(frozen=True)
class Layout:
    """How a chunk's tiles sit in its sheets: row by row, ``columns`` × ``rows`` per sheet."""

    columns: int
    rows: int
    width: int
    height: int

    @classmethod
    def of(cls, count: int, size: tuple[int, int]) -> Layout:
        """Sheets of up to ``SHEET_COLUMNS`` × ``SHEET_ROWS`` tiles, no wider than ``count`` needs."""
        columns = max(1, min(count, SHEET_COLUMNS))
        return cls(columns, max(1, min(-(-count // columns), SHEET_ROWS)), *size)

    def place(self, i: int) -> tuple[int, int, int]:
        """(sheet, x, y) of a chunk's ``i``-th tile."""
        sheet, cell = divmod(i, self.columns * self.rows)
        return sheet, cell % self.columns * self.width, cell // self.columns * self.height


@dataclass(frozen=True)
class ChunkImages:
    """What a chunk's decode makes besides its rungs: poster candidates and storyboard tiles."""

    start: float  # the chunk's first frame, seconds of the output timeline
    frame_count: int
    poster: tuple[int, int] | None  # candidates' size; None: the chunk is past the poster window
    step: int  # every step-th frame is a candidate
    batch: int  # candidates per thumbnail-filter pick (about a second's)
    tiles: range
    interval: int
    layout: Layout

    @classmethod
    def of(cls, plan: Plan, chunk: Chunk) -> ChunkImages:
        """The image branches ``chunk`` runs."""
        tiles = chunk_tiles(plan, chunk)
        step = max(1, round(plan.fps / POSTER_SAMPLES_PER_SECOND))
        return cls(chunk.start, chunk.frame_count,
                   image_size(plan, POSTER_MAX_WIDTH) if in_poster_window(chunk) else None,
                   step, max(2, round(plan.fps / step)), tiles, tile_interval(plan.video_duration),
                   Layout.of(len(tiles), image_size(plan, TILE_WIDTH)))

    @property
    def empty(self) -> bool:
        """Nothing to make (no tile instant in the chunk, past the window)."""
        return self.poster is None and not self.tiles

    def filter(self, source: str) -> str:
        """filter_complex chains from the decoded chunk ``[source]`` (t=0 at its first frame) to
        ``[poster]`` and ``[sheets]``: its frames only, on the output's timeline."""
        heads = [label for label, wanted in (("poster", self.poster), ("sheets", self.tiles)) if wanted]
        # +0.5: setpts truncates, and the start must land on its exact tick.
        head = f"[{source}]trim=end_frame={self.frame_count},setpts=PTS+{self.start!r}/TB+0.5"
        chains = [f"{head},split={len(heads)}{''.join(f'[{h}-in]' for h in heads)}"]
        if self.poster:
            width, height = self.poster
            sample = f"select=not(mod(n\\,{self.step}))," if self.step > 1 else ""
            chains.append(f"[poster-in]trim=end={POSTER_WINDOW},{sample}"
                          f"scale={width}:{height}:flags=bicubic:out_range=full,setsar=1,settb=1/1000,"
                          f"thumbnail=n={self.batch},signalstats,metadata=mode=print:file={POSTER_STATS}[poster]")
        if self.tiles:
            lay = self.layout
            # fps's output time base is the interval: a tile's timestamp is its index.
            chains.append(f"[sheets-in]fps=fps=1/{self.interval}:round=up,trim=end_frame={len(self.tiles)},"
                          # print lists only frames with metadata: give each one
                          f"metadata=mode=add:key=tile:value=1,metadata=mode=print:file={TILE_STATS},"
                          f"scale={lay.width}:{lay.height}:flags=bicubic:out_range=full,setsar=1,"
                          f"tile=layout={lay.columns}x{lay.rows}[sheets]")
        return ";".join(chains)

    def outputs(self, out_dir: str) -> list[str]:
        """The JPEG outputs of ``filter``'s labels (each ends when its branch does)."""
        common = ["-an", "-sn", "-dn", "-map_metadata", "-1", "-fps_mode", "passthrough", "-c:v", "mjpeg",
                  "-f", "image2", "-start_number", "0"]
        argv: list[str] = []
        if self.poster:
            argv += ["-map", "[poster]", *common, "-q:v", str(POSTER_QUALITY), os.path.join(out_dir, CANDIDATES)]
        if self.tiles:
            argv += ["-map", "[sheets]", *common, "-q:v", str(TILE_QUALITY), os.path.join(out_dir, SHEETS)]
        return argv


@dataclass(frozen=True)
class Candidate:
    """A frame the poster may be: its time, full-range mean luma and contrast (10th-90th percentile)."""

    time: float
    luma: float
    contrast: float
    file: str  # its JPEG's name

    @property
    def usable(self) -> bool:
        """Neither (near) black nor flat."""
        return self.luma >= MIN_LUMA and self.contrast >= MIN_CONTRAST


def frame_stats(text: str) -> list[tuple[int, dict[str, float]]]:
    """(pts, signalstats values) of every frame in the metadata filter's ``print`` output (which
    also lists what the source's frames carry: a timecode…)."""
    frames: list[tuple[int, dict[str, float]]] = []
    for line in text.splitlines():
        if line.startswith("frame:"):
            fields = dict(part.split(":", 1) for part in line.split())
            frames.append((int(fields["pts"]), {}))
        elif line.startswith(SIGNALSTATS) and frames:
            key, _, value = line.partition("=")
            frames[-1][1][key.removeprefix(SIGNALSTATS)] = float(value)
    return frames


def candidates(text: str) -> list[Candidate]:
    """The poster candidates of a chunk from its ``POSTER_STATS`` (pts in milliseconds)."""
    return [Candidate(pts / 1000, round(stats["YAVG"], 2), stats["YHIGH"] - stats["YLOW"], CANDIDATES % i)
            for i, (pts, stats) in enumerate(frame_stats(text))]


def contenders(found: list[Candidate]) -> list[Candidate]:
    """The candidates of one chunk that can be the job's poster (``pick_poster``): a usable one
    only if no earlier usable one of the chunk has as much contrast (that one would win first),
    and, when none is usable, the chunk's best (for a video that is dark throughout)."""
    kept: list[Candidate] = []
    for candidate in found:
        if candidate.usable and all(candidate.contrast > k.contrast for k in kept):
            kept.append(candidate)
    if kept or not found:
        return kept
    return [max(found, key=lambda c: (c.contrast, c.luma, -c.time))]


def pick_poster(found: list[Candidate]) -> Candidate | None:
    """The earliest usable candidate with at least ``FADE_RATIO`` of the best usable contrast;
    none usable: the one with the most contrast."""
    usable = [c for c in found if c.usable]
    if not usable:
        return max(found, key=lambda c: (c.contrast, c.luma, -c.time), default=None)
    best = max(c.contrast for c in usable)
    return min((c for c in usable if c.contrast >= FADE_RATIO * best), key=lambda c: c.time)


def sheet_name(part: str, sheet: int) -> str:
    """A sprite sheet's path in the stream folder (relative: the VTT's URLs are)."""
    return f"{STORYBOARD_DIR}/{part}-{sheet}.jpg"


@dataclass(frozen=True)
class MadeImages:
    """What a chunk's image branches wrote to its scratch folder."""

    folder: Path
    candidates: list[Candidate]  # all of them, in time order
    tiles: list[int]  # the tile indices drawn, in order
    sheets: list[Path]
    layout: Layout

    def record(self) -> dict[str, Any]:
        """What the chunk's part record keeps (no bytes): the poster contenders and the tiles."""
        out: dict[str, Any] = {}
        if self.candidates:
            out["poster"] = [{"time": c.time, "luma": c.luma, "contrast": c.contrast, "file": c.file}
                             for c in contenders(self.candidates)]
        if self.tiles:
            lay = self.layout
            out["storyboard"] = {"first": self.tiles[0], "count": len(self.tiles), "columns": lay.columns,
                                 "rows": lay.rows, "width": lay.width, "height": lay.height}
        return out


def made_images(images: ChunkImages, out_dir: str) -> MadeImages:
    """Read back what ``images``' branches wrote in ``out_dir``."""
    folder = Path(out_dir)
    found = candidates((folder / POSTER_STATS).read_text()) if images.poster else []
    tiles = [pts for pts, _ in frame_stats((folder / TILE_STATS).read_text())] if images.tiles else []
    if tiles and tiles != list(range(tiles[0], tiles[0] + len(tiles))):
        raise VerificationError(f"storyboard tiles are not consecutive: {tiles}")  # fps numbers them one by one
    return MadeImages(folder, found, tiles, sorted(folder.glob(SHEETS.replace("%03d", "*"))), images.layout)


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def storyboard_vtt(duration: float, boards: dict[str, dict[str, Any]]) -> str:
    """The storyboard's WebVTT from the chunks' records (part name → ``storyboard`` record): one
    cue per tile, from its instant to the next one's (the last to the video's end), pointing at
    its place in its chunk's sheet with a media fragment (``#xywh=x,y,w,h``)."""
    interval = tile_interval(duration)
    cues: dict[int, str] = {}
    for part, board in sorted(boards.items()):
        layout = Layout(board["columns"], board["rows"], board["width"], board["height"])
        for i in range(board["count"]):
            tile = board["first"] + i
            sheet, x, y = layout.place(i)
            start, end = tile * interval, min((tile + 1) * interval, duration)
            cues.setdefault(tile, f"{_stamp(start)} --> {_stamp(end)}\n"
                                  f"{sheet_name(part, sheet)}#xywh={x},{y},{layout.width},{layout.height}\n\n")
    return "WEBVTT\n\n" + "".join(text for _, text in sorted(cues.items()))


def webp_argv(jpeg: str, out_path: str) -> list[str]:
    """ffmpeg argv: the poster's WebP from its JPEG (our own file: no other format may be opened)."""
    return [ffmpeg_binary(), *sandbox.GLOBAL_ARGS, "-protocol_whitelist", "file", "-f", "image2",
            "-pattern_type", "none", "-i", jpeg, "-map_metadata", "-1", "-c:v", "libwebp", "-quality", "85",
            "-f", "webp", out_path]


def to_webp(jpeg: Path, out_path: Path, *, timeout: float) -> None:
    """Write the WebP of ``jpeg`` at ``out_path`` (same folder). Raises MediaError."""
    sandbox.run(webp_argv(str(jpeg), str(out_path)), timeout, what="poster WebP", network=False,
                workdir=str(out_path.parent))
