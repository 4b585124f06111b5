"""Settings of the nlp functions (environment variables, validated once per process)."""

from __future__ import annotations

from pydantic import Field

from vidsense_shared.config import BaseServiceSettings


class EraseSettings(BaseServiceSettings):
    """eraseAnswer: METADATA_TABLE (plus STAGE)."""

    metadata_table: str = Field(min_length=3, max_length=255)


class AnalyzeSettings(BaseServiceSettings):
    """analyzeSentiment: METADATA_TABLE, EVENT_BUS_NAME (plus STAGE)."""

    metadata_table: str = Field(min_length=3, max_length=255)
    event_bus_name: str = Field(min_length=1, max_length=256)
