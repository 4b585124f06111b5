"""Transcribe media formats and state-change parsing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser import parse

from tests.unit.transcode.fixtures import JOB_NAME, load
from transcode.domain.transcribe import MEDIA_FORMATS, JobStateChange, media_format


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("dev/audio/p/1/u/attempt-1/answer.mp3", "mp3"),
        ("a/b/answer.MP3", "mp3"),
        ("clip.mp4", "mp4"),
        ("clip.wav", "wav"),
        ("clip.flac", "flac"),
        ("clip.ogg", "ogg"),
        ("clip.amr", "amr"),
        ("clip.webm", "webm"),
        ("clip.m4a", "m4a"),
        ("clip.aac", None),
        ("clip.mp3.part", None),
        ("no-extension", None),
        ("dir.mp3/file", None),
    ],
)
def test_media_format_comes_from_the_extension(key, expected):
    assert media_format(key) == expected


def test_media_formats_are_exactly_transcribes():
    client = boto3.client("transcribe", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    shape: Any = client.meta.service_model.operation_model("StartTranscriptionJob").input_shape
    assert sorted(MEDIA_FORMATS.values()) == sorted(shape.members["MediaFormat"].enum)


def test_the_documented_state_change_event_parses():
    change = parse(event=load("eventbridge_transcribe_failed.json"), model=JobStateChange)
    assert change.source == "aws.transcribe"
    assert change.detail_type == "Transcribe Job State Change"
    assert (change.detail.job_name, change.detail.status) == (JOB_NAME, "FAILED")
