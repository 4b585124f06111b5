"""S3TranscriptStore: which S3 errors fail the answer for good and which are left to Lambda's retries."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from nlp.adapters.transcripts import S3TranscriptStore
from nlp.domain.errors import AnalysisRejected, TranscriptMissing, TranscriptUnavailable
from vidsense_shared.events import S3Pointer

POINTER = S3Pointer(bucket="work", key="local/transcripts/p/1/u/attempt-1.json")


def _store(code: str, status: int) -> tuple[S3TranscriptStore, Stubber]:
    s3: Any = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(s3)
    stub.add_client_error("get_object", service_error_code=code, http_status_code=status)
    stub.activate()
    return S3TranscriptStore(s3), stub


@pytest.mark.parametrize(("code", "status"), [("NoSuchKey", 404), ("NoSuchVersion", 404), ("404", 404)])
def test_an_object_s3_says_does_not_exist_is_a_permanent_failure(code, status):
    store, stub = _store(code, status)
    with pytest.raises(TranscriptMissing) as raised:
        store.read(POINTER)
    assert isinstance(raised.value, AnalysisRejected)  # the analyzer turns it into SentimentFailed
    assert raised.value.code == "TranscriptMissing"
    assert POINTER.uri in raised.value.message and code in raised.value.message
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status"), [("AccessDenied", 403), ("SlowDown", 503), ("InternalError", 500), ("ServiceUnavailable", 503)]
)
def test_other_errors_are_left_to_lambdas_retries(code, status):
    store, _ = _store(code, status)
    with pytest.raises(TranscriptUnavailable, match=code) as raised:
        store.read(POINTER)
    assert not isinstance(raised.value, AnalysisRejected)
