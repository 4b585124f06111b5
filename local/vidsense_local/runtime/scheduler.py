"""Scheduled EventBridge rules (``rate(...)``) for the local runtime: moto stores them but never fires them."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vidsense_local.discovery.model import RuleTarget

log = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """``rate(5 minutes)`` -> 300; ``None`` for cron expressions (not fired locally)."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(target: RuleTarget, account_id: str, region: str) -> Any:
    """What EventBridge sends a scheduled rule's target (or the target's constant ``Input``)."""
    if target.target_input:
        return json.loads(target.target_input)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [target.rule_arn] if target.rule_arn else [],
        "detail": {},
    }


class Scheduler:
    """Fires each enabled ``rate(...)`` rule's Lambda target every period, first one period after ``set_rules``."""

    def __init__(
        self,
        fire: Callable[[RuleTarget], None],
        tick_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fire = fire
        self._tick = tick_seconds
        self._clock = clock  # injectable, so tests drive the periods without sleeping through them
        self._due: dict[tuple[str, str, str], tuple[float, int, RuleTarget]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="eventbridge-schedules", daemon=True)
        self._thread.start()

    def set_rules(self, targets: list[RuleTarget]) -> None:
        now = self._clock()
        with self._lock:
            due: dict[tuple[str, str, str], tuple[float, int, RuleTarget]] = {}
            for target in targets:
                if not target.schedule_expression or target.state != "ENABLED":
                    continue
                period = rate_seconds(target.schedule_expression)
                if period is None:
                    log.warning("rule %s: %s is not fired locally", target.rule, target.schedule_expression)
                    continue
                key = (target.bus, target.rule, target.function_arn)
                previous = self._due.get(key)
                next_at = previous[0] if previous and previous[1] == period else now + period
                due[key] = (next_at, period, target)
            self._due = due

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            self.fire_due()

    def fire_due(self) -> None:
        """Fire every rule whose period has come (the ticking thread calls this; tests may call it directly)."""
        now = self._clock()
        fire: list[RuleTarget] = []
        with self._lock:
            for key, (next_at, period, target) in list(self._due.items()):
                if now >= next_at:
                    fire.append(target)
                    self._due[key] = (now + period, period, target)
        for target in fire:
            try:
                self._fire(target)
            except Exception:
                log.exception("scheduled rule %s failed to fire", target.rule)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
