"""Times on the command line: ISO 8601 with a zone (``2026-11-29T10:00:00Z``) or relative (``-2h``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^-(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class TimeFormatError(ValueError):
    """The text is neither a zoned ISO 8601 time nor a relative time like -2h."""


def is_relative(text: str) -> bool:
    return _RELATIVE.match(text.strip()) is not None


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    text = text.strip()
    if text == "now":
        return now or datetime.now(UTC)
    relative = _RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TimeFormatError(
            f"{text!r} is not ISO 8601 with a zone (2026-11-29T10:00:00Z) nor relative like -2h"
        ) from exc
    if parsed.tzinfo is None:
        raise TimeFormatError(f"{text!r} has no time zone: add Z or an offset such as +01:00")
    return parsed.astimezone(UTC)
