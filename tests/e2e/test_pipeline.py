"""End to end on the local stack: presign -> upload -> transcode -> speech to text -> sentiment -> read model."""

from __future__ import annotations

import time
from typing import Any

import pytest

from vidsense_local.demo import ApiClient, answer_item, trail_of
from vidsense_local.engines.wer import word_error_rate

from .support import LOCAL, PIPELINE_TIMEOUT, Submitted, aws_resource, email, new_project, poll, submit

pytestmark = pytest.mark.e2e

EXISTS_BODY = "The resource you requested does already exist"
TRAIL = ("VideoUploaded", "TranscoderCompleted", "TranscriptReady", "SentimentDetected")
# The read model is eventually consistent: the projector may store SentimentDetected (the answer is ANALYZED)
# before an earlier event whose delivery waited for a cold start or a retry. The trail completes soon after.
TRAIL_SETTLE_SECONDS = 60.0


@pytest.fixture(scope="module")
def analysed(stack, manifest) -> dict[str, dict[str, Any]]:
    """The four sentiment samples, uploaded one after the other by four people, processed at once, waited for."""
    samples = [f for f in manifest["files"] if f["kind"] == "speech" and f["file"] != "benchmark-10s.webm"]
    assert {s["expected_label"] for s in samples} == {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    project = new_project()
    runs = {s["file"]: {"run": submit(stack, project, "1", s["file"]), "sample": s} for s in samples}
    # The pipeline works on all four at once; waiting for them one after the other keeps the polling to one
    # request at a time (four pollers would keep four API workers busy on a 2-core machine).
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    for entry in runs.values():
        entry["answer"] = entry["run"].wait_final(max(1.0, deadline - time.monotonic()))
    return runs


@pytest.mark.parametrize("file", ["positive.webm", "negative.webm", "neutral.webm", "mixed.webm"])
def test_spoken_answer_gets_transcript_and_expected_sentiment(analysed, file):
    run = analysed[file]
    answer, sample = run["answer"], run["sample"]
    assert answer["status"] == "ANALYZED", answer
    wer = word_error_rate(sample["text"], answer["transcript"])
    assert wer <= 0.15, f"WER {wer:.0%}: {answer['transcript']!r} vs {sample['text']!r}"
    assert answer["sentiment"] == sample["expected_label"]
    scores = answer["sentiment_score"]
    assert set(scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert abs(sum(scores.values()) - 1) < 0.01
    assert max(scores, key=scores.get).upper() == sample["expected_label"]
    assert answer["error"] is None


def test_each_result_is_stored_with_its_event_trail(stack, analysed):
    metadata = aws_resource(stack, "dynamodb").Table(LOCAL.metadata_table)
    for entry in analysed.values():
        run: Submitted = entry["run"]

        def complete_trail(run: Submitted = run) -> dict[str, Any]:
            item = answer_item(stack, run.answer_id)
            kinds = [e["detail_type"] for e in trail_of(item)]
            assert all(kind in kinds for kind in TRAIL), f"{run.answer_id}: trail {kinds}"
            return item

        item = poll(complete_trail, TRAIL_SETTLE_SECONDS, "the answer's event trail")
        assert item["status"] == "ANALYZED" and item["sentiment"] == entry["answer"]["sentiment"]
        result = metadata.get_item(Key={"answer_id": run.answer_id}, ConsistentRead=True).get("Item")
        assert result is not None and result["Sentiment"] == entry["answer"]["sentiment"]


def test_answer_that_exists_cannot_be_uploaded_again(analysed):
    run: Submitted = analysed["positive.webm"]["run"]
    again = run.client.presign(run.project, run.step)
    assert again.status_code == 403
    assert again.headers["Content-Type"].startswith("text/plain")
    assert again.text == EXISTS_BODY


def test_reviewers_list_every_answer_of_the_step(stack, analysed):
    run: Submitted = next(iter(analysed.values()))["run"]
    path = f"/projects/{run.project}/steps/1/answers"
    reviewer = ApiClient(stack, email(), groups=["reviewers"])
    listing = reviewer.get(path)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert len(items) == 4 and {i["sentiment"] for i in items} == {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert ApiClient(stack, email()).get(path).status_code == 403


def test_corrupt_video_ends_failed_with_a_reason_and_a_failure_event(stack):
    run = submit(stack, new_project(), "2", "corrupt.webm")
    started = time.monotonic()
    answer = run.wait_final()
    assert answer["status"] == "FAILED"
    assert answer["error"], answer
    assert answer["transcript"] is None and answer["sentiment"] is None
    kinds = [entry["detail_type"] for entry in trail_of(answer_item(stack, run.answer_id))]
    assert "TranscodeFailed" in kinds, kinds
    assert time.monotonic() - started < PIPELINE_TIMEOUT
    # After a FAILED answer the person may record again.
    assert run.client.presign(run.project, run.step).status_code == 200


def test_silent_video_ends_without_speech(stack):
    run = submit(stack, new_project(), "3", "silent.webm")
    answer = run.wait_final()
    assert answer["status"] in {"NO_SPEECH", "FAILED"}, answer
    assert answer["sentiment"] is None
