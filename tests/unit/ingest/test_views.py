"""Paging cursors, limits and the transcript claim check."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.domain.errors import InvalidParameterError, TranscriptUnavailableError
from ingest.domain.views import check_limit, decode_cursor, encode_cursor, transcript_text

from .builders import USER_KEY, fixture

PS = "onboarding-2026/3"


def _key(user_key: str = USER_KEY, ps: str = PS) -> dict[str, str]:
    return {"answer_id": f"{ps}/{user_key}", "project_step": ps, "user_key": user_key}


@given(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_cursor_round_trips_and_is_url_safe(user_key):
    cursor = encode_cursor(_key(user_key))
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor, PS) == _key(user_key)


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 !",
        "%%%",
        _b64("a string"),
        _b64([1, 2]),
        _b64({"answer_id": f"{PS}/{USER_KEY}", "project_step": PS}),  # missing field
        _b64({**_key(), "extra": "x"}),
        _b64({**_key(), "user_key": 7}),
        encode_cursor(_key(ps="other/3")),  # another step's cursor
        _b64({**_key(), "answer_id": f"other/3/{USER_KEY}"}),
    ],
)
def test_foreign_or_broken_cursors_are_a_400_on_cursor(cursor):
    with pytest.raises(InvalidParameterError) as raised:
        decode_cursor(cursor, PS)
    assert raised.value.parameter == "cursor"


@pytest.mark.parametrize(("limit", "expected"), [(None, 25), (1, 1), (100, 100)])
def test_limits(limit, expected):
    assert check_limit(limit) == expected


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_limits_out_of_range(limit):
    with pytest.raises(InvalidParameterError, match=r"^invalid limit: "):
        check_limit(limit)


def test_transcript_text_is_the_first_transcript_of_a_transcribe_result():
    text = transcript_text(fixture("transcribe_output.json"))
    assert text.startswith("I really enjoyed the first week.")
    assert text.endswith("out of date.")


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"results": {}},
        {"results": {"transcripts": [{"x": 1}]}},
        {"results": {"transcripts": [{"transcript": None}]}},
        [],
        "text",
    ],
)
def test_documents_that_are_not_transcribe_results(document):
    # Given a document without results.transcripts[0].transcript as a string, Then it is refused
    with pytest.raises(TranscriptUnavailableError):
        transcript_text(document)


def test_a_result_without_transcripts_is_empty_text():
    assert transcript_text({"results": {"transcripts": [], "items": []}}) == ""
