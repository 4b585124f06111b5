"""Handlers import without settings or network, and a missing setting fails naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ingest import composition
from vidsense_shared.config import ConfigurationError


def test_handlers_import_with_an_empty_environment():
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}
    code = "import ingest.handlers.api, ingest.handlers.upload_landed, ingest.handlers.projector, ingest.openapi"
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("factory", "missing"),
    [
        (composition.answer_api, "USER_KEY_PARAMETER"),
        (composition.upload_recorder, "EVENT_BUS_NAME"),
        (composition.answer_projector, "ANSWERS_TABLE"),
    ],
)
def test_missing_setting_is_named(monkeypatch, factory, missing):
    for name, value in {
        "STAGE": "test",
        "MEDIA_BUCKET": "media-bucket",
        "ANSWERS_TABLE": "answers-table",
        "USER_KEY_PARAMETER": "/vidsense/test/user-key-secret",
        "EVENT_BUS_NAME": "bus",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    factory.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=missing):
            factory()
    finally:
        factory.cache_clear()


def test_presign_expiry_above_900_is_refused(monkeypatch):
    for name, value in {
        "STAGE": "test",
        "MEDIA_BUCKET": "media-bucket",
        "ANSWERS_TABLE": "answers-table",
        "USER_KEY_PARAMETER": "/p",
        "PRESIGN_EXPIRES_SECONDS": "901",
    }.items():
        monkeypatch.setenv(name, value)
    composition.answer_api.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="PRESIGN_EXPIRES_SECONDS"):
            composition.answer_api()
    finally:
        composition.answer_api.cache_clear()


SCRIPT = """
import copy, json, sys
sys.path.insert(0, ".")
from tests.integration.ingest.conftest import http_event, s3_event
from tests.lambda_context import FakeLambdaContext
from tests.unit.ingest.builders import delivery, transcoder_completed
from ingest.handlers import api, projector, upload_landed
context = FakeLambdaContext()
print(api.handler(http_event("/answers/bad.project/3", "GET /answers/{project}/{step}"), context)["statusCode"])
notification = s3_event("p/3/key.webm", "v1")
notification["Records"][0]["s3"]["bucket"]["name"] = "someone-elses-bucket"
print(upload_landed.handler(notification, context))
try:
    projector.handler({**delivery(transcoder_completed()), "detail-type": "Unknown"}, context)
except Exception as exc:
    print(type(exc).__name__)
"""


def test_handlers_never_log_whole_events_even_when_powertools_is_told_to():
    # Given POWERTOOLS_LOGGER_LOG_EVENT=true when the handlers are decorated (import time, so a subprocess)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(sys.path),
        "POWERTOOLS_LOGGER_LOG_EVENT": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STAGE": "test",
        "MEDIA_BUCKET": "media-bucket",
        "ANSWERS_TABLE": "answers-table",
        "USER_KEY_PARAMETER": "/vidsense/test/user-key-secret",
        "EVENT_BUS_NAME": "bus",
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=False, env=env, capture_output=True, text=True, timeout=180, cwd=root
    )
    # When each handler runs, Then it answers, and neither the token, the email nor the uploader's IP is printed
    assert result.returncode == 0, result.stderr
    assert "400" in result.stdout and "foreign_bucket" in result.stdout and "UnknownEventError" in result.stdout
    output = (result.stdout + result.stderr).lower()
    for secret in ("eyjhbgcioijsuzi1niisimtpzci6imxvy2fslteifq", "ada.lovelace@example.org", "198.51.100"):
        assert secret not in output
