"""Splitting transcripts for Comprehend: byte limits, sentence boundaries, no broken characters."""

# Full-width CJK punctuation and curly quotes are the data under test here, not typos.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.domain.chunking import MAX_CHUNK_BYTES, batches, split_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlp"
_WHITESPACE = re.compile(r"\s+")

# Characters that make chunking hard: 1-4 byte code points, sentence marks of both scripts, combining
# accents, emoji with skin tones and joiners, several kinds of whitespace.
_TRICKY = [
    "a", "b", "Z", "é", "ß", "ñ", "日", "本", "语", "한", "😊", "👍", "\U0001f3fd", "\u200d", "\u0301",
    "\ufe0f", ".", "!", "?", "。", "！", "？", "”", " ", " ", " ", "\n", "\t", "\u3000",
]  # fmt: skip


def _squeeze(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _assert_valid_chunks(text: str, chunks: list[str], max_bytes: int) -> None:
    encoded = text.encode("utf-8")
    position = 0
    for chunk in chunks:
        assert chunk, "empty chunk"
        assert chunk == chunk.strip(), "chunk keeps surrounding whitespace"
        assert len(chunk.encode("utf-8")) <= max_bytes
        # Each chunk is the original text, in order, starting and ending on UTF-8 character boundaries.
        start = text.index(chunk, position)
        position = start + len(chunk)
        byte_start = len(text[:start].encode("utf-8"))
        byte_end = byte_start + len(chunk.encode("utf-8"))
        for offset in (byte_start, byte_end):
            assert offset == len(encoded) or (encoded[offset] & 0xC0) != 0x80, "cut inside a character"
    assert _squeeze("".join(chunks)) == _squeeze(text)


@given(text=st.text(alphabet=st.sampled_from(_TRICKY), max_size=600), max_bytes=st.integers(4, 120))
def test_chunks_respect_the_limit_and_preserve_the_text(text, max_bytes):
    # Given any mix of scripts, marks and whitespace, When split, Then every chunk is valid and nothing is lost
    _assert_valid_chunks(text, split_text(text, max_bytes), max_bytes)


@given(text=st.text(max_size=400), max_bytes=st.integers(4, 64))
def test_arbitrary_unicode_is_never_split_inside_a_character(text, max_bytes):
    _assert_valid_chunks(text, split_text(text, max_bytes), max_bytes)


@given(
    sentences=st.lists(
        st.text(alphabet=st.sampled_from([*_TRICKY[:14], " "]), min_size=1, max_size=900), min_size=1, max_size=40
    )
)
def test_default_limit_on_long_texts(sentences):
    text = ". ".join(sentences)
    _assert_valid_chunks(text, split_text(text), MAX_CHUNK_BYTES)


def test_short_text_is_one_stripped_chunk():
    assert split_text("  I liked it.  ") == ["I liked it."]


def test_blank_text_has_no_chunks():
    assert split_text(" \n\t\u3000") == []


def test_chunks_end_at_sentence_boundaries_when_sentences_fit():
    # Given 3 sentences of 40 bytes with a 100-byte limit
    sentences = ["I enjoyed the first week of work here.", "The team is kind!", "Was it long? Yes."]
    text = " ".join(sentences * 4)
    # When split
    chunks = split_text(text, 100)
    # Then each chunk is whole sentences: no sentence is cut
    assert all(chunk.endswith((".", "!", "?")) for chunk in chunks)
    assert all(len(chunk.encode()) <= 100 for chunk in chunks)
    assert " ".join(chunks) == text


def test_cjk_sentences_split_after_full_width_marks_without_spaces():
    text = "私はこのプロジェクトが好きです。" * 3 + "本当ですか？" + "はい！"
    chunks = split_text(text, 60)
    assert chunks[0] == "私はこのプロジェクトが好きです。"  # 48 bytes; two would be 96
    assert all(chunk[-1] in "。？！" for chunk in chunks)
    assert "".join(chunks) == text


def test_decimal_points_and_domains_are_not_sentence_ends():
    text = "Version 3.5 of vidsense.io shipped. It works."
    assert split_text(text, 38) == ["Version 3.5 of vidsense.io shipped.", "It works."]


def test_overlong_sentence_falls_back_to_word_boundaries():
    # Given one sentence without terminators longer than the limit
    words = [f"word{n}" for n in range(100)]
    text = " ".join(words)
    # When split at 50 bytes, Then chunks are whole words
    chunks = split_text(text, 50)
    assert len(chunks) > 1
    assert all(set(chunk.split()) <= set(words) for chunk in chunks)
    assert " ".join(chunks) == text


def test_overlong_word_falls_back_to_characters_without_splitting_them():
    # Given a CJK run with no spaces or marks: 300 characters of 3 bytes
    text = "日本語" * 100
    chunks = split_text(text, 100)
    # Then each chunk holds as many whole characters as fit (33 x 3 bytes)
    assert [len(chunk) for chunk in chunks] == [33] * 9 + [3]
    assert "".join(chunks) == text


def test_combining_marks_and_emoji_modifiers_stay_with_their_character():
    text = "e\u0301" * 30 + "👍\U0001f3fd" * 10
    chunks = split_text(text, 10)
    for chunk in chunks:
        assert chunk[0] not in "\u0301\U0001f3fd", f"chunk starts with a detached mark: {chunk!r}"
    assert "".join(chunks) == text


def test_limit_below_one_character_is_refused():
    with pytest.raises(ValueError, match="4 bytes"):
        split_text("abc", 3)


def test_multibyte_fixture_is_split_for_the_batch_path():
    # Given the 20 KB mixed-script transcript fixture
    output = json.loads((FIXTURES / "transcript-multibyte-20kb.json").read_text(encoding="utf-8"))
    text = output["results"]["transcripts"][0]["transcript"]
    assert len(text.encode()) > 20_000
    # When split at Comprehend's limit
    chunks = split_text(text)
    # Then it needs several documents, all valid, and the run-on sentence was cut between words
    assert 5 <= len(chunks) <= 25
    _assert_valid_chunks(text, chunks, MAX_CHUNK_BYTES)
    assert any(not chunk.endswith((".", "!", "?", "。", "！", "？")) for chunk in chunks)


def test_batches_hold_at_most_25():
    items = [str(n) for n in range(60)]
    groups = list(batches(items))
    assert [len(g) for g in groups] == [25, 25, 10]
    assert [x for g in groups for x in g] == items
