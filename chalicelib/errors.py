"""Domain exceptions for framefleet (one flat module)."""


class FramefleetError(Exception):
    """Base class of every framefleet error."""


class MediaError(FramefleetError):
    """ffmpeg or media processing failed; the message is a short human-readable reason."""


class InvalidMediaError(MediaError):
    """The user's input is not a usable video (bad container, no video, truncated...)."""


class MediaTimeoutError(MediaError):
    """A media subprocess exceeded its wall-clock timeout."""


class VerificationError(MediaError):
    """The assembled output does not match the plan."""


class InvalidOptionsError(FramefleetError):
    """Encode options supplied by the user are invalid."""


class QueueError(FramefleetError):
    """A task cannot be queued (payload not a JSON object with a job_id)."""


class StorageError(FramefleetError):
    """An S3 operation failed."""


class NotFoundError(FramefleetError):
    """A job or object does not exist (or is not yours)."""


class ValidationError(FramefleetError):
    """A client request is malformed or over a limit (HTTP 400)."""


class ConflictError(FramefleetError):
    """The job is in a state that does not allow this operation (HTTP 409)."""


class JobAbandoned(FramefleetError):
    """The task's job was cancelled or failed, or its lease was lost: stop work quietly."""


class UnauthorizedError(FramefleetError):
    """No valid credentials (HTTP 401)."""


class LimitExceededError(FramefleetError):
    """The caller is over a rate or concurrency limit (HTTP 429)."""
