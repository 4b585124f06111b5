"""GetJob / GetTranscriptionJob as the reconciler reads them (Stubber checks both against the models)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from tests.unit.transcode.fixtures import JOB_NAME, MEDIACONVERT_JOB_ID, load
from transcode.adapters.mediaconvert import MediaConvertJobs
from transcode.adapters.transcribe import TranscribeJobs
from transcode.domain.mediaconvert import find_audio_output


def _client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _job(status: str, outputs: list[dict]) -> dict:
    return {
        "Job": {
            "Id": MEDIACONVERT_JOB_ID,
            "Status": status,
            "Role": "arn:aws:iam::123456789012:role/r",
            "UserMetadata": {"app": "vidsense"},
            "Settings": {
                "OutputGroups": [
                    {"OutputGroupSettings": {"Type": "HLS_GROUP_SETTINGS"}, "Outputs": [{"Extension": "m3u8"}]},
                    {
                        "OutputGroupSettings": {
                            "Type": "FILE_GROUP_SETTINGS",
                            "FileGroupSettings": {"Destination": "s3://work/dev/audio/x/answer"},
                        },
                        "Outputs": outputs,
                    },
                ]
            },
            "OutputGroupDetails": [
                {"OutputDetails": [{"DurationInMs": 1}]},
                {"OutputDetails": [{"DurationInMs": 48213}]},
            ],
            "Timing": {"FinishTime": datetime(2026, 11, 29, 1, 12, 40, tzinfo=UTC)},
        }
    }


def test_a_complete_job_names_its_files_as_mediaconvert_does():
    client = _client("mediaconvert")
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_job", _job("COMPLETE", [{"Extension": "mp3", "NameModifier": "-64k"}]), {"Id": MEDIACONVERT_JOB_ID}
        )
        job = MediaConvertJobs(client).find(MEDIACONVERT_JOB_ID)
    assert job is not None and job.finished_at == datetime(2026, 11, 29, 1, 12, 40, tzinfo=UTC)
    audio = find_audio_output(job.detail)
    assert audio is not None
    # the FILE_GROUP's own duration, not the other group's
    assert (audio.pointer.uri, audio.duration_ms) == ("s3://work/dev/audio/x/answer-64k.mp3", 48213)


def test_an_unfinished_job_reports_no_files_and_a_missing_one_is_none():
    client = _client("mediaconvert")
    with Stubber(client) as stubber:
        stubber.add_response("get_job", _job("PROGRESSING", [{"Extension": "mp3"}]))
        stubber.add_client_error("get_job", service_error_code="NotFoundException", http_status_code=404)
        stubber.add_client_error("get_job", service_error_code="TooManyRequestsException", http_status_code=429)
        jobs = MediaConvertJobs(client)
        running = jobs.find(MEDIACONVERT_JOB_ID)
        assert running is not None and running.detail.status == "PROGRESSING"
        assert running.detail.output_group_details == []
        assert jobs.find(MEDIACONVERT_JOB_ID) is None
        with pytest.raises(Exception, match="TooManyRequests"):
            jobs.find(MEDIACONVERT_JOB_ID)


def test_transcribe_find_reads_the_completion_time_and_treats_unknown_names_as_absent():
    client = _client("transcribe")
    with Stubber(client) as stubber:
        response = load("get_transcription_job_completed.json")
        # botocore hands timestamps to the caller as datetimes
        response["TranscriptionJob"]["CompletionTime"] = datetime(2026, 11, 29, 1, 13, 29, 664000, tzinfo=UTC)
        stubber.add_response("get_transcription_job", response)
        stubber.add_client_error(
            "get_transcription_job", service_error_code="BadRequestException", http_status_code=400
        )
        stubber.add_client_error(
            "get_transcription_job", service_error_code="LimitExceededException", http_status_code=400
        )
        jobs = TranscribeJobs(client)
        found = jobs.find(JOB_NAME)
        assert found is not None and found.completed_at == datetime(2026, 11, 29, 1, 13, 29, 664000, tzinfo=UTC)
        assert jobs.find(JOB_NAME) is None
        with pytest.raises(Exception, match="LimitExceeded"):
            jobs.find(JOB_NAME)
