"""analyzeSentiment's configuration: read on first use, missing variables named."""

from __future__ import annotations

import pytest

from nlp import composition
from nlp.settings import AnalyzeSettings
from vidsense_shared.config import ConfigurationError, load_settings


@pytest.fixture(autouse=True)
def _fresh_caches():
    composition.analyzer.cache_clear()
    yield
    composition.analyzer.cache_clear()


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("METADATA_TABLE", "vidsense-dev-metadata")
    monkeypatch.setenv("EVENT_BUS_NAME", "vidsense-dev-bus")
    monkeypatch.setenv("TRANSCRIPT_RETENTION_DAYS", "90")
    settings = load_settings(AnalyzeSettings)
    assert (settings.stage, settings.metadata_table, settings.event_bus_name, settings.transcript_retention_days) == (
        "dev",
        "vidsense-dev-metadata",
        "vidsense-dev-bus",
        90,
    )


@pytest.mark.parametrize("value", [None, "0", "forever"])
def test_the_transcript_retention_is_required_and_a_number_of_days(monkeypatch, value):
    # Without it the transcript text of the metadata table would never expire
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("METADATA_TABLE", "vidsense-dev-metadata")
    monkeypatch.setenv("EVENT_BUS_NAME", "vidsense-dev-bus")
    if value is None:
        monkeypatch.delenv("TRANSCRIPT_RETENTION_DAYS", raising=False)
    else:
        monkeypatch.setenv("TRANSCRIPT_RETENTION_DAYS", value)
    with pytest.raises(ConfigurationError, match="TRANSCRIPT_RETENTION_DAYS"):
        composition.analyzer()


def test_missing_table_is_named_when_the_handler_wires_itself(monkeypatch):
    # Given a function deployed without METADATA_TABLE (importing the handler needed nothing)
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("EVENT_BUS_NAME", "vidsense-dev-bus")
    monkeypatch.delenv("METADATA_TABLE", raising=False)
    # When the handler builds its adapters, Then the error names the variable
    with pytest.raises(ConfigurationError, match="METADATA_TABLE"):
        composition.analyzer()
