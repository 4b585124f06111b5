"""Handlers import without settings or network, and a missing setting fails naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ingest.handlers import api, projector, upload_landed
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
        (api.api_service, "USER_KEY_PARAMETER"),
        (upload_landed.upload_recorder, "EVENT_BUS_NAME"),
        (projector.answer_projector, "ANSWERS_TABLE"),
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
    api.api_service.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="PRESIGN_EXPIRES_SECONDS"):
            api.api_service()
    finally:
        api.api_service.cache_clear()
