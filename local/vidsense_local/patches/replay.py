"""EventBridge replays that honour the time window and the rule filter, as AWS does.

moto 5.2's ``Replay.replay_events`` re-sends every archived event to every rule of the bus, ignoring
``EventStartTime``/``EventEndTime`` and ``Destination.FilterArns``. AWS replays only the events whose time
lies in the window, only to the listed rules, each carrying ``replay-name``. ``install()`` swaps in that
behaviour; it is idempotent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from moto.core.utils import unix_time
from moto.events import models as events_models

_INSTALLED_FLAG = "_vidsense_replay_patch"


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def in_window(event_time: Any, start: Any, end: Any) -> bool:
    return _to_datetime(start) <= _to_datetime(event_time) <= _to_datetime(end)


def _replay_events(self: Any, archive: Any) -> None:
    bus_name = self.destination["Arn"].split("/")[-1]
    filter_arns = set(self.destination.get("FilterArns") or [])
    backend = events_models.events_backends[self.account_id][self.region]
    bus = backend.describe_event_bus(bus_name)
    self.state = events_models.ReplayState.RUNNING
    last_replayed: datetime | None = None
    for event in list(archive.events):
        if not in_window(event.get("time", 0), self.event_start_time, self.event_end_time):
            continue
        replayed = cast(Any, dict(event, **{"id": str(uuid.uuid4()), "replay-name": self.name}))
        for rule in list(bus.rules.values()):
            if filter_arns and rule.arn not in filter_arns:
                continue
            if rule.name.startswith("Events-Archive-"):
                continue  # never archive a replayed event again
            rule.send_to_targets(replayed, transform_input=False)
        event_time = _to_datetime(event.get("time", 0))
        last_replayed = event_time if last_replayed is None else max(last_replayed, event_time)
    self.event_last_replayed_time = last_replayed
    self.state = events_models.ReplayState.COMPLETED
    self.end_time = unix_time()


def _describe(self: Any) -> dict[str, Any]:
    result: dict[str, Any] = _ORIGINAL_DESCRIBE(self)
    last = getattr(self, "event_last_replayed_time", None)
    if last is not None:
        result["EventLastReplayedTime"] = last.timestamp()
    return result


_ORIGINAL_DESCRIBE = events_models.Replay.describe


def install() -> None:
    replay_cls: Any = events_models.Replay
    if getattr(replay_cls, _INSTALLED_FLAG, False):
        return
    replay_cls.replay_events = _replay_events
    replay_cls.describe = _describe
    setattr(replay_cls, _INSTALLED_FLAG, True)
