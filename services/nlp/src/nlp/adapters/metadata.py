"""The stage's metadata table: one item per answer (PK ``answer_id``), the latest attempt's analysis."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from nlp.domain.record import (
    AnalysisRecord,
    Failure,
    Outcome,
    StoredAnalysis,
    Verdict,
    transcript_expires_at,
    truncate_utf8,
)
from nlp.domain.scoring import LABELS, Scores, Sentiment
from vidsense_shared import dynamodb_items
from vidsense_shared.aws_errors import conditional_write

# DynamoDB's item limit is "400 KB" of attribute names plus values; 400,000 (not 409,600) stays under every
# reading of it, moto's (405,000) included.
MAX_ITEM_BYTES = 400_000
# Our size estimate is an upper bound already; the margin covers DynamoDB's own per-item overhead.
_SAFETY_BYTES = 1024
_TRANSCRIPT = "transcript"
# The table's TTL attribute (serverless.yml, TimeToLiveSpecification): DynamoDB deletes the item after it.
TTL_ATTRIBUTE = "expires_at"

# An older attempt (late retry, replay) must never overwrite a newer one. The same attempt may rewrite (a replay
# recomputes it), but only with a newer analysis: two replays racing end on the later one, as the read model does.
_NOT_OLDER = (
    "attribute_not_exists(answer_id) OR attempt < :attempt OR (attempt = :attempt AND analyzed_at <= :analyzed_at)"
)

# The publish marker belongs to one write: a replay or newer attempt stored meanwhile must not inherit it.
_SAME_WRITE = "source_event_id = :source AND analyzed_at = :analyzed_at"

# What deduplication reads back: never the transcript (up to 400 KB) itself.
_STATE_ATTRIBUTES = (
    "attempt",
    "source_event_id",
    "analyzed_at",
    "outcome",
    "Sentiment",
    "SentimentScore",
    "error_code",
    "error_message",
    "published_event_id",
)


class DynamoMetadataStore:
    def __init__(self, table_name: str, dynamodb_client: Any, *, transcript_retention_days: int | None = None) -> None:
        """``transcript_retention_days``: every saved item expires that long after its analysis (analyzeSentiment
        always sets it; eraseAnswer only deletes)."""
        self._table = table_name
        self._dynamodb = dynamodb_client
        self._retention_days = transcript_retention_days

    def save(self, record: AnalysisRecord) -> bool:
        item = to_item(record, retention_days=self._retention_days)
        return conditional_write(
            self._dynamodb.put_item,
            TableName=self._table,
            Item=dynamodb_items.to_item(item),
            ConditionExpression=_NOT_OLDER,
            ExpressionAttributeValues={
                ":attempt": {"N": str(record.answer.attempt)},
                ":analyzed_at": {"S": item["analyzed_at"]},
            },
        )

    def load(self, answer_id: str) -> StoredAnalysis | None:
        names = {f"#a{i}": name for i, name in enumerate(_STATE_ATTRIBUTES)}
        response = self._dynamodb.get_item(
            TableName=self._table,
            Key={"answer_id": {"S": answer_id}},
            ConsistentRead=True,  # a retry right after the store must see it
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        raw = response.get("Item")
        if not raw:
            return None
        return from_item(dynamodb_items.from_item(raw))

    def delete(self, answer_id: str, analyzed_before: datetime) -> bool:
        """Erasure: the answer's item goes unless it was analysed after ``analyzed_before`` (an answer recorded
        after the erasure reuses the id); False when there is nothing (more) to delete."""
        return conditional_write(
            self._dynamodb.delete_item,
            TableName=self._table,
            Key={"answer_id": {"S": answer_id}},
            ConditionExpression="attribute_exists(answer_id) AND analyzed_at <= :before",
            ExpressionAttributeValues={":before": {"S": analyzed_before.isoformat()}},
        )

    def mark_published(self, answer_id: str, source_event_id: str, analyzed_at: datetime, event_id: str) -> bool:
        return conditional_write(
            self._dynamodb.update_item,
            TableName=self._table,
            Key={"answer_id": {"S": answer_id}},
            UpdateExpression="SET published_event_id = :event_id",
            ConditionExpression=_SAME_WRITE,
            ExpressionAttributeValues={
                ":event_id": {"S": event_id},
                ":source": {"S": source_event_id},
                ":analyzed_at": {"S": analyzed_at.isoformat()},
            },
        )


def to_item(record: AnalysisRecord, *, retention_days: int | None = None) -> dict[str, Any]:
    """The item in Python types (Decimal numbers); the transcript is cut only as far as the limit needs.

    With ``retention_days`` the item carries its TTL: it holds the transcript text, which must not outlive the
    transcript objects (their lifecycle expiration has the same number of days).
    """
    answer = record.answer
    sentiment = record.sentiment
    item: dict[str, Any] = {
        "answer_id": answer.answer_id,
        # The seed's attribute names (JsonFile, transcript, Sentiment) are kept for existing readers.
        "JsonFile": answer.transcript.uri,
        "Sentiment": sentiment.label if sentiment else None,
        "SentimentScore": _score_map(record) if sentiment else None,
        "language": record.language_code,
        "comprehend_language": record.comprehend_language,
        "answer_key": answer.video_key,
        "project": answer.project,
        "step": answer.step,
        "user_key": answer.user_key,
        "attempt": answer.attempt,
        "analyzed_at": record.analyzed_at.isoformat(),
        "job_name": answer.job_name,
        "word_count": record.word_count,
        "chunk_count": record.chunk_count,
        "source_event_id": record.source_event_id,
        "outcome": record.verdict.outcome.value,
        "transcript_bytes": len(record.transcript_text.encode("utf-8")),
    }
    if record.failure is not None:
        item["error_code"] = record.failure.code
        item["error_message"] = record.failure.message
    if answer.transcript.version_id:
        item["transcript_version_id"] = answer.transcript.version_id
    if retention_days is not None:
        item[TTL_ATTRIBUTE] = transcript_expires_at(record.analyzed_at, retention_days)
    item["transcript_truncated"] = False  # counted in the budget below, set for real after
    budget = MAX_ITEM_BYTES - _SAFETY_BYTES - attribute_size(item) - len(_TRANSCRIPT)
    item[_TRANSCRIPT], item["transcript_truncated"] = truncate_utf8(record.transcript_text, budget)
    return item


def from_item(item: dict[str, Any]) -> StoredAnalysis | None:
    """The dedup state of an item; None without an attempt. An item that cannot tell its verdict (written
    by hand, or before outcomes were stored) gets ``verdict=None``, so the next delivery recomputes it."""
    attempt = item.get("attempt")
    if not isinstance(attempt, Decimal):
        return None
    source = item.get("source_event_id")
    published = item.get("published_event_id")
    return StoredAnalysis(
        attempt=int(attempt),
        source_event_id=source if isinstance(source, str) else None,
        verdict=_verdict(item),
        published_event_id=published if isinstance(published, str) else None,
    )


def _verdict(item: dict[str, Any]) -> Verdict | None:
    try:
        analyzed_at = datetime.fromisoformat(item["analyzed_at"])
        outcome = Outcome(item["outcome"])
        if analyzed_at.tzinfo is None:
            return None
        if outcome is Outcome.FAILED:
            failure = Failure(code=str(item["error_code"]), message=str(item["error_message"]))
            return Verdict(sentiment=None, failure=failure, analyzed_at=analyzed_at)
        if outcome is Outcome.NO_SPEECH:
            return Verdict(sentiment=None, failure=None, analyzed_at=analyzed_at)
        if outcome is Outcome.SENTIMENT_DETECTED and item["Sentiment"] in LABELS:
            score = item["SentimentScore"]
            scores = Scores(
                positive=float(score["Positive"]),
                negative=float(score["Negative"]),
                neutral=float(score["Neutral"]),
                mixed=float(score["Mixed"]),
            )
            return Verdict(
                sentiment=Sentiment(label=item["Sentiment"], scores=scores), failure=None, analyzed_at=analyzed_at
            )
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _score_map(record: AnalysisRecord) -> dict[str, Decimal]:
    assert record.sentiment is not None
    scores = record.sentiment.scores
    # str() first: Decimal(float) would carry the binary expansion's 50-odd digits, past DynamoDB's 38.
    return {
        "Positive": Decimal(str(scores.positive)),
        "Negative": Decimal(str(scores.negative)),
        "Neutral": Decimal(str(scores.neutral)),
        "Mixed": Decimal(str(scores.mixed)),
    }


def attribute_size(item: dict[str, Any]) -> int:
    """An upper bound of DynamoDB's size for these attributes (names plus values)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | Decimal):
        return 21  # numbers take at most 21 bytes
    if isinstance(value, dict):
        return 3 + sum(len(k.encode("utf-8")) + _value_size(v) + 1 for k, v in value.items())
    raise TypeError(f"unsupported attribute type {type(value).__name__}")
