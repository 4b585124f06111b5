"""Given a scheduled EventBridge rule with a Lambda target (moto never fires schedules), the runtime fires it
with the Scheduled Event shape, on demand and every rate period."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from tests.integration.local.conftest import ACCOUNT, REGION, Stack
from vidsense_local.discovery.model import RuleTarget
from vidsense_local.runtime import scheduler
from vidsense_local.runtime.scheduler import Scheduler, rate_seconds


def test_rate_expressions() -> None:
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("rate(2 days)") == 172800
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_scheduled_rule_fires_its_lambda_with_the_scheduled_event(stack: Stack) -> None:
    record_q, _ = stack.queue("rec")
    _, fn_arn = stack.function("record", env={"RECORD_QUEUE_URL": record_q})
    events = stack.client("events")
    rule = f"sched-{uuid.uuid4().hex[:6]}"
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": fn_arn}])
    stack.runtime.refresh()
    assert f"schedule rate(5 minutes) ({rule})" in stack.runtime.deployment.triggers_of(fn_arn.rsplit(":", 1)[-1])

    stack.runtime.fire_schedule(rule)
    (msg,) = stack.received(record_q, 1)
    event = json.loads(msg["Body"])["event"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [rule_arn]
    assert event["detail"] == {}
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)


RULES = [
    RuleTarget("default", "every", None, "arn:aws:lambda:us-east-1:1:function:f", "rate(1 minute)"),
    RuleTarget("default", "off", None, "arn:aws:lambda:us-east-1:1:function:f", "rate(1 minute)", "DISABLED"),
    RuleTarget("default", "pattern", '{"source": ["x"]}', "arn:aws:lambda:us-east-1:1:function:f"),
]


def test_scheduler_fires_each_enabled_rate_rule_once_per_period() -> None:
    # Given a scheduler on a clock the test moves (its own thread ticks once an hour: it never fires here)
    now = [1000.0]
    fired: list[tuple[str, float]] = []
    sched = Scheduler(lambda target: fired.append((target.rule, now[0])), tick_seconds=3600, clock=lambda: now[0])
    try:
        sched.set_rules(RULES)
        # When the clock passes through three periods of 60 s, checked every 10 s
        for _ in range(18):
            now[0] += 10
            sched.fire_due()
    finally:
        sched.stop()
    # Then only the enabled rate rule fired, first one period after set_rules, then once per period
    assert fired == [("every", 1060.0), ("every", 1120.0), ("every", 1180.0)]


def test_scheduler_thread_fires_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 1 s period and the real clock, When the scheduler's own thread runs
    monkeypatch.setattr(scheduler, "rate_seconds", lambda expression: 1)
    fired: list[str] = []
    lock = threading.Lock()

    def fire(target: RuleTarget) -> None:
        with lock:
            fired.append(target.rule)

    sched = Scheduler(fire, tick_seconds=0.05)
    try:
        sched.set_rules(RULES)
        # Then it fires the enabled rule at least twice; the deadline is a bound for a loaded machine, not a
        # measurement (two periods take 2 s; the exact cadence is the fake-clock test's)
        deadline = time.monotonic() + 30
        while len(fired) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sched.stop()
    with lock:
        assert len(fired) >= 2 and set(fired) == {"every"}, fired
