"""What the API returns: the caller's answer, reviewers' step listings, presigned uploads, and paging."""

# Annotations evaluated as written, no `from __future__ import annotations`: pydantic would compile each field's
# annotation string when the models are declared, in every cold start (docs/performance.md, Lambda cold init).

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.domain.answers import AnswerRecord, Status
from ingest.domain.errors import InvalidParameterError, TranscriptUnavailableError
from ingest.domain.keys import USER_KEY_PATTERN
from vidsense_shared.events import SentimentLabel, SentimentScore
from vidsense_shared.transcripts import TranscriptFormatError, parse_transcribe_output

MAX_PAGE = 100
DEFAULT_PAGE = 25
# The by_step GSI's LastEvaluatedKey: table key plus index key, all strings.
_CURSOR_FIELDS = frozenset({"answer_id", "project_step", "user_key"})
_USER_KEY = re.compile(USER_KEY_PATTERN)


class _View(BaseModel):
    # Built on first use: each route answers with one or two of them (docs/performance.md, Lambda cold init).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class UploadForm(_View):
    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str] = Field(description="Form fields to send before the file field")


class PresignedUpload(_View):
    key: str = Field(description="Object key of the video: {project}/{step}/{user_key}.webm")
    expires_in: int = Field(le=900, description="Seconds the upload form stays valid")
    upload: UploadForm


class AnswerView(_View):
    status: Status
    transcript: str | None = Field(description="Full transcript text, once transcribed")
    sentiment: SentimentLabel | None
    sentiment_score: SentimentScore | None
    error: str | None = Field(description="'<error_code>: <message>' when status is FAILED")
    updated_at: datetime


class AnswerSummary(_View):
    user_key: str
    status: Status
    sentiment: SentimentLabel | None
    sentiment_score: SentimentScore | None
    updated_at: datetime
    attempt: int
    transcript: str | None = Field(
        default=None,
        description="Full transcript text, once transcribed; null before that, while the answer is being deleted, "
        "or when the transcript object is gone (expired or failed)",
    )


class AnswerPage(_View):
    items: list[AnswerSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class ErrorBody(_View):
    message: str


class LimitBody(ErrorBody):
    """A 429: the message, and the limit that was reached."""

    limit: int = Field(description="New recordings one person may start per window")
    window: str = Field(description="The rolling window the limit counts in", examples=["24h"])


class DeletedAnswer(_View):
    """The answer whose erasure was accepted: the video and read model are gone, other services follow."""

    answer_id: str = Field(description="{project}/{step}/{user_key}")
    project: str
    step: str
    user_key: str
    attempt: int = Field(description="The highest attempt erased")
    status: Literal["DELETED"] = "DELETED"


def answer_view(record: AnswerRecord, transcript_text: str | None) -> AnswerView:
    # An answer being erased shows only that: its results are on their way out.
    erasing = record.status is Status.DELETING
    return AnswerView(
        status=record.status,
        transcript=None if erasing else transcript_text,
        sentiment=None if erasing else record.sentiment,
        sentiment_score=None if erasing else record.sentiment_score,
        error=None if erasing else record.error,
        updated_at=record.updated_at,
    )


def answer_summary(record: AnswerRecord, transcript_text: str | None = None) -> AnswerSummary:
    erasing = record.status is Status.DELETING
    return AnswerSummary(
        user_key=record.user_key,
        status=record.status,
        sentiment=None if erasing else record.sentiment,
        sentiment_score=None if erasing else record.sentiment_score,
        updated_at=record.updated_at,
        attempt=record.attempt,
        transcript=None if erasing else transcript_text,
    )


def deleted_answer(record: AnswerRecord) -> DeletedAnswer:
    return DeletedAnswer(
        answer_id=record.answer_id,
        project=record.project,
        step=record.step,
        user_key=record.user_key,
        attempt=record.attempt,
    )


def transcript_text(document: Any) -> str:
    """``results.transcripts[0].transcript`` of an Amazon Transcribe output document (empty when none is listed)."""
    try:
        return parse_transcribe_output(document).text
    except TranscriptFormatError as exc:
        raise TranscriptUnavailableError(f"the transcript object is not a Transcribe result: {exc}") from exc


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidParameterError("limit", f"must be between 1 and {MAX_PAGE}")
    return limit


def encode_cursor(last_key: Mapping[str, str]) -> str:
    raw = json.dumps(dict(last_key), sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, project_step: str) -> dict[str, str]:
    """The start key a cursor stands for; only cursors of this step are accepted."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterError("cursor", "is not a cursor this API returned") from exc
    if (
        not isinstance(value, dict)
        or set(value) != _CURSOR_FIELDS
        or not all(isinstance(v, str) for v in value.values())
        or value["project_step"] != project_step
        # a crafted cursor must not reach DynamoDB as a start key it refuses (an empty or odd user key)
        or not _USER_KEY.fullmatch(value["user_key"])
        or value["answer_id"] != f"{project_step}/{value['user_key']}"
    ):
        raise InvalidParameterError("cursor", "is not a cursor this API returned for this step")
    return {str(k): str(v) for k, v in value.items()}
