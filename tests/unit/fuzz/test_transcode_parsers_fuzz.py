"""Property tests for the transcode service's parsers of AWS input (MediaConvert and Transcribe state changes, job
metadata, job names and keys, S3 locations): an answer or a typed error, never anything else."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from transcode.domain import mediaconvert, transcribe
from transcode.domain.job_metadata import InvalidJobMetadataError, JobMetadata
from transcode.domain.mediaconvert import JobStateChangeDetail, Skipped, relay_detail
from transcode.domain.naming import (
    InvalidS3UriError,
    parse_job_key,
    parse_s3_https_url,
    parse_s3_uri,
    parse_transcription_job_name,
)
from vidsense_shared.events import AnswerRef, S3Pointer, TranscodeFailed, TranscoderCompleted

STAGE = "dev"
USER_KEY = "ab" * 32
REF = AnswerRef(project="p1", step="3", user_key=USER_KEY, attempt=2)
METADATA = JobMetadata.for_attempt(STAGE, REF, causation_id="c0ffee").to_user_metadata()
WHEN = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
uris = st.text(max_size=60) | st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["s3", "https", "http", "S3", ""]),
    st.text(max_size=70)
    | st.sampled_from(["b", "ab", "bucket", "x" * 64, "[::1", "bucket.s3.eu-west-1.amazonaws.com"]),
    st.text(max_size=30) | st.sampled_from(["a.mp3", "dev/audio/x.MP3", "", "%zz.mp3"]),
)


def _state_change(detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": mediaconvert.DETAIL_TYPE,
        "source": mediaconvert.SOURCE,
        "account": "111122223333",
        "time": "2026-11-29T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


@given(detail=json_values | st.dictionaries(st.sampled_from(["jobId", "status", "userMetadata"]), json_values))
def test_mediaconvert_state_changes_parse_or_raise_validation_errors(detail: Any) -> None:
    with contextlib.suppress(ValidationError):
        mediaconvert.JobStateChange.model_validate_json(json.dumps(_state_change(detail)))


@given(
    status=st.sampled_from(["COMPLETE", "ERROR", "CANCELED", "PROGRESSING"]) | st.text(max_size=10),
    metadata=st.just(METADATA)
    | st.dictionaries(st.sampled_from(sorted(METADATA)) | st.text(max_size=8), st.text(max_size=70), max_size=9)
    | st.builds(lambda k, v: {**METADATA, k: v}, st.sampled_from(sorted(METADATA)), st.text(max_size=70)),
    paths=st.lists(uris, max_size=3),
    group_type=st.sampled_from(["FILE_GROUP", "HLS_GROUP"]),
    error_code=st.none() | st.integers() | st.text(max_size=10),
)
@example(status="COMPLETE", metadata=METADATA, paths=["s3://ab/a.mp3"], group_type="FILE_GROUP", error_code=None)
@example(
    status="COMPLETE",
    metadata=METADATA,
    paths=["s3://b/" + "k" * 1100 + ".mp3"],
    group_type="FILE_GROUP",
    error_code=None,
)
def test_the_relay_answers_every_state_change_with_an_event_a_skip_or_a_metadata_error(
    status: str, metadata: dict[str, str], paths: list[str], group_type: str, error_code: Any
) -> None:
    detail = JobStateChangeDetail.model_validate(
        {
            "jobId": "1700000000000-abc123",
            "status": status,
            "userMetadata": metadata,
            "errorCode": error_code,
            "outputGroupDetails": [{"type": group_type, "outputDetails": [{"outputFilePaths": paths}]}],
        }
    )
    try:
        outcome = relay_detail(detail, STAGE, WHEN)
    except InvalidJobMetadataError:
        # only a job tagged for this stage may raise (it goes to the dead-letter path)
        assert metadata.get("app") == "vidsense" and metadata.get("stage") == STAGE
        return
    assert isinstance(outcome, Skipped | TranscoderCompleted | TranscodeFailed)


@given(
    detail=json_values
    | st.dictionaries(st.sampled_from(["TranscriptionJobName", "TranscriptionJobStatus"]), json_values)
)
def test_transcribe_state_changes_parse_or_raise_validation_errors(detail: Any) -> None:
    event = {**_state_change(detail), "source": "aws.transcribe", "detail-type": "Transcribe Job State Change"}
    with contextlib.suppress(ValidationError):
        transcribe.JobStateChange.model_validate(event)


@given(metadata=st.dictionaries(st.text(max_size=12), st.text(max_size=40)) | st.just(METADATA))
def test_job_metadata_is_read_or_refused_with_its_own_error(metadata: dict[str, str]) -> None:
    with contextlib.suppress(InvalidJobMetadataError):
        JobMetadata.from_user_metadata(metadata)


names = st.text(max_size=120) | st.builds(
    lambda parts: "vidsense.dev." + ".".join(parts), st.lists(st.text(max_size=70), min_size=3, max_size=5)
)


@given(name=names)
@example(name=f"vidsense.dev.p1.3.{USER_KEY}.2")
def test_job_names_parse_to_an_attempt_or_none(name: str) -> None:
    ref = parse_transcription_job_name(STAGE, name)
    assert ref is None or isinstance(ref, AnswerRef)


@given(key=st.text(max_size=120) | st.builds(lambda a, n: f"{a}#{n}", st.text(max_size=90), st.text(max_size=6)))
@example(key=f"p1/3/{USER_KEY}#2")
def test_job_keys_parse_to_an_attempt_or_none(key: str) -> None:
    ref = parse_job_key(key)
    assert ref is None or isinstance(ref, AnswerRef)


@given(uri=uris)
def test_s3_uris_parse_to_a_pointer_or_raise_invalid_s3_uri(uri: str) -> None:
    with contextlib.suppress(InvalidS3UriError):
        assert isinstance(parse_s3_uri(uri), S3Pointer)


@given(url=uris)
def test_transcribe_output_urls_parse_to_a_pointer_or_none(url: str) -> None:
    pointer = parse_s3_https_url(url)
    assert pointer is None or isinstance(pointer, S3Pointer)
