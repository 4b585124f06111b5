"""Settings of the nlp functions (environment variables, validated once per process)."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from pydantic import Field

from vidsense_shared.config import BaseServiceSettings


class EraseSettings(BaseServiceSettings):
    """eraseAnswer: METADATA_TABLE (plus STAGE)."""

    metadata_table: str = Field(min_length=3, max_length=255)


class AnalyzeSettings(BaseServiceSettings):
    """analyzeSentiment: METADATA_TABLE, EVENT_BUS_NAME, TRANSCRIPT_RETENTION_DAYS (plus STAGE)."""

    metadata_table: str = Field(min_length=3, max_length=255)
    event_bus_name: str = Field(min_length=1, max_length=256)
    # Days the transcript text stays in the metadata table after the analysis: the stage parameter
    # transcriptExpirationDays, which also expires the transcript objects. No default: without it the text of an
    # erased or expired transcript would be kept for good.
    transcript_retention_days: int = Field(ge=1, le=36500)
