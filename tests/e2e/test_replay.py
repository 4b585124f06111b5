"""Archive replay on the local stack, through the operator CLI: several answers processed, their whole window
replayed (twice), then the same records, the same jobs, recomputed sentiment under the same derived ids, and
every replayed delivery carrying ``replay-name``. Also ``--consumer nlp`` reaching nlp only, and ``status``.

The archive holds the events of every test that ran before on the shared stack: the windows cover this
module's own uploads only, and the assertions are about its own answers.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vidsense_local.demo import StackEndpoints

from .support import (
    LOCAL,
    LogLine,
    at,
    iso,
    items_of,
    mediaconvert_jobs,
    poll,
    replay_lines,
    submit,
    transcription_jobs,
    vidsense,
)

pytestmark = pytest.mark.e2e

SAMPLES = ("positive.webm", "negative.webm", "neutral.webm")
PIPELINE_TIMEOUT = 300.0
SETTLE_TIMEOUT = 120.0
# What a recomputed sentiment may change in an answer item; everything else must stay as it was.
RECOMPUTED_ANSWER_FIELDS = {"analyzed_at", "status_at", "updated_at", "trail", "revision", "sentiment_score"}


# --- the answers and their snapshot -------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    answers: dict[str, dict[str, Any]]
    jobs: dict[str, dict[str, Any]]
    metadata: dict[str, dict[str, Any]]
    mediaconvert: list[str]
    transcribe: list[str]


def snapshot(stack: StackEndpoints, project: str) -> Snapshot:
    return Snapshot(
        answers=items_of(stack, "answers", project),
        jobs=items_of(stack, "jobs", project),
        metadata=items_of(stack, "metadata", project),
        mediaconvert=mediaconvert_jobs(stack, project),
        transcribe=transcription_jobs(stack, project),
    )


@dataclass(frozen=True)
class Processed:
    project: str
    start: datetime
    end: datetime
    emails: dict[str, str]  # answer_id -> email
    before: Snapshot


@pytest.fixture(scope="module")
def processed(stack: StackEndpoints) -> Processed:
    """Three spoken answers uploaded at once and waited for; the window spans exactly their pipeline runs."""
    project = f"e2e-rp-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC) - timedelta(seconds=2)
    runs = [submit(stack, project, "1", file) for file in SAMPLES]
    # Waited for in the tables, not through the API: three pollers would each want a warm API function.
    before = poll(
        lambda: _complete(_none_failed(snapshot(stack, project))),
        PIPELINE_TIMEOUT,
        "the answers analysed",
        interval=2.0,
    )
    end = datetime.now(UTC) + timedelta(seconds=1)
    return Processed(project, start, end, {r.answer_id: r.client.email for r in runs}, before)


def _none_failed(snap: Snapshot) -> Snapshot:
    """The snapshot, or the fixture fails at once naming the failed answers: a FAILED answer never gets analysed."""
    failed = [
        f"{answer_id}: {item.get('error')} ({item.get('content_type')}, {item.get('size_bytes')} B)"
        for answer_id, item in snap.answers.items()
        if item["status"] == "FAILED"
    ]
    if failed:
        pytest.fail("answers failed before analysis:\n" + "\n".join(failed))
    return snap


def _complete(snap: Snapshot) -> Snapshot | None:
    """The snapshot once every answer is analysed and announced in the read model and the metadata table."""
    if len(snap.answers) != len(SAMPLES) or len(snap.metadata) != len(SAMPLES):
        return None
    for answer_id, item in snap.answers.items():
        meta = snap.metadata[answer_id]
        if item["status"] != "ANALYZED" or not meta.get("published_event_id"):
            return None
        # The read model keeps the newest announced analysis; the metadata item may hold an earlier one of two
        # analyses that ran at once (a replay delivering a TranscriptReady the archive holds twice).
        if item.get("analyzed_at") is None or at(item["analyzed_at"]) < at(meta["analyzed_at"]):
            return None
    return snap


def _replay(stack: StackEndpoints, run: Processed, *extra: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    window = ("--from", iso(run.start), "--to", iso(run.end))
    return name, vidsense(stack, "replay", "--stage", "local", *window, "--name", name, "--wait", *extra)


def _sentiment_entries(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in item["trail"].items() if v["detail_type"] == "SentimentDetected"}


def _recomputed_after(stack: StackEndpoints, run: Processed, previous: Snapshot) -> Snapshot:
    """Wait until every answer's sentiment was recomputed and projected; status never leaves ANALYZED."""

    def check() -> Snapshot | None:
        snap = snapshot(stack, run.project)
        for answer_id, item in snap.answers.items():
            # Sampled on every poll: a replayed TranscoderCompleted/TranscriptReady must not move it back.
            assert item["status"] == "ANALYZED", (answer_id, item["status"])
        done = _complete(snap)
        if done is None:
            return None
        fresh = all(
            at(done.metadata[a]["analyzed_at"]) > at(previous.metadata[a]["analyzed_at"])
            and at(done.answers[a]["analyzed_at"]) > at(previous.answers[a]["analyzed_at"])
            for a in previous.metadata
        )
        return done if fresh else None

    return poll(check, SETTLE_TIMEOUT, "recomputed sentiment of every answer")


def _handled_by_transcode(stack: StackEndpoints, run: Processed, name: str) -> list[LogLine]:
    """Wait until both transcode starters logged their outcome for each answer's replayed event."""

    def check() -> list[LogLine] | None:
        lines = [
            line
            for line in replay_lines(stack, name)
            if line.record.get("message") in {"start transcode", "start transcription"}
            and line.record.get("correlation_id") in run.emails
        ]
        return lines if len(lines) >= 2 * len(run.emails) else None

    return poll(check, SETTLE_TIMEOUT, f"transcode handling of replay {name}")


@pytest.fixture(scope="module")
def replayed(stack: StackEndpoints, processed: Processed) -> dict[str, Any]:
    """The whole window replayed twice to every rule, each time waited for until its effects settled."""
    rounds: list[dict[str, Any]] = []
    previous = processed.before
    for _ in range(2):
        name, result = _replay(stack, processed)
        after = _recomputed_after(stack, processed, previous)
        transcode = _handled_by_transcode(stack, processed, name)
        rounds.append({"name": name, "result": result, "after": after, "transcode": transcode})
        previous = after
    # Anything a wrongly started job would produce has had the time the whole pipeline took.
    return {"rounds": rounds, "final": snapshot(stack, processed.project)}


def test_replay_command_completes(replayed):
    for round_ in replayed["rounds"]:
        result = round_["result"]
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"replay {round_['name']}: COMPLETED" in result.stdout
        assert "100.0% COMPLETED" in result.stdout


def test_replay_keeps_the_same_records_and_jobs(processed, replayed):
    before, after = processed.before, replayed["final"]
    for table in ("answers", "jobs", "metadata"):
        assert sorted(getattr(after, table)) == sorted(getattr(before, table)), table
        assert len(getattr(after, table)) == len(SAMPLES), table
    # No second MediaConvert or Transcribe job, and the jobs table untouched.
    assert after.mediaconvert == before.mediaconvert and len(before.mediaconvert) == len(SAMPLES)
    assert after.transcribe == before.transcribe and len(before.transcribe) == len(SAMPLES)
    assert after.jobs == before.jobs
    for line in (line for r in replayed["rounds"] for line in r["transcode"]):
        assert line.record.get("outcome") == "already_started", line.record


def test_replay_recomputes_sentiment_under_the_same_ids(processed, replayed):
    before = processed.before
    first, second = (r["after"] for r in replayed["rounds"])
    for answer_id, meta in before.metadata.items():
        for later in (first, second):
            again = later.metadata[answer_id]
            # Recomputed (a newer analysis), from the same TranscriptReady, announced under the same derived id.
            assert again["source_event_id"] == meta["source_event_id"]
            assert again["published_event_id"] == meta["published_event_id"]
            assert again["Sentiment"] == meta["Sentiment"]
        times = [at(snap.metadata[answer_id]["analyzed_at"]) for snap in (before, first, second)]
        assert times == sorted(set(times)), times


def test_read_model_reflects_the_recomputed_sentiment(processed, replayed):
    before = processed.before
    for later in (r["after"] for r in replayed["rounds"]):
        for answer_id, item in later.answers.items():
            old = before.answers[answer_id]
            assert item["status"] == "ANALYZED" and item["sentiment"] == old["sentiment"]
            assert at(item["analyzed_at"]) >= at(later.metadata[answer_id]["analyzed_at"]) > at(old["analyzed_at"])
            # One trail entry per event id: the SentimentDetected entry is the same id, with the newer time.
            assert set(item["trail"]) == set(old["trail"])
            [(old_id, old_entry)] = _sentiment_entries(old).items()
            [(new_id, new_entry)] = _sentiment_entries(item).items()
            assert new_id == old_id == later.metadata[answer_id]["published_event_id"]
            assert at(new_entry["occurred_at"]) > at(old_entry["occurred_at"])
            unchanged = {k: v for k, v in item.items() if k not in RECOMPUTED_ANSWER_FIELDS}
            assert unchanged == {k: v for k, v in old.items() if k not in RECOMPUTED_ANSWER_FIELDS}


def test_every_replayed_delivery_carries_the_replay_name(stack, processed, replayed):
    for round_ in replayed["rounds"]:
        lines = [line for line in replay_lines(stack, round_["name"]) if line.record.get("correlation_id")]
        mine = {line.record["correlation_id"] for line in lines} & set(processed.emails)
        assert mine == set(processed.emails)
        functions = {line.function.rsplit("-", 1)[-1] for line in lines}
        assert {"startTranscode", "startTranscription", "analyzeSentiment", "projectAnswers"} <= functions
        reanalysed = [line for line in lines if line.record.get("message") == "transcript reanalyzed for a replay"]
        assert {line.record["correlation_id"] for line in reanalysed} >= set(processed.emails)


def test_replays_command_lists_them(stack, replayed):
    result = vidsense(stack, "replays", "--stage", "local")
    assert result.returncode == 0, result.stderr
    for round_ in replayed["rounds"]:
        assert any(line.split()[:2] == [round_["name"], "COMPLETED"] for line in result.stdout.splitlines()), (
            result.stdout
        )


def test_replay_to_one_consumer_reaches_only_that_consumer(stack, processed, replayed):
    previous = replayed["final"]
    name, result = _replay(stack, processed, "--consumer", "nlp")
    assert result.returncode == 0, result.stdout + result.stderr
    # The summary names the rules replayed to: nlp's only (analyze-sentiment and any other nlp rule).
    [rules] = [line.split(None, 1)[1].split(", ") for line in result.stdout.splitlines() if "  rules " in line]
    assert f"{LOCAL.service_prefix('nlp')}-analyze-sentiment" in rules
    assert all(rule.startswith(f"{LOCAL.service_prefix('nlp')}-") for rule in rules), rules
    _recomputed_after(stack, processed, previous)
    lines = replay_lines(stack, name)
    assert {line.function for line in lines} == {LOCAL.function("nlp", "analyzeSentiment")}
    reanalysed = {line.record.get("correlation_id") for line in lines}
    assert set(processed.emails) <= reanalysed
    after = snapshot(stack, processed.project)
    assert after.jobs == previous.jobs and after.mediaconvert == previous.mediaconvert


def test_replay_usage_errors_exit_2(stack):
    bad_time = vidsense(stack, "replay", "--stage", "local", "--from", "2026-11-29T10:00:00", "--to", "now")
    assert bad_time.returncode == 2 and "no time zone" in bad_time.stderr
    bad_event = vidsense(stack, "replay", "--stage", "local", "--from", "-1h", "--event", "NoSuchEvent")
    assert bad_event.returncode == 2 and "unknown --event" in bad_event.stderr


def test_status_prints_state_and_trail(stack, processed, replayed):
    answer_id, email = next(iter(processed.emails.items()))
    project, step, _ = answer_id.split("/")
    result = vidsense(stack, "status", "--stage", "local", project, step, email)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"answer    {answer_id}" in result.stdout
    assert "status    ANALYZED (attempt 1)" in result.stdout
    item = replayed["final"].answers[answer_id]
    assert f"sentiment {item['sentiment']}" in result.stdout
    trail = result.stdout.split("trail:", 1)[1].splitlines()[1:]
    kinds = [line.split()[1] for line in trail]
    assert kinds == ["VideoUploaded", "TranscoderCompleted", "TranscriptReady", "SentimentDetected"], result.stdout
    for event_id in item["trail"]:
        assert event_id in result.stdout
    unknown = vidsense(stack, "status", "--stage", "local", project, step, "nobody@example.com")
    assert unknown.returncode == 1 and "no answer" in unknown.stdout
