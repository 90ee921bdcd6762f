"""Domain exceptions. Those that reach HTTP carry their status code (Chalice's ``STATUS_CODE``
pattern); ``app.py`` reads it and has no table of its own. Adapters (S3, Redis) raise
``StorageError``s, never client errors: only the route logic decides what the caller did wrong.

Every error also says whether another attempt could succeed (``retryable``: the class's
``RETRYABLE`` unless the raiser knows better, as ``sandbox.run`` does per ffmpeg failure);
``is_retryable`` is the one place that decides, and the worker loop retries only those.
"""


class FramefleetError(Exception):
    """Base class of every framefleet error; an unexpected one is a 500."""

    STATUS_CODE = 500
    RETRYABLE = True  # unknown trouble may be an outage: another attempt may succeed

    def __init__(self, *args: object, retryable: bool | None = None) -> None:
        super().__init__(*args)
        self.retryable = type(self).RETRYABLE if retryable is None else retryable


class ValidationError(FramefleetError):
    """A client request is malformed or over a limit."""

    STATUS_CODE = 400
    RETRYABLE = False


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
    """ffmpeg or media processing failed; the message is a short human-readable reason.

    Not retryable by default: the same command on the same bytes fails the same way. What can
    pass (a timeout under load, a child killed from outside, a read over the network) says so."""

    RETRYABLE = False


class InvalidMediaError(MediaError):
    """The user's input is not a usable video (bad container, no video, truncated...)."""


class MediaTimeoutError(MediaError):
    """A media subprocess exceeded its wall-clock timeout (on a loaded machine: another may not)."""

    RETRYABLE = True


class VerificationError(MediaError):
    """The assembled output does not match the plan."""


class QueueError(FramefleetError):
    """A task cannot be queued (payload not a JSON object with a job_id)."""


class JobAbandoned(FramefleetError):
    """The task's job was cancelled or failed, or its lease was lost: stop work quietly."""


def is_retryable(exc: BaseException) -> bool:
    """Can another attempt of the task that raised ``exc`` succeed? Our errors say so themselves;
    anything else (Redis, botocore, OSError, a bug) may be an outage and is retried."""
    if isinstance(exc, FramefleetError):
        return exc.retryable
    return True


def public_reason(exc: BaseException) -> str:
    """What a job may say about an error: media errors are written for users; anything else
    (S3 or Redis trouble, a bug) can name internal hosts, buckets or keys, and says only that it
    happened — the details go to the logs."""
    if isinstance(exc, MediaError):
        return str(exc)[:500]
    return f"an internal error ({type(exc).__name__}; the details are in the service's logs)"
