"""vidsense replay / replays: time parsing, rule selection, and a replay that honours window and filter."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from tests.bus_capture import drain
from vidsense_local.cli import build_parser
from vidsense_local.cli import main as cli_main
from vidsense_local.patches import replay as replay_patch
from vidsense_ops import commands, replay
from vidsense_ops.commands import attach_relative_times
from vidsense_ops.timeparse import TimeFormatError, parse_time
from vidsense_shared.resources import StageResources

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
STAGE = "t1"
NAMES = StageResources(STAGE)
REGION = "us-east-1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29T10:00:00Z", datetime(2026, 11, 29, 10, tzinfo=UTC)),
        ("2026-11-29T11:00:00+01:00", datetime(2026, 11, 29, 10, tzinfo=UTC)),
        ("-2h", NOW - timedelta(hours=2)),
        ("-30m", NOW - timedelta(minutes=30)),
        ("-1d", NOW - timedelta(days=1)),
        ("now", NOW),
    ],
)
def test_parse_time_accepts_zoned_iso_and_relative(text, expected):
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["2026-11-29T10:00:00", "yesterday", "-2x", "2h", ""])
def test_parse_time_rejects_naive_and_unknown(text):
    with pytest.raises(TimeFormatError):
        parse_time(text, now=NOW)


@pytest.mark.parametrize(
    ("argv", "start", "end"),
    [
        (["--from", "-2h"], "-2h", "now"),
        (["--from", "-90m", "--to", "-30m"], "-90m", "-30m"),
        (["--from=-1d", "--to", "2026-11-29T10:00:00Z"], "-1d", "2026-11-29T10:00:00Z"),
    ],
)
def test_relative_times_parse_as_documented_without_an_equals_sign(argv, start, end):
    # argparse alone reads "-2h" as an unknown option ("--from: expected one argument")
    args = build_parser().parse_args(attach_relative_times(["replay", "--stage", "dev", *argv, "--wait"]))
    assert (args.start, args.end, args.wait) == (start, end, True)


def test_cli_main_accepts_a_relative_from(capsys):
    # The times parse, so the command gets as far as checking --event (before any AWS call)
    assert cli_main(["replay", "--stage", "dev", "--from", "-2h", "--to", "-1h", "--event", "NoSuchEvent"]) == 2
    assert "unknown --event NoSuchEvent" in capsys.readouterr().err


def test_consumers_are_read_from_rule_and_target_names():
    arns = ["arn:aws:lambda:us-east-1:123456789012:function:vidsense-nlp-dev-analyzeSentiment"]
    assert replay.consumers_of("vidsense-nlp-dev-AnalyzeSentimentRule1", arns) == {"nlp"}
    assert replay.consumers_of("some-rule", []) == frozenset()


def _rule(name, pattern, consumers):
    return replay.BusRule(name=name, arn=f"arn:{name}", pattern=pattern, consumers=frozenset(consumers))


def test_select_rules_by_consumer_and_detail_type():
    rules = [
        _rule("start", {"detail-type": ["VideoUploaded"]}, {"transcode"}),
        _rule("sentiment", {"detail-type": ["TranscriptReady"], "source": ["vidsense.transcode"]}, {"nlp"}),
        _rule("projector", {"source": ["vidsense.transcode", "vidsense.nlp"]}, {"ingest"}),
    ]
    assert [r.name for r in replay.select_rules(rules, consumers=["nlp"])] == ["sentiment"]
    assert [r.name for r in replay.select_rules(rules, detail_types=["TranscriptReady"])] == [
        "sentiment",
        "projector",
    ]
    assert [r.name for r in replay.select_rules(rules, ["ingest"], ["VideoUploaded"])] == []
    assert len(replay.select_rules(rules)) == 3


def test_progress_bar_and_fraction():
    start, end = NOW - timedelta(hours=2), NOW
    half = {
        "State": "RUNNING",
        "EventStartTime": start,
        "EventEndTime": end,
        "EventLastReplayedTime": NOW - timedelta(hours=1),
    }
    assert replay.progress_fraction(half) == pytest.approx(0.5)
    assert replay.progress_fraction({"State": "COMPLETED"}) == 1.0
    assert replay.render_bar(0.5, "RUNNING", width=10) == "[#####.....]  50.0% RUNNING"


@pytest.fixture
def bus_with_archive(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        replay_patch.install()
        events, sqs = boto3.client("events", REGION), boto3.client("sqs", REGION)
        bus_arn = events.create_event_bus(Name=NAMES.bus)["EventBusArn"]
        events.create_archive(
            ArchiveName=NAMES.archive,
            EventSourceArn=bus_arn,
            EventPattern=json.dumps({"source": [{"prefix": "vidsense."}]}),
        )
        queues = {}
        for service, detail_type in [("transcode", "VideoUploaded"), ("nlp", "TranscriptReady")]:
            url = sqs.create_queue(QueueName=f"{NAMES.service_prefix(service)}-target")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            name = f"{NAMES.service_prefix(service)}-{detail_type}-rule"
            events.put_rule(Name=name, EventBusName=NAMES.bus, EventPattern=json.dumps({"detail-type": [detail_type]}))
            events.put_targets(Rule=name, EventBusName=NAMES.bus, Targets=[{"Id": "t", "Arn": arn}])
            queues[service] = url
        yield events, sqs, queues


def _put(events, detail_type, when):
    source = "vidsense.ingest" if detail_type == "VideoUploaded" else "vidsense.transcode"
    events.put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps({"at": when.isoformat()}),
                "EventBusName": NAMES.bus,
                "Time": when,
            }
        ]
    )


def _args(**kw):
    base = {"stage": STAGE, "start": "-2h", "end": "now", "consumer": [], "event": [], "name": None, "wait": True}
    base.update(kw)
    return argparse.Namespace(**base)


def test_replay_sends_only_window_events_to_selected_rules(bus_with_archive):
    # Given events before and inside the window on two rules' detail-types
    events, sqs, queues = bus_with_archive
    now = datetime.now(UTC)
    _put(events, "VideoUploaded", now - timedelta(hours=5))
    _put(events, "VideoUploaded", now - timedelta(minutes=30))
    _put(events, "TranscriptReady", now - timedelta(minutes=20))
    for url in queues.values():
        drain(sqs, url)  # the live deliveries

    # When replaying the last 2 hours to the nlp consumer only
    out = io.StringIO()
    code = commands.run_replay(_args(consumer=["nlp"], name="fix-1"), out=out, client=lambda s: boto3.client(s, REGION))

    # Then only the in-window TranscriptReady reached nlp, marked as a replay; transcode got nothing
    assert code == 0
    nlp_events = drain(sqs, queues["nlp"])
    assert [e["detail-type"] for e in nlp_events] == ["TranscriptReady"]
    assert nlp_events[0]["replay-name"] == "fix-1"
    assert drain(sqs, queues["transcode"]) == []
    assert "COMPLETED" in out.getvalue() and "100.0%" in out.getvalue()

    # And a replay of the transcode consumer gets the in-window VideoUploaded only
    assert (
        commands.run_replay(
            _args(consumer=["transcode"], name="fix-2"), out=io.StringIO(), client=lambda s: boto3.client(s, REGION)
        )
        == 0
    )
    assert len(drain(sqs, queues["transcode"])) == 1

    listing = io.StringIO()
    assert (
        commands.run_replays(argparse.Namespace(stage=STAGE), out=listing, client=lambda s: boto3.client(s, REGION))
        == 0
    )
    assert "fix-1" in listing.getvalue() and "fix-2" in listing.getvalue()


def test_replay_usage_errors_exit_2(bus_with_archive):
    client = lambda s: boto3.client(s, REGION)  # noqa: E731
    assert commands.run_replay(_args(start="yesterday"), client=client) == 2
    assert commands.run_replay(_args(event=["NoSuchEvent"]), client=client) == 2
    assert commands.run_replay(_args(start="-1h", end="-2h"), client=client) == 2
    assert commands.run_replay(_args(consumer=["ingest"]), client=client) == 2  # no ingest rule on this bus


def test_failed_replay_exits_1():
    class FakeEvents:
        def describe_event_bus(self, Name):
            return {"Name": Name, "Arn": "arn:aws:events:us-east-1:1:event-bus/" + Name}

        def describe_archive(self, ArchiveName):
            return {"ArchiveArn": "arn:aws:events:us-east-1:1:archive/" + ArchiveName}

        def get_paginator(self, _):
            class P:
                def paginate(self, **_):
                    return [{"Rules": [{"Name": "vidsense-nlp-x", "Arn": "arn:r", "EventPattern": "{}"}]}]

            return P()

        def list_targets_by_rule(self, **_):
            return {"Targets": []}

        def start_replay(self, **_):
            return {}

        def describe_replay(self, ReplayName):
            return {"ReplayName": ReplayName, "State": "FAILED", "StateReason": "boom"}

    out = io.StringIO()
    assert commands.run_replay(_args(name="r"), out=out, client=lambda s: FakeEvents()) == 1
    assert "FAILED" in out.getvalue() and "boom" in out.getvalue()
