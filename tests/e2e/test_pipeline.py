"""End to end on the local stack: presign -> upload -> transcode -> speech to text -> sentiment -> read model."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from typing import Any

import boto3
import pytest

from vidsense_local.demo import ApiClient, StackEndpoints, answer_id_from_key, answer_item, trail_of
from vidsense_local.engines.wer import word_error_rate

from .conftest import MEDIA

pytestmark = pytest.mark.e2e

EXISTS_BODY = "The resource you requested does already exist"
PIPELINE_TIMEOUT = 150.0


def _email() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}@example.com"


def _submit(stack: StackEndpoints, project: str, step: str, file: str) -> dict[str, Any]:
    client = ApiClient(stack, _email())
    presigned = client.presign(project, step)
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    upload = client.upload(body, (MEDIA / file).read_bytes())
    assert upload.status_code < 300, upload.text
    return {"client": client, "key": body["key"], "project": project, "step": step, "file": file}


@pytest.fixture(scope="module")
def analysed(stack, manifest) -> dict[str, dict[str, Any]]:
    """The four sentiment samples, uploaded at once by four people, each waited for until final."""
    samples = [f for f in manifest["files"] if f["kind"] == "speech" and f["file"] != "benchmark-10s.webm"]
    assert {s["expected_label"] for s in samples} == {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    project = f"e2e-{uuid.uuid4().hex[:6]}"
    runs = {s["file"]: _submit(stack, project, "1", s["file"]) | {"sample": s} for s in samples}
    with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
        finals = dict(
            zip(
                runs,
                pool.map(lambda r: r["client"].wait_final(r["project"], r["step"], PIPELINE_TIMEOUT), runs.values()),
                strict=True,
            )
        )
    for file, answer in finals.items():
        runs[file]["answer"] = answer
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
    dynamodb: Any = boto3.resource("dynamodb", endpoint_url=stack.aws_url, region_name="us-east-1")
    metadata = dynamodb.Table("vidsense-local-metadata")
    for run in analysed.values():
        answer_id = answer_id_from_key(run["key"])
        item = answer_item(stack, answer_id)
        assert item["status"] == "ANALYZED" and item["sentiment"] == run["answer"]["sentiment"]
        kinds = [entry["detail_type"] for entry in trail_of(item)]
        for expected in ("VideoUploaded", "TranscoderCompleted", "TranscriptReady", "SentimentDetected"):
            assert expected in kinds, kinds
        result = metadata.get_item(Key={"answer_id": answer_id}).get("Item")
        assert result is not None and result["Sentiment"] == run["answer"]["sentiment"]


def test_answer_that_exists_cannot_be_uploaded_again(analysed):
    run = analysed["positive.webm"]
    again = run["client"].presign(run["project"], run["step"])
    assert again.status_code == 403
    assert again.headers["Content-Type"].startswith("text/plain")
    assert again.text == EXISTS_BODY


def test_reviewers_list_every_answer_of_the_step(stack, analysed):
    run = next(iter(analysed.values()))
    path = f"/projects/{run['project']}/steps/1/answers"
    reviewer = ApiClient(stack, _email(), groups=["reviewers"])
    listing = reviewer.get(path)
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert len(items) == 4 and {i["sentiment"] for i in items} == {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}
    assert ApiClient(stack, _email()).get(path).status_code == 403


def test_corrupt_video_ends_failed_with_a_reason_and_a_failure_event(stack):
    run = _submit(stack, f"e2e-{uuid.uuid4().hex[:6]}", "2", "corrupt.webm")
    started = time.monotonic()
    answer = run["client"].wait_final(run["project"], run["step"], PIPELINE_TIMEOUT)
    assert answer["status"] == "FAILED"
    assert answer["error"], answer
    assert answer["transcript"] is None and answer["sentiment"] is None
    kinds = [entry["detail_type"] for entry in trail_of(answer_item(stack, answer_id_from_key(run["key"])))]
    assert "TranscodeFailed" in kinds, kinds
    assert time.monotonic() - started < PIPELINE_TIMEOUT
    # After a FAILED answer the person may record again.
    assert run["client"].presign(run["project"], run["step"]).status_code == 200


def test_silent_video_ends_without_speech(stack):
    run = _submit(stack, f"e2e-{uuid.uuid4().hex[:6]}", "3", "silent.webm")
    answer = run["client"].wait_final(run["project"], run["step"], PIPELINE_TIMEOUT)
    assert answer["status"] in {"NO_SPEECH", "FAILED"}, answer
    assert answer["sentiment"] is None
