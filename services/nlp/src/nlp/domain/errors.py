"""Domain errors of the nlp service.

``AnalysisRejected`` is a known, permanent failure of one answer (a transcript object that does not exist, an
unreadable transcript, an unsupported language): it becomes a SentimentFailed event and the handler returns
normally. Anything else (access denied, throttling, outages) propagates so that Lambda retries and the
dead-letter queue keeps the event.
"""

from __future__ import annotations

from vidsense_shared.rejection import Rejected


class AnalysisRejected(Rejected):
    """A permanent failure of this answer's analysis, published as SentimentFailed."""


class TranscriptMalformed(AnalysisRejected):
    def __init__(self, message: str) -> None:
        super().__init__("TranscriptMalformed", message)


class UnsupportedLanguage(AnalysisRejected):
    def __init__(self, message: str) -> None:
        super().__init__("UnsupportedLanguage", message)


class TranscriptMissing(AnalysisRejected):
    """S3 says the transcript object (or the named version) does not exist: S3 is strongly consistent and
    TranscriptReady is published after Transcribe wrote it, so a retry cannot bring it back."""

    def __init__(self, message: str) -> None:
        super().__init__("TranscriptMissing", message)


class SentimentServiceError(Exception):
    """Comprehend failed in a way retrying can fix (throttling, outage, permissions): Lambda retries."""


class TranscriptUnavailable(Exception):
    """The transcript object could not be read for a reason a retry may fix (access, throttling, outage)."""
