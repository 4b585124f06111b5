"""Combining chunk sentiments: size-weighted scores, label = highest combined score."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.domain.scoring import LABELS, ChunkSentiment, Scores, Sentiment, combine, weights


def _chunk(size: int, label: str, positive: float, negative: float, neutral: float, mixed: float):
    return ChunkSentiment(size, Sentiment(label, Scores(positive, negative, neutral, mixed)))  # type: ignore[arg-type]


def _normalised(raw: tuple[float, float, float, float]) -> tuple[float, ...]:
    total = sum(raw)
    return tuple(x / total for x in raw)


_chunk_strategy = st.builds(
    lambda size, label, raw: _chunk(size, label, *_normalised(raw)),
    st.integers(1, 5000),
    st.sampled_from(LABELS),
    st.tuples(*[st.floats(0.001, 1)] * 4),
)


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=200))
def test_weights_sum_to_one_and_follow_size(lengths):
    shares = weights(lengths)
    assert math.isclose(sum(shares), 1.0, rel_tol=1e-9)
    assert all(math.isclose(s, n / sum(lengths)) for s, n in zip(shares, lengths, strict=True))


@given(st.lists(_chunk_strategy, min_size=2, max_size=40))
def test_combined_scores_are_probabilities_and_label_is_the_highest(chunks):
    result = combine(chunks)
    by_label = result.scores.by_label()
    assert all(0.0 <= v <= 1.0 for v in by_label.values())
    assert math.isclose(sum(by_label.values()), 1.0, rel_tol=1e-6)
    assert by_label[result.label] == max(by_label.values())


def test_longer_chunk_outweighs_shorter_one():
    # Given 4,000 bytes of praise and 1,000 bytes of complaint
    praise = _chunk(4000, "POSITIVE", 0.9, 0.05, 0.05, 0.0)
    complaint = _chunk(1000, "NEGATIVE", 0.02, 0.95, 0.03, 0.0)
    # When combined
    result = combine([complaint, praise])
    # Then the weighted mean (0.8 / 0.2) decides
    assert result.label == "POSITIVE"
    assert result.scores.positive == pytest.approx(0.2 * 0.02 + 0.8 * 0.9)
    assert result.scores.negative == pytest.approx(0.2 * 0.95 + 0.8 * 0.05)
    assert result.scores.neutral == pytest.approx(0.2 * 0.03 + 0.8 * 0.05)


def test_label_comes_from_combined_scores_not_from_majority_vote():
    # Two small mildly positive chunks lose to one long clearly negative chunk.
    chunks = [
        _chunk(500, "POSITIVE", 0.55, 0.1, 0.35, 0.0),
        _chunk(500, "POSITIVE", 0.55, 0.1, 0.35, 0.0),
        _chunk(4000, "NEGATIVE", 0.05, 0.85, 0.1, 0.0),
    ]
    assert combine(chunks).label == "NEGATIVE"


def test_single_chunk_keeps_comprehends_answer():
    only = _chunk(120, "MIXED", 0.3, 0.3, 0.1, 0.3)
    assert combine([only]) == only.sentiment


def test_scores_stay_within_one_despite_float_rounding():
    chunks = [_chunk(n, "POSITIVE", 1.0, 0.0, 0.0, 0.0) for n in (1, 3, 7, 11, 13)]
    assert combine(chunks).scores.positive <= 1.0


def test_nothing_to_combine_is_an_error():
    with pytest.raises(ValueError, match="nothing"):
        combine([])
    with pytest.raises(ValueError, match="non-empty"):
        weights([10, 0])
