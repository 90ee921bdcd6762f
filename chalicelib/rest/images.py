"""``GET /jobs/{id}/thumbnail.{jpg,webp}?time=T&width=W``: a still of a finished job's output at any
instant and width, made on demand and cached in the job's stream folder (``thumbs/``), where the
playback path (CloudFront on AWS) serves it like the rest of the stream.

Made from the output, never the source: the top H.264 rung's init segment and the one media
segment holding the instant (one GOP decoded), or, for an mp4-only job, the MP4 read by range
requests; decoded by PyAV in a sandboxed child of the API (``chalicelib.media.still``).
"""
from __future__ import annotations

import math
import tempfile
from bisect import bisect_right
from pathlib import Path
from typing import Any

from chalicelib.media.still import FORMATS, still
from chalicelib.model.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.model.kinds import JobState
from chalicelib.model.limits import Principal
from chalicelib.model.options import EncodeOptions
from chalicelib.model.plan import Plan
from chalicelib.model.playback import CONTENT_TYPES, INIT, THUMBS_DIR, segment_name, stream_prefix
from chalicelib.rest.views import signed_url
from chalicelib.stores.services import Services

MIN_WIDTH, MAX_WIDTH = 16, 1920
PARAMETERS = ("time", "width")
CACHE = "public, max-age=31536000, immutable"  # a name is one picture for ever
SOURCE_URL_SECONDS = 300  # the MP4's presigned GET, for the decoder's range reads


def thumbnail(svc: Services, who: Principal, job_id: str, fmt: str, params: dict[str, str]) -> dict[str, Any]:
    """The URL of the thumbnail (made now unless cached) and what it shows.

    400: an unknown format or parameter, a time outside [0, duration), a width outside 16-1920;
    409: the job is not done.
    """
    job = svc.jobs.get(job_id, who.owner)
    if fmt not in FORMATS:
        raise ValidationError(f"thumbnails are {' or '.join(FORMATS)}, not {fmt!r}")
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ValidationError(f"unknown parameter {unknown[0]!r}: a thumbnail takes {' and '.join(PARAMETERS)}")
    asked = _width(params.get("width"))
    if job["state"] != JobState.DONE:
        raise ConflictError(f"job is {job['state']}; thumbnails are made from the finished output")
    plan = Plan.from_dict(job["plan"])
    at_ms = _instant(params.get("time"), float(job.get("poster_time") or 0.0), plan.video_duration)
    width = asked or min(plan.width, MAX_WIDTH)  # default: the output's width
    height = max(2, round(width * plan.height / plan.width))
    name = f"{THUMBS_DIR}/t{at_ms}_w{width}.{fmt}"
    bucket, key = svc.settings.output_bucket, stream_prefix(job_id) + name
    cached = True
    try:
        svc.storage.head(bucket, key)
    except NotFoundError:
        cached = False
        image = _render(svc, job, plan, at_ms, width, height, fmt)
        svc.storage.put_bytes(bucket, key, image, CONTENT_TYPES[f".{fmt}"], CACHE)
    url = signed_url(svc, job_id, name) or svc.storage.presigned_get(bucket, key, svc.settings.download_url_expiry)
    return {"url": url, "time": at_ms / 1000, "width": width, "height": height, "format": fmt, "cached": cached}


def _instant(raw: str | None, default: float, duration: float) -> int:
    """The instant asked for, in whole milliseconds (the cache's key); default: the poster's."""
    if raw is None or raw == "":
        return round(default * 1000)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 <= seconds < duration:
        raise ValidationError(f"'time' must be a number of seconds from 0 to below the video's {duration:.3f}")
    return round(seconds * 1000)


def _width(raw: str | None) -> int | None:
    """The width asked for, if any."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not MIN_WIDTH <= int(raw) <= MAX_WIDTH:
        raise ValidationError(f"'width' must be a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH}")
    return int(raw)


def _render(svc: Services, job: dict[str, Any], plan: Plan, at_ms: int, width: int, height: int, fmt: str) -> bytes:
    """Decode the output at ``at_ms`` into one image."""
    settings = svc.settings
    if not EncodeOptions.from_dict(job["options"]).streaming:
        mp4 = svc.storage.presigned_get(settings.output_bucket, job["output"]["key"], SOURCE_URL_SECONDS)
        return still(mp4, 0.0, at_ms, width, height, fmt)
    # The last segment starting at or before the instant (in the milliseconds the frames are picked by).
    number = max(0, bisect_right([round(t * 1000) for t in plan.segment_times], at_ms) - 1)
    folder = f"{stream_prefix(job['id'])}{plan.rungs[0].id}/"
    with tempfile.TemporaryDirectory(prefix="ff-thumb-") as tmp:
        clip = Path(tmp) / "clip.mp4"
        with clip.open("wb") as out:
            for piece in (INIT, segment_name(number)):
                out.write(svc.storage.get_object(settings.output_bucket, folder + piece)["Body"].read())
        return still(str(clip), plan.segment_times[number], at_ms, width, height, fmt)
