"""One settings model per function (docs/architecture.md, "Settings")."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from typing import Self

from pydantic import Field, model_validator

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
    # What was published per attempt is recorded here, so a redelivered notification publishes nothing.
    jobs_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)


class StartTranscriptionSettings(BaseServiceSettings):
    work_bucket: str = Field(min_length=3)
    transcribe_language: str = Field(default="en-US", pattern=r"^[a-z]{2,3}-[A-Z]{2}$")
    # Jobs beyond Transcribe's concurrent-job quota wait QUEUED (deferred execution), which needs a role
    # Transcribe assumes to read the audio and write the transcript.
    transcribe_data_access_role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+")
    # The TranscoderCompleted event id is recorded here: the causation id of TranscriptReady.
    jobs_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)


class TranscriptionCompletedSettings(BaseServiceSettings):
    work_bucket: str = Field(min_length=3)
    jobs_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)


class EraseSettings(BaseServiceSettings):
    # AnswerDeleted: the answer's audio and transcripts, job items and Transcribe jobs go.
    work_bucket: str = Field(min_length=3)
    jobs_table: str = Field(min_length=3)


class ReconcileSettings(BaseServiceSettings):
    jobs_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)
    work_bucket: str = Field(min_length=3)
    # An attempt whose step began longer ago than this is asked about; the schedule runs every 5 minutes.
    # Asking early costs one Get*Job call per open attempt and run, so short values (a test stage) are safe.
    stuck_after_seconds: int = Field(default=900, ge=10)
    # A step still unfinished (or whose job is gone) after this long fails the answer with reason "timeout".
    # It bounds the wait of a deferred Transcribe job too: set it above the longest expected queueing.
    give_up_after_seconds: int = Field(default=3600, ge=60)
    mediaconvert_endpoint: str | None = None

    @model_validator(mode="after")
    def _give_up_after_stuck(self) -> Self:
        if self.give_up_after_seconds < self.stuck_after_seconds:
            raise ValueError("GIVE_UP_AFTER_SECONDS must not be shorter than STUCK_AFTER_SECONDS")
        return self
