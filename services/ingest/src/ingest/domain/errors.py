"""Domain errors; the API maps each to one HTTP status in a single place (handlers.api)."""

from __future__ import annotations


class IngestError(Exception):
    """Base of every ingest domain error."""


class InvalidParameterError(IngestError):
    """A request parameter is malformed; ``parameter`` names it (HTTP 400)."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"invalid {parameter}: {reason}")
        self.parameter = parameter


class UnauthorizedError(IngestError):
    """No usable identity in the token's claims (HTTP 401)."""


class ForbiddenError(IngestError):
    """The caller is known but not allowed (HTTP 403)."""


class AnswerExistsError(IngestError):
    """The answer exists and has not failed: a second recording is refused (HTTP 403, plain text)."""


class AnswerBusyError(IngestError):
    """The answer cannot change right now: it is being processed or erased (HTTP 409 with Retry-After)."""


class AnswerNotFoundError(IngestError):
    """No answer for this caller and step (HTTP 404), or a pipeline event for an unknown answer."""


class TranscriptUnavailableError(IngestError):
    """The transcript pointer is set but its object is missing or not a Transcribe result."""


class MediaStoreError(IngestError, RuntimeError):
    """The object store refused a request for a reason other than a missing object (throttling, AccessDenied)."""


class ConcurrentUpdateError(IngestError):
    """Another writer changed the answer between read and conditional write; re-read and decide again."""


class AttemptAheadError(IngestError):
    """A pipeline event names an attempt the read model has not recorded yet (raised, so it is retried)."""


class UnversionedObjectError(IngestError):
    """A media object arrived without a version id (the bucket must be versioned)."""


class MalformedEventError(IngestError, ValueError):
    """An incoming event does not have the documented shape (raised, so the failure destination keeps it)."""
