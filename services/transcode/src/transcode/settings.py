"""One settings model per function (docs/architecture.md, "Settings")."""

from __future__ import annotations

from pydantic import Field

from vidsense_shared.config import BaseServiceSettings


class StartTranscodeSettings(BaseServiceSettings):
    jobs_table: str = Field(min_length=3)
    work_bucket: str = Field(min_length=3)
    mediaconvert_role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+")
    mediaconvert_endpoint: str | None = None
    mediaconvert_queue_arn: str | None = None
    # Only for accounts that still need DescribeEndpoints; the regional endpoint is the default.
    mediaconvert_discover_endpoint: bool = False
    event_bus_name: str = Field(min_length=1)


class RelaySettings(BaseServiceSettings):
    event_bus_name: str = Field(min_length=1)


class StartTranscriptionSettings(BaseServiceSettings):
    work_bucket: str = Field(min_length=3)
    transcribe_language: str = Field(default="en-US", pattern=r"^[a-z]{2,3}-[A-Z]{2}$")
    # The TranscoderCompleted event id is recorded here: the causation id of TranscriptReady.
    jobs_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)


class TranscriptionCompletedSettings(BaseServiceSettings):
    work_bucket: str = Field(min_length=3)
    jobs_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)
