"""Fuzzing the two parsers that read outside input: Transcribe's output and the TranscriptReady delivery.

Whatever arrives, they either return a value or raise the service's typed errors (TranscriptMalformed; for a
delivery pydantic's ValidationError or UnexpectedEventError, both ValueErrors), never a
KeyError, TypeError, IndexError, UnicodeError or OverflowError; and every valid input parses to what it says
(the siblings at the end), so a parser that refused everything fails here. Example counts come from the suite's
profile.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from nlp.domain.errors import TranscriptMalformed
from nlp.domain.transcript import parse_transcript
from vidsense_shared.consume import UnexpectedEventError, parse_delivery
from vidsense_shared.events import TranscriptReady

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"
DELIVERY_ERRORS = (ValidationError, UnexpectedEventError)

# Text with everything JSON can carry, lone surrogates included (json.dumps writes them as \ud800 escapes).
any_text = st.text(st.characters(exclude_categories=()), max_size=30)
offsets = st.integers(-23 * 60, 23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))  # as ISO writes
# Dates at the calendar's edges, with offsets: what a UTC conversion can overflow on.
timestamps = (
    st.datetimes(max_value=datetime(1, 1, 2), timezones=offsets)
    | st.datetimes(min_value=datetime(9999, 12, 30), timezones=offsets)
    | st.datetimes(timezones=offsets)
    | st.datetimes()
).map(datetime.isoformat)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | any_text
    | timestamps
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=12
)


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a JSON document (the root included)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutants(draw: st.DrawFn, document: Any) -> Any:
    """The document with one location replaced by arbitrary JSON, or removed: it gets past the outer checks."""
    path = draw(st.sampled_from(_paths(document)))
    if not path:
        return draw(json_values)
    mutant = copy.deepcopy(document)
    parent = mutant
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.integers(0, 3)) == 0:
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(_like(parent[path[-1]]) | json_values)
    return mutant


def _like(original: Any) -> st.SearchStrategy[Any]:
    """Values of the original's kind, so a mutant gets past the type check to the value checks."""
    if isinstance(original, str):
        try:
            datetime.fromisoformat(original.replace("Z", "+00:00"))
        except ValueError:
            return any_text
        return timestamps
    if isinstance(original, int):
        return st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    return json_values


def _encodings(value: Any) -> st.SearchStrategy[bytes]:
    text = json.dumps(value)  # ASCII with \u escapes; NaN and Infinity as JavaScript writes them
    return st.sampled_from([text.encode(), json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")])


def _transcript_or_malformed(raw: bytes) -> None:
    try:
        transcript = parse_transcript(raw)
    except TranscriptMalformed as rejected:
        assert rejected.code == "TranscriptMalformed"
        return
    transcript.text.encode("utf-8")  # what the parser returns can go to Comprehend and DynamoDB
    assert transcript.word_count >= 0


def _delivery_or_typed_error(raw: Any) -> None:
    try:
        delivery = parse_delivery(raw, TranscriptReady)
    except DELIVERY_ERRORS:
        return
    assert delivery.event.metadata.occurred_at.tzinfo == UTC
    assert delivery.event.data.answer_id  # the handler's next step


@given(st.binary(max_size=300))
@example(b"[" * 100_000)  # nesting past any parser's recursion limit
@example(b'{"jobName": "j", "results": {"transcripts": [{"transcript": "\\ud800"}]}}')
@example(b"\xef\xbb\xbf{}")  # a UTF-8 byte order mark
def test_transcript_parser_on_arbitrary_bytes(raw: bytes):
    _transcript_or_malformed(raw)


@given(json_values.flatmap(_encodings))
def test_transcript_parser_on_arbitrary_json(raw: bytes):
    _transcript_or_malformed(raw)


@given(mutants(_fixture("transcript-en-US.json")).flatmap(_encodings))
def test_transcript_parser_on_a_damaged_transcribe_output(raw: bytes):
    _transcript_or_malformed(raw)


@given(json_values)
def test_delivery_parser_on_arbitrary_json(raw: Any):
    _delivery_or_typed_error(raw)


@given(st.binary(max_size=200) | any_text)
def test_delivery_parser_on_arbitrary_bytes_and_strings(raw: bytes | str):
    _delivery_or_typed_error(raw)


@given(mutants(_fixture("eventbridge-transcript-ready-en-US.json")))
@example({**_fixture("eventbridge-transcript-ready-en-US.json"), "replay-name": 7})
def test_delivery_parser_on_a_damaged_delivery(raw: Any):
    _delivery_or_typed_error(raw)


@given(st.sampled_from([("detail", "metadata", "occurred_at"), ("time",)]), timestamps | any_text)
def test_delivery_parser_on_any_timestamp(path: tuple[str, ...], value: str):
    raw = _fixture("eventbridge-transcript-ready-en-US.json")
    parent = raw
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    _delivery_or_typed_error(raw)


def test_date_overflowing_utc_is_a_typed_error():
    # Found by the fuzzer: the shared model's UTC conversion overflows before year 1
    raw = _fixture("eventbridge-transcript-ready-en-US.json")
    raw["detail"]["metadata"]["occurred_at"] = "0001-01-01T00:00:00+01:00"
    # (fixed in the shared model: the overflow is now a validation error naming the field)
    try:
        parse_delivery(raw, TranscriptReady)
    except ValidationError as error:
        assert "occurred_at is out of range once converted to UTC" in str(error)
    else:
        raise AssertionError("a date before year 1 in UTC was accepted")


# --- valid input parses -----------------------------------------------------------------------------------

# Unicode text as Transcribe writes it (any character but lone surrogates, which UTF-8 cannot carry).
spoken = st.text(st.characters(codec="utf-8"), max_size=200)
words = st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=12), max_size=20)


@given(text=spoken, pronounced=words, punctuation=st.integers(0, 5), ascii_only=st.booleans())
def test_every_transcribe_output_parses_to_its_text_and_word_count(
    text: str, pronounced: list[str], punctuation: int, ascii_only: bool
):
    document = _fixture("transcript-en-US.json")
    document["results"]["transcripts"][0]["transcript"] = text
    document["results"]["items"] = [
        *({"type": "pronunciation", "alternatives": [{"content": w, "confidence": "0.9"}]} for w in pronounced),
        *({"type": "punctuation", "alternatives": [{"content": "."}]} for _ in range(punctuation)),
    ]
    transcript = parse_transcript(json.dumps(document, ensure_ascii=ascii_only).encode())
    assert (transcript.text, transcript.word_count) == (text, len(pronounced))
    assert transcript.job_name == document["jobName"]


@given(
    project=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    step=st.integers(0, 999).map(str),
    attempt=st.integers(1, 1000),
    occurred_at=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=offsets),
    replay_name=st.none() | st.text(min_size=1, max_size=64),
)
def test_every_valid_delivery_parses_to_its_event(
    project: str, step: str, attempt: int, occurred_at: datetime, replay_name: str | None
):
    raw = _fixture("eventbridge-transcript-ready-en-US.json")
    raw["detail"]["data"] |= {"project": project, "step": step, "attempt": attempt}
    raw["detail"]["metadata"]["occurred_at"] = occurred_at.isoformat()
    if replay_name:
        raw["replay-name"] = replay_name
    delivery = parse_delivery(raw, TranscriptReady)
    data = delivery.event.data
    assert (data.project, data.step, data.attempt) == (project, step, attempt)
    assert delivery.event.metadata.occurred_at == occurred_at
    assert delivery.replay_name == replay_name
