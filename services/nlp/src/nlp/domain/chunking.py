"""Splitting a transcript into pieces Comprehend accepts (at most 5,000 UTF-8 bytes each).

Chunks are cut at sentence ends (. ! ? followed by whitespace, and the CJK full stop,
exclamation and question marks U+3002, U+FF01, U+FF1F); a sentence longer than the
limit is cut between words, and a word longer than the limit between characters (never inside a code point,
and not between a character and the combining mark, variation selector or joiner that belongs to it).
Chunks are stripped of surrounding whitespace, so joining them restores the text up to whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate

MAX_CHUNK_BYTES = 5000  # Comprehend's DetectSentiment / BatchDetectSentiment per-document limit
MAX_BATCH_SIZE = 25  # BatchDetectSentiment documents per call

# A sentence ends after . ! ? (with any closing quotes/brackets) when whitespace or the end follows, so
# "3.5" or "vidsense.io" stay whole; CJK full stops end a sentence even without a following space.
_CLOSERS = "\"'\u201d\u2019)\\]"  # closing quotes and brackets stay with their sentence
_CJK_CLOSERS = "\u300d\u300f\u201d\u2019\uff09"
_SENTENCE_END = re.compile(f"[.!?]+[{_CLOSERS}]*(?=\\s|$)|[\u3002\uff01\uff1f]+[{_CJK_CLOSERS}]*")
_WORD = re.compile(r"\S+")

type Span = tuple[int, int]


class _Text:
    """The text with a byte-offset table, so the UTF-8 size of any span is one subtraction."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Byte offset of every character boundary; map/accumulate keep the per-character work in C.
        self._offsets: Sequence[int] = (
            range(len(text) + 1) if text.isascii() else list(accumulate(map(len, map(str.encode, text)), initial=0))
        )

    def size(self, start: int, end: int) -> int:
        return self._offsets[end] - self._offsets[start]

    def strip(self, start: int, end: int) -> Span:
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end


def split_text(text: str, max_bytes: int = MAX_CHUNK_BYTES) -> list[str]:
    """Non-empty chunks of at most ``max_bytes`` UTF-8 bytes, in order; [] for blank text."""
    if max_bytes < 4:  # one code point can take 4 bytes
        raise ValueError("max_bytes must allow at least one character (4 bytes)")
    indexed = _Text(text)
    spans = _pack(indexed, _sentences(indexed, 0, len(text)), max_bytes, _split_sentence)
    return [text[start:end] for start, end in spans]


def batches[T](items: Sequence[T], size: int = MAX_BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sentences(indexed: _Text, start: int, end: int) -> list[Span]:
    return _cut_after(start, end, (m.end() for m in _SENTENCE_END.finditer(indexed.text, start, end)))


def _words(indexed: _Text, start: int, end: int) -> list[Span]:
    return _cut_after(start, end, (m.end() for m in _WORD.finditer(indexed.text, start, end)))


def _cut_after(start: int, end: int, cuts: Iterator[int]) -> list[Span]:
    """Spans covering [start, end) exactly, cut at each position in ``cuts``."""
    spans = []
    for cut in cuts:
        if cut > start:
            spans.append((start, cut))
            start = cut
    if start < end:
        spans.append((start, end))
    return spans


def _pack(
    indexed: _Text,
    units: list[Span],
    max_bytes: int,
    split_unit: Callable[[_Text, int, int, int], list[Span]],
) -> list[Span]:
    """Greedily join consecutive units into spans of at most ``max_bytes``; split oversized units finer."""
    chunks: list[Span] = []
    current: Span | None = None
    for unit in units:
        start, end = indexed.strip(*unit)
        if start == end:
            continue
        if indexed.size(start, end) > max_bytes:
            if current:
                chunks.append(current)
                current = None
            chunks.extend(split_unit(indexed, start, end, max_bytes))
        elif current is None:
            current = (start, end)
        elif indexed.size(current[0], end) <= max_bytes:
            current = (current[0], end)
        else:
            chunks.append(current)
            current = (start, end)
    if current:
        chunks.append(current)
    return chunks


def _split_sentence(indexed: _Text, start: int, end: int, max_bytes: int) -> list[Span]:
    return _pack(indexed, _words(indexed, start, end), max_bytes, _split_word)


def _split_word(indexed: _Text, start: int, end: int, max_bytes: int) -> list[Span]:
    """Cut a run without whitespace at character boundaries, keeping marks with their base character."""
    spans = []
    while start < end:
        cut = start
        while cut < end and indexed.size(start, cut + 1) <= max_bytes:
            cut += 1
        if cut < end:
            cut = _back_off_cluster(indexed.text, start, cut)
        spans.append((start, cut))
        start = cut
    return spans


def _back_off_cluster(text: str, start: int, cut: int) -> int:
    """Move ``cut`` left so it does not separate a character from its marks; keep it if nothing is left."""
    candidate = cut
    while candidate > start and _joins_previous(text, candidate):
        candidate -= 1
    return candidate if candidate > start else cut


def _joins_previous(text: str, index: int) -> bool:
    char, previous = text[index], text[index - 1]
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) == "Me"
        or char in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin-tone modifiers
        or previous == "\u200d"
    )
