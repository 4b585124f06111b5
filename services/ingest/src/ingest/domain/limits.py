"""How many new recordings one person may start in a rolling day: the pure rule of the presign's limit.

A recording is counted when a presign opens a new attempt (a first recording, a retake after FAILED, a recording
made again after an erasure). The person's window keeps the time of each counted recording of the last 24 hours
(at most ``limit`` of them, oldest first) and the attempt each one opened, so presigning the same attempt again
(the form expired, the page reloaded) is not counted twice. An erasure releases the attempts of the erased answer:
recording it again is a new recording and counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingest.domain.errors import IngestError

WINDOW = timedelta(hours=24)
WINDOW_NAME = "24h"


class RecordingLimitError(IngestError):
    """The person started ``limit`` recordings in the last 24 hours (HTTP 429 with Retry-After)."""

    def __init__(self, limit: int, retry_after_seconds: int) -> None:
        super().__init__(
            f"at most {limit} new recordings per person in {WINDOW_NAME}: try again in {_duration(retry_after_seconds)}"
        )
        self.limit = limit
        self.retry_after_seconds = retry_after_seconds


def _duration(seconds: int) -> str:
    """A wait as a person reads it: "23 h 5 min", "12 min", "40 s" (a minute begun counts as a whole one)."""
    if seconds < 60:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@dataclass(frozen=True)
class Grant:
    """One counted recording: when it was granted, and the attempt it opened (None once its answer was erased)."""

    at: datetime
    attempt: str | None


@dataclass(frozen=True)
class RecordingWindow:
    """A person's counted recordings, oldest first."""

    grants: tuple[Grant, ...] = ()

    def live(self, now: datetime) -> tuple[Grant, ...]:
        """The grants still inside the rolling window at ``now`` (one leaves exactly 24 h after it was granted)."""
        return tuple(grant for grant in self.grants if grant.at > now - WINDOW)

    def expires_at(self) -> datetime | None:
        """When the newest grant leaves the window: the item is of no use after that (its TTL)."""
        if not self.grants:
            return None
        return max(grant.at for grant in self.grants) + WINDOW


def attempt_tag(project_step: str, attempt: int) -> str:
    """The attempt a presign opens, as the window remembers it (the window is per person already)."""
    return f"{project_step}#{attempt}"


def admit(window: RecordingWindow | None, attempt: str, *, limit: int, now: datetime) -> RecordingWindow | None:
    """The window with a new grant for ``attempt``; None when that attempt is counted already (nothing to write).

    Raises RecordingLimitError when ``limit`` recordings are inside the window; its retry-after is the time until
    the oldest of them leaves it.
    """
    live = (window or RecordingWindow()).live(now)
    if any(grant.attempt == attempt for grant in live):
        return None
    if len(live) >= limit:
        oldest = min(grant.at for grant in live)
        wait = (oldest + WINDOW - now).total_seconds()
        raise RecordingLimitError(limit, max(1, math.ceil(wait)))
    return RecordingWindow((*live, Grant(now, attempt)))


def release(window: RecordingWindow | None, project_step: str) -> RecordingWindow | None:
    """The window once the answer to ``project_step`` is erased: its grants still count, but no longer stand for an
    attempt a presign may reopen for free. None when there is nothing to change."""
    if window is None or not any(_opened_for(grant, project_step) for grant in window.grants):
        return None
    return RecordingWindow(
        tuple(Grant(grant.at, None) if _opened_for(grant, project_step) else grant for grant in window.grants)
    )


def _opened_for(grant: Grant, project_step: str) -> bool:
    return grant.attempt is not None and grant.attempt.startswith(f"{project_step}#")
