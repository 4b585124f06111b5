"""MediaConvert Job State Change -> TranscoderCompleted / TranscodeFailed / skipped (pure domain)."""

from __future__ import annotations

import copy

import pytest

from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    AUDIO_KEY,
    MEDIACONVERT_JOB_ID,
    STAGE,
    VIDEO_UPLOADED_EVENT_ID,
    WORK_BUCKET,
    load,
    sns_message,
)
from transcode.domain.job_metadata import InvalidJobMetadataError
from transcode.domain.mediaconvert import JobStateChange, Skipped, translate
from vidsense_shared.events import TranscodeFailed, TranscoderCompleted, derived_event_id


def _change(fixture: str) -> dict:
    return sns_message(load(fixture))


def _relay(message: dict):
    return translate(JobStateChange.model_validate(message), STAGE)


def test_complete_becomes_transcoder_completed_with_the_mp3_pointer_and_duration():
    # Given the COMPLETE event of this stage's job, When it is relayed
    outcome = _relay(_change("sns_mediaconvert_complete.json"))
    # Then it is a TranscoderCompleted for the attempt in the user metadata
    assert isinstance(outcome, TranscoderCompleted)
    assert outcome.data.audio.bucket == WORK_BUCKET
    assert outcome.data.audio.key == AUDIO_KEY
    assert outcome.data.duration_ms == 48213
    assert outcome.data.job_id == MEDIACONVERT_JOB_ID
    assert (outcome.data.project, outcome.data.step, outcome.data.attempt) == ("acme-onboarding", "2", 1)
    assert outcome.metadata.correlation_id == ANSWER_ID
    assert outcome.metadata.causation_id == VIDEO_UPLOADED_EVENT_ID
    assert outcome.metadata.event_id == derived_event_id(
        f"mediaconvert:{MEDIACONVERT_JOB_ID}:COMPLETE", "TranscoderCompleted"
    )
    assert outcome.metadata.occurred_at.isoformat() == "2026-11-29T01:12:40+00:00"


def test_the_audio_output_is_found_by_group_and_extension_whatever_the_order():
    # Given a job with an HLS group and a frame capture listed before the MP3
    message = _change("sns_mediaconvert_complete_multi_output.json")
    reordered = copy.deepcopy(message)
    groups = reordered["detail"]["outputGroupDetails"]
    groups.reverse()
    for group in groups:
        group["outputDetails"].reverse()
    # When both orders are relayed, Then both pick the same MP3 in the FILE_GROUP
    first, second = _relay(message), _relay(reordered)
    assert isinstance(first, TranscoderCompleted)
    assert isinstance(second, TranscoderCompleted)
    assert first.data.audio.key == second.data.audio.key == AUDIO_KEY
    assert first.data.duration_ms == second.data.duration_ms == 48213


def test_an_mp3_outside_a_file_group_is_not_the_rendition():
    message = _change("sns_mediaconvert_complete.json")
    message["detail"]["outputGroupDetails"][0]["type"] = "HLS_GROUP"
    outcome = _relay(message)
    assert isinstance(outcome, TranscodeFailed)
    assert outcome.data.error_code == "NO_AUDIO_OUTPUT"


def test_error_becomes_transcode_failed_with_mediaconvert_code_and_message():
    outcome = _relay(_change("sns_mediaconvert_error.json"))
    assert isinstance(outcome, TranscodeFailed)
    assert outcome.data.error_code == "1010"
    assert outcome.data.error_message.startswith("Unable to open input file")
    assert outcome.data.job_id == MEDIACONVERT_JOB_ID
    assert outcome.metadata.causation_id == VIDEO_UPLOADED_EVENT_ID
    assert outcome.metadata.event_id == derived_event_id(f"mediaconvert:{MEDIACONVERT_JOB_ID}:ERROR", "TranscodeFailed")


def test_canceled_becomes_transcode_failed_with_code_canceled():
    outcome = _relay(_change("sns_mediaconvert_canceled.json"))
    assert isinstance(outcome, TranscodeFailed)
    assert outcome.data.error_code == "CANCELED"
    assert MEDIACONVERT_JOB_ID in outcome.data.error_message


@pytest.mark.parametrize("status", ["PROGRESSING", "INPUT_INFORMATION", "STATUS_UPDATE", "SUBMITTED", "NEW_WARNING"])
def test_intermediate_statuses_are_ignored(status):
    message = _change("sns_mediaconvert_progressing.json")
    message["detail"]["status"] = status
    assert isinstance(_relay(message), Skipped)


def test_another_stages_job_is_skipped_even_when_complete():
    outcome = _relay(_change("sns_mediaconvert_complete_other_stage.json"))
    assert isinstance(outcome, Skipped)
    assert "stage" in outcome.reason


def test_a_job_without_vidsense_metadata_is_skipped():
    message = _change("sns_mediaconvert_complete.json")
    message["detail"]["userMetadata"] = {}
    assert isinstance(_relay(message), Skipped)


def test_this_stages_job_with_broken_metadata_raises_so_the_event_is_kept():
    message = _change("sns_mediaconvert_complete.json")
    message["detail"]["userMetadata"]["attempt"] = "first"
    with pytest.raises(InvalidJobMetadataError):
        _relay(message)


def test_the_same_state_change_relayed_twice_yields_the_same_event_id():
    message = _change("sns_mediaconvert_error.json")
    assert _relay(message).metadata.event_id == _relay(copy.deepcopy(message)).metadata.event_id  # type: ignore[union-attr]
