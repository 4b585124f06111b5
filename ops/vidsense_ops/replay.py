"""Archive replays: choose the rules to replay to, start the replay, follow it to the end."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from vidsense_shared.events import EVENTS_BY_DETAIL_TYPE
from vidsense_shared.resources import StageResources

SERVICES = ("ingest", "transcode", "nlp")
FINAL_STATES = {"COMPLETED", "CANCELLED", "FAILED"}
_SERVICE_TOKEN = re.compile(r"(?:^|[-:/_])(ingest|transcode|nlp)(?=[-_]|$)")


class ReplayError(RuntimeError):
    """The replay cannot be started as asked (no matching rule, unknown archive...)."""


@dataclass(frozen=True)
class BusRule:
    name: str
    arn: str
    pattern: dict[str, Any]
    consumers: frozenset[str]

    def may_match(self, detail_type: str) -> bool:
        """True when an event of ``detail_type`` (from its producing source) can match this rule's pattern.

        Only ``source`` and ``detail-type`` are checked: a rule that constrains neither may match it.
        """
        model = EVENTS_BY_DETAIL_TYPE.get(detail_type)
        checks = {"detail-type": detail_type, "source": model.SOURCE if model else None}
        for key, value in checks.items():
            allowed = self.pattern.get(key)
            if allowed is None or value is None:
                continue
            if not any(_matches(item, value) for item in allowed):
                return False
        return True


def _matches(item: Any, value: str) -> bool:
    if isinstance(item, str):
        return item == value
    if isinstance(item, dict) and "prefix" in item:
        return value.startswith(str(item["prefix"]))
    if isinstance(item, dict) and "anything-but" in item:
        excluded = item["anything-but"]
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    return True  # an operator we do not evaluate: keep the rule rather than silently skip it


def consumers_of(rule_name: str, target_arns: Iterable[str]) -> frozenset[str]:
    """The services a rule delivers to, read from its name and its targets' names (stage-scoped names)."""
    found = {m.group(1) for text in (rule_name, *target_arns) for m in _SERVICE_TOKEN.finditer(text)}
    return frozenset(found)


def list_bus_rules(events: Any, bus: str) -> list[BusRule]:
    rules: list[BusRule] = []
    paginator = events.get_paginator("list_rules")
    for page in paginator.paginate(EventBusName=bus):
        for rule in page.get("Rules", []):
            if rule.get("ManagedBy") or rule["Name"].startswith("Events-Archive-"):
                continue  # the archive's own rule: replaying into it would archive the replay
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", [])
            rules.append(
                BusRule(
                    name=rule["Name"],
                    arn=rule["Arn"],
                    pattern=json.loads(rule.get("EventPattern") or "{}"),
                    consumers=consumers_of(rule["Name"], [t["Arn"] for t in targets]),
                )
            )
    return rules


def select_rules(
    rules: Sequence[BusRule], consumers: Sequence[str] = (), detail_types: Sequence[str] = ()
) -> list[BusRule]:
    chosen = [r for r in rules if not consumers or r.consumers & set(consumers)]
    if detail_types:
        chosen = [r for r in chosen if any(r.may_match(dt) for dt in detail_types)]
    return chosen


@dataclass(frozen=True)
class ReplayRequest:
    stage: str
    start: datetime
    end: datetime
    consumers: tuple[str, ...] = ()
    detail_types: tuple[str, ...] = ()
    name: str | None = None

    def replay_name(self, now: datetime) -> str:
        return self.name or f"{StageResources(self.stage).prefix}-{now.strftime('%Y%m%dT%H%M%S')}"


def start_replay(events: Any, request: ReplayRequest, *, now: datetime | None = None) -> tuple[str, list[BusRule]]:
    if request.start >= request.end:
        raise ReplayError("--from must be before --to")
    names = StageResources(request.stage)
    bus = events.describe_event_bus(Name=names.bus)
    archive = events.describe_archive(ArchiveName=names.archive)
    rules = select_rules(list_bus_rules(events, bus["Name"]), request.consumers, request.detail_types)
    if not rules:
        raise ReplayError("no rule on the bus matches the selected --consumer/--event")
    name = request.replay_name(now or datetime.now(UTC))
    events.start_replay(
        ReplayName=name,
        Description=f"vidsense CLI: consumers={list(request.consumers)} events={list(request.detail_types)}",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=request.start,
        EventEndTime=request.end,
        Destination={"Arn": bus["Arn"], "FilterArns": [r.arn for r in rules]},
    )
    return name, rules


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def progress_fraction(description: dict[str, Any]) -> float:
    if description.get("State") == "COMPLETED":
        return 1.0
    start = _as_datetime(description.get("EventStartTime"))
    end = _as_datetime(description.get("EventEndTime"))
    last = _as_datetime(description.get("EventLastReplayedTime"))
    if not (start and end and last) or end <= start:
        return 0.0
    return max(0.0, min(1.0, (last - start) / (end - start)))


def render_bar(fraction: float, state: str, width: int = 30) -> str:
    filled = round(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% {state}"


def wait_for_replay(
    events: Any,
    name: str,
    *,
    out: TextIO,
    poll_seconds: float = 2.0,
    timeout_seconds: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll DescribeReplay, drawing a progress bar, until the replay reaches a final state."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        description: dict[str, Any] = events.describe_replay(ReplayName=name)
        state = description["State"]
        out.write("\r" + render_bar(progress_fraction(description), state))
        out.flush()
        if state in FINAL_STATES or time.monotonic() > deadline:
            out.write("\n")
            return description
        sleep(poll_seconds)


def summary(description: dict[str, Any], rules: Sequence[BusRule]) -> str:
    lines = [
        f"replay {description.get('ReplayName')}: {description.get('State')}",
        f"  window   {_as_datetime(description.get('EventStartTime'))} .. "
        f"{_as_datetime(description.get('EventEndTime'))}",
        f"  rules    {', '.join(r.name for r in rules) or '-'}",
    ]
    if description.get("StateReason"):
        lines.append(f"  reason   {description['StateReason']}")
    started = _as_datetime(description.get("ReplayStartTime"))
    ended = _as_datetime(description.get("ReplayEndTime"))
    if started and ended:
        lines.append(f"  took     {(ended - started).total_seconds():.1f} s")
    return "\n".join(lines)


def list_replays(events: Any, stage: str) -> list[dict[str, Any]]:
    archive = events.describe_archive(ArchiveName=StageResources(stage).archive)
    replays: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"EventSourceArn": archive["ArchiveArn"]}
        if token:
            kwargs["NextToken"] = token
        page = events.list_replays(**kwargs)
        replays.extend(page.get("Replays", []))
        token = page.get("NextToken")
        if not token:
            return replays
