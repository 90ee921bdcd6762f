"""Domain exceptions. Those that reach HTTP carry their status code (Chalice's ``STATUS_CODE``
pattern); ``app.py`` reads it and has no table of its own. Adapters (S3, Redis) raise
``StorageError``s, never client errors: only the route logic decides what the caller did wrong.
"""


class FramefleetError(Exception):
    """Base class of every framefleet error; an unexpected one is a 500."""

    STATUS_CODE = 500


class ValidationError(FramefleetError):
    """A client request is malformed or over a limit."""

    STATUS_CODE = 400


class InvalidOptionsError(ValidationError):
    """Encode options supplied by the user are invalid."""


class UnauthorizedError(FramefleetError):
    """No valid credentials."""

    STATUS_CODE = 401


class NotFoundError(FramefleetError):
    """A job or object does not exist (or is not yours)."""

    STATUS_CODE = 404


class ConflictError(FramefleetError):
    """The job is in a state that does not allow this operation."""

    STATUS_CODE = 409


class LimitExceededError(FramefleetError):
    """The caller is over a rate or concurrency limit."""

    STATUS_CODE = 429


class StorageError(FramefleetError):
    """An S3 operation failed (S3 being unwell: a bad gateway to the caller)."""

    STATUS_CODE = 502


class StorageRejectedError(StorageError):
    """S3 refused what was sent (a bad part list, a part too small…); the route decides what to say."""


class MediaError(FramefleetError):
    """ffmpeg or media processing failed; the message is a short human-readable reason."""


class InvalidMediaError(MediaError):
    """The user's input is not a usable video (bad container, no video, truncated...)."""


class MediaTimeoutError(MediaError):
    """A media subprocess exceeded its wall-clock timeout."""


class VerificationError(MediaError):
    """The assembled output does not match the plan."""


class QueueError(FramefleetError):
    """A task cannot be queued (payload not a JSON object with a job_id)."""


class JobAbandoned(FramefleetError):
    """The task's job was cancelled or failed, or its lease was lost: stop work quietly."""


def public_reason(exc: BaseException) -> str:
    """What a job may say about an error: media errors are written for users; anything else
    (S3 or Redis trouble, a bug) can name internal hosts, buckets or keys, and says only that it
    happened — the details go to the logs."""
    if isinstance(exc, MediaError):
        return str(exc)[:500]
    return f"an internal error ({type(exc).__name__}; the details are in the service's logs)"
