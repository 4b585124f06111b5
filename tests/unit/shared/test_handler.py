"""The skeleton every handler shares (vidsense_shared.handler): receiving a delivery, naming metrics."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from tests.unit.ingest.builders import delivery, transcoder_completed
from vidsense_shared import observability
from vidsense_shared.consume import receive
from vidsense_shared.events import TranscoderCompleted
from vidsense_shared.handler import metric_name

REPO = Path(__file__).resolve().parents[3]
PASCAL_CASE = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]+)*")


def test_a_replayed_delivery_is_correlated_and_named_in_the_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an archive replay of a TranscoderCompleted delivery
    logged: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(observability.logger, "info", lambda msg, **kw: logged.append((msg, kw.get("extra", {}))))
    raw = delivery(transcoder_completed(), replay_name="vidsense-dev-replay-1")
    # When a handler receives it
    received = receive(raw, TranscoderCompleted)
    # Then every log line carries the answer as correlation id and the replay's name, and the replay is logged
    try:
        assert observability.logger.get_correlation_id() == received.event.metadata.correlation_id
        assert observability.logger.get_current_keys()["replay_name"] == "vidsense-dev-replay-1"
    finally:
        observability.logger.remove_keys(["replay_name"])
    assert logged == [
        ("replay", {"replay_name": "vidsense-dev-replay-1", "event_id": received.event.metadata.event_id})
    ]


def test_a_live_delivery_logs_no_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[str] = []
    monkeypatch.setattr(observability.logger, "info", lambda msg, **kw: logged.append(msg))
    received = receive(delivery(transcoder_completed()), TranscoderCompleted)
    assert not received.is_replay and logged == []


@pytest.mark.parametrize(
    ("subject", "outcome", "name"),
    [("Transcode", "started", "TranscodeStarted"), ("Attempt", "timed_out", "AttemptTimedOut")],
)
def test_an_outcome_metric_is_pascal_case(subject: str, outcome: str, name: str) -> None:
    assert metric_name(subject, outcome) == name


def test_every_literal_metric_name_of_the_handlers_is_pascal_case() -> None:
    # Given every handler module of the three services
    paths = sorted((REPO / "services").glob("*/src/*/handlers/**/*.py"))
    sources = {path: path.read_text() for path in paths}
    # Then no metric name is formatted by hand, and each literal one, or one of an OUTCOME_METRICS map, is PascalCase
    assert [str(path) for path, text in sources.items() if re.search(r"add_metric\(\s*name=f", text)] == []
    # and every other name comes from an OUTCOME_METRICS map, metric_name() or an event's DETAIL_TYPE (the event
    # counted, itself <Subject><Outcome>), never from another value such as an enum's words
    dynamic = [
        (str(path), name)
        for path, text in sources.items()
        for name in re.findall(r"add_metric\(\s*name=([^,]+),", text)
        if not name.startswith(('"', "OUTCOME_METRICS[", "metric_name(")) and not name.endswith(".DETAIL_TYPE")
    ]
    assert dynamic == []
    names = {name for text in sources.values() for name in re.findall(r'add_metric\(\s*name="([^"]*)"', text)}
    for path in paths:
        if "OUTCOME_METRICS" in sources[path]:
            module = ".".join(path.relative_to(path.parents[2]).with_suffix("").parts)
            names |= set(importlib.import_module(module).OUTCOME_METRICS.values())
    assert len(names) > 5
    assert [name for name in sorted(names) if not PASCAL_CASE.fullmatch(name)] == []
