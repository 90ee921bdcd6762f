"""Concatenate encoded chunks (stream copy) and mux the audio into the final MP4."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence

from chalicelib.media import sandbox
from chalicelib.model.errors import MediaError
from chalicelib.model.plan import Chunk
from workers.media.binary import ffmpeg_binary


def _quote(path: str) -> str:
    # ffconcat strings are single-quoted; a quote is written as '\'' like in sh.
    return "'" + path.replace("'", "'\\''") + "'"


def concat_list(chunk_paths: Sequence[str], chunks: Sequence[Chunk]) -> str:
    """ffconcat script: each chunk file with its exact source duration (keeps VFR timing)."""
    if len(chunk_paths) != len(chunks) or not chunks:
        raise MediaError("chunk files and chunk plan do not match")
    lines = ["ffconcat version 1.0"]
    for path, chunk in zip(chunk_paths, chunks):
        lines += [f"file {_quote(os.path.abspath(path))}", f"duration {chunk.duration:.6f}"]
    return "\n".join(lines) + "\n"


def assemble_argv(list_path: str, audio_path: str | None, out_path: str) -> list[str]:
    """ffmpeg argv: concat chunks + optional audio with stream copy into a faststart MP4."""
    # Inputs are our own local intermediates: absolute paths need `-safe 0`, but nothing beyond
    # plain files may be opened.
    own_file = ["-protocol_whitelist", "file"]
    argv = [
        ffmpeg_binary(),
        *sandbox.GLOBAL_ARGS,
        *own_file, "-f", "concat", "-safe", "0", "-i", list_path,
    ]
    maps = ["-map", "0:v:0"]
    if audio_path is not None:
        argv += [*own_file, "-i", audio_path]
        maps += ["-map", "1:a:0"]
    return [
        *argv,
        *maps,
        "-c", "copy",
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-f", "mp4",
        out_path,
    ]


def assemble(
    chunk_paths: list[str],
    chunks: Sequence[Chunk],
    audio_path: str | None,
    out_path: str,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
) -> None:
    """Write the final MP4 at ``out_path``. Raises MediaError with a reason."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    with tempfile.NamedTemporaryFile("w", suffix=".ffconcat", dir=out_dir, delete=False) as handle:
        handle.write(concat_list(chunk_paths, chunks))
    try:
        argv = assemble_argv(handle.name, audio_path, out_path)
        # Our own local files in, a local file out: no network at all.
        sandbox.run(argv, timeout, what="assembling output", cancel=cancel, network=False, workdir=out_dir)
    finally:
        os.unlink(handle.name)
