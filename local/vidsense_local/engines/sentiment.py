"""Sentiment with VADER, mapped to Amazon Comprehend's four labels and scores.

VADER scores a text from -1 to 1 (``compound``); Comprehend answers POSITIVE, NEGATIVE, NEUTRAL or MIXED with four
confidences summing to 1. The mapping scores clauses separately, because one overall compound averages a
"loved it, but it broke" answer into a weak positive instead of MIXED:
- clauses: split at ``. ! ? ;`` and before ``but / however / although / yet``;
- MIXED when the strongest positive clause and the strongest negative clause both reach ``mixed_threshold``;
- NEUTRAL when the whole text's compound lies within ``neutral_band`` of zero (VADER's own convention is 0.05);
- otherwise POSITIVE or NEGATIVE by the sign of the whole text's compound.
The winning label gets ``0.5 + 0.49 * strength`` and the rest is shared by the other labels in proportion to their
evidence, so the scores sum to 1 and the label is always the highest score. They are a mapping of VADER's
numbers, not calibrated probabilities like Comprehend's.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
_CLAUSE_SPLIT = re.compile(r"[.!?;]+|\b(?=(?:but|however|although|yet)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class SentimentResult:
    label: str
    scores: dict[str, float]  # keys Positive, Negative, Neutral, Mixed (Comprehend's SentimentScore)
    compound: float
    clause_compounds: tuple[float, ...]
    compute_seconds: float


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loading the lexicon takes ~0.1 s: do it once per process.
    return SentimentIntensityAnalyzer()


def split_clauses(text: str) -> list[str]:
    return [part.strip() for part in _CLAUSE_SPLIT.split(text) if part and re.search(r"\w", part)]


class SentimentEngine:
    def __init__(self, *, mixed_threshold: float = 0.4, neutral_band: float = 0.05) -> None:
        self.mixed_threshold = mixed_threshold
        self.neutral_band = neutral_band

    def analyse(self, text: str) -> SentimentResult:
        started = time.perf_counter()
        analyzer = _analyzer()
        compound = float(analyzer.polarity_scores(text)["compound"])
        clauses = tuple(float(analyzer.polarity_scores(c)["compound"]) for c in split_clauses(text)) or (0.0,)
        strongest_pos = max(0.0, *clauses)
        strongest_neg = max(0.0, *(-c for c in clauses))
        evidence = {
            "Positive": max(compound, 0.0) + strongest_pos / 2,
            "Negative": max(-compound, 0.0) + strongest_neg / 2,
            "Neutral": 1.0 - abs(compound),
            "Mixed": min(strongest_pos, strongest_neg),
        }
        if strongest_pos >= self.mixed_threshold and strongest_neg >= self.mixed_threshold:
            label, strength = "MIXED", min(strongest_pos, strongest_neg)
        elif abs(compound) < self.neutral_band:
            label, strength = "NEUTRAL", 1.0 - abs(compound) / self.neutral_band
        elif compound > 0:
            label, strength = "POSITIVE", compound
        else:
            label, strength = "NEGATIVE", -compound
        winner = label.capitalize()
        top = 0.5 + 0.49 * min(max(strength, 0.0), 1.0)
        # A small floor keeps every label possible (Comprehend never answers an exact 0) and avoids 0/0.
        others = {k: v + 0.01 for k, v in evidence.items() if k != winner}
        total = sum(others.values())
        scores = {k: (1.0 - top) * v / total for k, v in others.items()}
        scores[winner] = top
        ordered = {k: round(scores[k], 6) for k in ("Positive", "Negative", "Neutral", "Mixed")}
        return SentimentResult(
            label=label,
            scores=ordered,
            compound=compound,
            clause_compounds=clauses,
            compute_seconds=time.perf_counter() - started,
        )
