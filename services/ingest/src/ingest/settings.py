"""Settings of the ingest functions: one model per function, field names are the env vars lowercased."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

from pydantic import Field

from vidsense_shared.config import BaseServiceSettings

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_PRESIGN_SECONDS = 900
DEFAULT_MAX_ANSWERS_PER_USER_PER_DAY = 50
# A person's window holds one entry per counted recording in a single item: this keeps it far below 400 KB.
MAX_ANSWERS_PER_USER_PER_DAY = 1000


class ApiSettings(BaseServiceSettings):
    media_bucket: str = Field(min_length=3)
    answers_table: str = Field(min_length=3)
    user_key_parameter: str = Field(min_length=1)
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    presign_expires_seconds: int = Field(default=MAX_PRESIGN_SECONDS, gt=0, le=MAX_PRESIGN_SECONDS)
    reviewer_group: str = Field(default="reviewers", min_length=1)
    # DELETE /answers announces AnswerDeleted here.
    event_bus_name: str = Field(min_length=1)
    # How long the user-key secret stays cached in a warm container before SSM is asked again.
    user_key_cache_seconds: int = Field(default=300, ge=0)
    # New recordings one person may start in a rolling 24 h (stage parameter maxAnswersPerUserPerDay).
    max_answers_per_user_per_day: int = Field(
        default=DEFAULT_MAX_ANSWERS_PER_USER_PER_DAY, ge=1, le=MAX_ANSWERS_PER_USER_PER_DAY
    )


class UploadLandedSettings(BaseServiceSettings):
    media_bucket: str = Field(min_length=3)
    answers_table: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)


class ProjectorSettings(BaseServiceSettings):
    answers_table: str = Field(min_length=3)
