"""Playback tokens: private HLS/DASH delivery that works from a browser without the API key.

A token sits in the URL *path*, ``{base}/{token}/{job_id}/master.m3u8``, not in the query: a
player resolves a playlist's relative segment URIs against the playlist's path, so every segment
request carries the token too (a query string would be dropped, which is why presigned S3 URLs or
CloudFront's query-string signed URLs cannot serve a relative playlist without rewriting it).

``token = "{expires}.{base64url(HMAC-SHA256(secret, "{job_id}/{expires}"))}"`` (no padding). The
same check runs in the local stack's server and in the CloudFront viewer-request function
(``infra/playback/viewer_request.js``); tests hold the two to the same vectors.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

STREAM_DIR = "stream"
MASTER = "master.m3u8"
MANIFEST = "manifest.mpd"
INIT = "init.mp4"  # a rendition's init segment, beside its numbered media segments
SUBTITLES = "subtitles.vtt"  # a subtitle rendition's one WebVTT file, the whole video long
# The job's images, in its stream folder (README "Images"): made for every job, mp4-only ones too.
POSTER = "poster.jpg"
POSTER_WEBP = "poster.webp"
STORYBOARD = "storyboard.vtt"
STORYBOARD_DIR = "storyboard"  # its sprite sheets
THUMBS_DIR = "thumbs"  # the thumbnail API's cache
_DIGITS = re.compile(r"[0-9]+")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What a package may contain: rung folders and file names of our own making only.
_REST = re.compile(r"(?:[A-Za-z0-9_-]{1,32}/)?[A-Za-z0-9_.-]{1,64}")


def stream_prefix(job_id: str) -> str:
    """Where a job's streaming package sits in the output bucket."""
    return f"outputs/{job_id}/{STREAM_DIR}/"


def segment_name(number: int) -> str:
    """A media segment's file name in its rendition folder (DASH ``$Number$.m4s``)."""
    return f"{number}.m4s"


def _signature(secret: bytes, job_id: str, expires: int) -> str:
    digest = hmac.new(secret, f"{job_id}/{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: bytes, job_id: str, expires: int) -> str:
    """A token granting read access to ``job_id``'s package until ``expires`` (epoch seconds)."""
    return f"{expires}.{_signature(secret, job_id, expires)}"


def playback_url(base_url: str, token: str, job_id: str, name: str = MASTER) -> str:
    """The URL of ``name`` in ``job_id``'s package under ``base_url``."""
    return f"{base_url.rstrip('/')}/{token}/{job_id}/{name}"


def resolve(secret: bytes, path: str, now: float) -> str | None:
    """The output-bucket key a ``/{token}/{job_id}/{rest}`` path may read, or None (refused).

    Refused: a malformed path, an expired token, a signature for another job or another secret.
    """
    pieces = path.lstrip("/").split("/", 2)
    if len(pieces) != 3 or not secret or not path.isascii():
        return None
    token, job_id, rest = pieces
    expires_text, _, signature = token.partition(".")
    if (not _DIGITS.fullmatch(expires_text) or not _JOB_ID.fullmatch(job_id) or not _REST.fullmatch(rest)
            or ".." in rest):
        return None
    expires = int(expires_text)
    if expires <= now:
        return None
    if not hmac.compare_digest(signature, _signature(secret, job_id, expires)):
        return None
    return stream_prefix(job_id) + rest


CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".vtt": "text/vtt",
}
