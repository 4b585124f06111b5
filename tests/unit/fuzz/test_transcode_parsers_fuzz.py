"""Property tests for the transcode service's parsers of AWS input (MediaConvert and Transcribe state changes, job
metadata, job names and keys, S3 locations): an answer or a typed error, never anything else; and every valid
input parses to what it says (the siblings at the end), so a parser that refused everything fails here."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.eventbridge import eventbridge_delivery
from tests.unit.transcode.fixtures import load, sns_message
from transcode.domain import mediaconvert, transcribe
from transcode.domain.job_metadata import InvalidJobMetadataError, JobMetadata
from transcode.domain.mediaconvert import JobStateChangeDetail, Skipped, translate_detail
from transcode.domain.naming import (
    InvalidS3UriError,
    job_key,
    parse_job_key,
    parse_s3_https_url,
    parse_s3_uri,
    parse_transcription_job_name,
    transcription_job_name,
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


@given(detail=json_values | st.dictionaries(st.sampled_from(["jobId", "status", "userMetadata"]), json_values))
def test_mediaconvert_state_changes_parse_or_raise_validation_errors(detail: Any) -> None:
    with contextlib.suppress(ValidationError):
        mediaconvert.JobStateChange.model_validate_json(
            json.dumps(eventbridge_delivery(mediaconvert.DETAIL_TYPE, detail, source=mediaconvert.SOURCE))
        )


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
        outcome = translate_detail(detail, STAGE, WHEN)
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
    event = eventbridge_delivery("Transcribe Job State Change", detail, source="aws.transcribe")
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


# --- valid input parses -----------------------------------------------------------------------------------

refs = st.builds(
    AnswerRef,
    project=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    step=st.integers(0, 999).map(str),
    user_key=st.binary(min_size=32, max_size=32).map(bytes.hex),
    attempt=st.integers(1, 1000),
)
# S3's naming rules: 3-63 lowercase letters, digits, dots and hyphens, a letter or digit at both ends.
buckets = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True).filter(lambda b: ".." not in b)
# Keys of S3's "safe characters" (the ones vidsense's keys use): an s3:// URI carries them unescaped.
object_keys = st.from_regex(r"[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]{0,199}", fullmatch=True)
job_ids = st.from_regex(r"[0-9]{13}-[a-z0-9]{6}", fullmatch=True)


@given(job_id=job_ids, status=st.sampled_from(["COMPLETE", "ERROR", "CANCELED", "PROGRESSING", "SUBMITTED"]))
def test_every_valid_mediaconvert_state_change_parses(job_id: str, status: str) -> None:
    message = sns_message(load("sns_mediaconvert_complete.json"))
    message["detail"] |= {"jobId": job_id, "status": status}
    change = mediaconvert.JobStateChange.model_validate_json(json.dumps(message))
    assert (change.detail.job_id, change.detail.status) == (job_id, status)


@given(ref=refs, job_id=job_ids, bucket=buckets, duration=st.none() | st.integers(0, 10**8))
def test_every_completed_job_of_this_stage_is_relayed_as_transcoder_completed(
    ref: AnswerRef, job_id: str, bucket: str, duration: int | None
) -> None:
    audio = f"s3://{bucket}/{STAGE}/audio/{ref.project}/answer.mp3"
    output = {"outputFilePaths": [audio]} | ({"durationInMs": duration} if duration is not None else {})
    detail = JobStateChangeDetail.model_validate(
        {
            "jobId": job_id,
            "status": "COMPLETE",
            "userMetadata": JobMetadata.for_attempt(STAGE, ref, causation_id="c0ffee").to_user_metadata(),
            "outputGroupDetails": [{"type": "FILE_GROUP", "outputDetails": [output]}],
        }
    )
    outcome = translate_detail(detail, STAGE, WHEN)
    assert isinstance(outcome, TranscoderCompleted)
    assert outcome.data.attempt == ref.attempt and outcome.data.audio.uri == audio
    assert outcome.data.duration_ms == duration


@given(ref=refs, status=st.sampled_from(["COMPLETED", "FAILED", "IN_PROGRESS"]))
def test_every_valid_transcribe_state_change_parses(ref: AnswerRef, status: str) -> None:
    event = load("eventbridge_transcribe_completed.json")
    event["detail"] = {"TranscriptionJobName": transcription_job_name(STAGE, ref), "TranscriptionJobStatus": status}
    change = transcribe.JobStateChange.model_validate(event)
    assert change.detail.status == status
    assert parse_transcription_job_name(STAGE, change.detail.job_name) == ref


@given(ref=refs, causation=st.uuids().map(str))
def test_every_job_metadata_vidsense_writes_is_read_back(ref: AnswerRef, causation: str) -> None:
    written = JobMetadata.for_attempt(STAGE, ref, causation_id=causation)
    assert JobMetadata.from_user_metadata(written.to_user_metadata()) == written


@given(ref=refs)
def test_every_job_name_and_key_vidsense_makes_parses_back_to_its_attempt(ref: AnswerRef) -> None:
    assert parse_transcription_job_name(STAGE, transcription_job_name(STAGE, ref)) == ref
    assert parse_job_key(job_key(ref)) == ref


@given(bucket=buckets, key=object_keys)
def test_every_s3_uri_and_transcribe_url_of_a_valid_object_parses_to_it(bucket: str, key: str) -> None:
    assert parse_s3_uri(f"s3://{bucket}/{key}") == S3Pointer(bucket=bucket, key=key)
    quoted = quote(key)
    for url in (
        f"https://s3.eu-west-1.amazonaws.com/{bucket}/{quoted}",
        f"https://{bucket}.s3.eu-west-1.amazonaws.com/{quoted}",
    ):
        assert parse_s3_https_url(url) == S3Pointer(bucket=bucket, key=key), url
