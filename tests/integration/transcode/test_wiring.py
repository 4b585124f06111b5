"""Settings and endpoint wiring of the transcode functions."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from transcode import composition
from transcode.adapters.mediaconvert import MediaConvertTranscoder, resolve_endpoint
from transcode.adapters.transcribe import TranscribeJobs
from vidsense_shared.config import ConfigurationError


def test_the_configured_mediaconvert_endpoint_is_used(env, monkeypatch):
    monkeypatch.setenv("MEDIACONVERT_ENDPOINT", "https://abcd1234.mediaconvert.us-east-1.amazonaws.com")
    transcoder = composition.transcode_starter().transcoder
    assert isinstance(transcoder, MediaConvertTranscoder)
    assert transcoder._client.meta.endpoint_url == "https://abcd1234.mediaconvert.us-east-1.amazonaws.com"


def test_without_configuration_the_clients_default_endpoint_is_used(env, monkeypatch):
    # boto3's own configuration decides (AWS_ENDPOINT_URL points every client at the local stack)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    transcoder = composition.transcode_starter().transcoder
    assert isinstance(transcoder, MediaConvertTranscoder)
    assert transcoder._client.meta.endpoint_url == "http://127.0.0.1:4566"


def test_discovery_asks_describe_endpoints_only_when_configured():
    client = boto3.client("mediaconvert", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_endpoints",
            {"Endpoints": [{"Url": "https://q1w2e3r4.mediaconvert.us-east-1.amazonaws.com"}]},
            {"Mode": "DEFAULT"},
        )
        assert resolve_endpoint(None, True, lambda _: client) == "https://q1w2e3r4.mediaconvert.us-east-1.amazonaws.com"
        # configured wins, and no discovery means the client's default (no call: the Stubber has none queued)
        assert resolve_endpoint("https://given.example", True, lambda _: client) == "https://given.example"
        assert resolve_endpoint(None, False, lambda _: client) is None


def test_a_missing_setting_fails_with_its_name(env, monkeypatch):
    monkeypatch.delenv("MEDIACONVERT_ROLE_ARN")
    with pytest.raises(ConfigurationError, match="MEDIACONVERT_ROLE_ARN"):
        composition.transcode_starter()


def test_transcribe_language_defaults_to_en_us_and_is_validated(env, monkeypatch):
    assert composition.transcription_starter().language_code == "en-US"
    composition.transcription_starter.cache_clear()
    monkeypatch.setenv("TRANSCRIBE_LANGUAGE", "english")
    with pytest.raises(ConfigurationError, match="TRANSCRIBE_LANGUAGE"):
        composition.transcription_starter()


def test_reconcile_settings_default_and_refuse_a_give_up_before_stuck(env, monkeypatch):
    policy = composition.reconciler().policy
    assert (policy.stuck_after, policy.give_up_after) == (timedelta(seconds=900), timedelta(seconds=3600))
    composition.reconciler.cache_clear()
    monkeypatch.setenv("GIVE_UP_AFTER_SECONDS", "600")
    with pytest.raises(ConfigurationError, match="GIVE_UP_AFTER_SECONDS"):
        composition.reconciler()


def test_transcription_starts_are_deferred_with_the_data_access_role_and_reads_need_none(env, monkeypatch):
    starts = composition.transcription_starter().transcriber
    assert isinstance(starts, TranscribeJobs)
    assert starts._data_access_role_arn == env["TRANSCRIBE_DATA_ACCESS_ROLE_ARN"]
    readers = (
        composition.transcription_completer().transcriber,
        composition.reconciler().transcriber,
        composition.answer_eraser().transcriptions,
    )
    for reads in readers:
        assert isinstance(reads, TranscribeJobs)
        assert reads._data_access_role_arn is None
    composition.transcription_starter.cache_clear()
    monkeypatch.setenv("TRANSCRIBE_DATA_ACCESS_ROLE_ARN", "transcribe-role")
    with pytest.raises(ConfigurationError, match="TRANSCRIBE_DATA_ACCESS_ROLE_ARN"):
        composition.transcription_starter()


def test_a_test_stage_may_ask_about_stuck_attempts_after_seconds(env, monkeypatch):
    monkeypatch.setenv("STUCK_AFTER_SECONDS", "30")
    monkeypatch.setenv("GIVE_UP_AFTER_SECONDS", "1800")
    policy = composition.reconciler().policy
    assert (policy.stuck_after, policy.give_up_after) == (timedelta(seconds=30), timedelta(seconds=1800))
    composition.reconciler.cache_clear()
    monkeypatch.setenv("STUCK_AFTER_SECONDS", "5")
    with pytest.raises(ConfigurationError, match="STUCK_AFTER_SECONDS"):
        composition.reconciler()
