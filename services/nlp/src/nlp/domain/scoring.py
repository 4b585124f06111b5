"""Combining per-chunk sentiment into one answer-level sentiment, weighted by chunk size in bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vidsense_shared.events import SentimentLabel

# Order used to break exact ties between combined scores, so the label is deterministic.
LABELS: tuple[SentimentLabel, ...] = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")


@dataclass(frozen=True)
class Scores:
    positive: float
    negative: float
    neutral: float
    mixed: float

    def by_label(self) -> dict[SentimentLabel, float]:
        return {
            "POSITIVE": self.positive,
            "NEGATIVE": self.negative,
            "NEUTRAL": self.neutral,
            "MIXED": self.mixed,
        }


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    scores: Scores


@dataclass(frozen=True)
class ChunkSentiment:
    byte_length: int
    sentiment: Sentiment


def weights(byte_lengths: Sequence[int]) -> list[float]:
    """Each chunk's share of the text; the shares sum to 1."""
    total = sum(byte_lengths)
    if total <= 0 or any(length <= 0 for length in byte_lengths):
        raise ValueError("chunks must be non-empty")
    return [length / total for length in byte_lengths]


def combine(chunks: Sequence[ChunkSentiment]) -> Sentiment:
    """One chunk keeps Comprehend's own label; several are averaged by size and the highest score wins."""
    if not chunks:
        raise ValueError("nothing to combine")
    if len(chunks) == 1:
        return chunks[0].sentiment
    shares = weights([chunk.byte_length for chunk in chunks])
    combined = {label: 0.0 for label in LABELS}
    for share, chunk in zip(shares, chunks, strict=True):
        for label, score in chunk.sentiment.scores.by_label().items():
            combined[label] += share * score
    # float rounding must not leave [0, 1] (the event contract validates the range)
    bounded = {label: min(1.0, max(0.0, value)) for label, value in combined.items()}
    scores = Scores(
        positive=bounded["POSITIVE"],
        negative=bounded["NEGATIVE"],
        neutral=bounded["NEUTRAL"],
        mixed=bounded["MIXED"],
    )
    by_label = scores.by_label()
    label = max(LABELS, key=lambda name: (by_label[name], -LABELS.index(name)))
    return Sentiment(label=label, scores=scores)
