"""Word error rate, for checking speech to text against known text (tests and benchmark)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def normalise_words(text: str) -> list[str]:
    """Lowercase words without punctuation; hyphens split words ("well-known" -> "well known")."""
    return _WORD.findall(text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by Levenshtein distance over words."""
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / len(ref)


def corpus_word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """WER over several (reference, hypothesis) pairs: all edits over all reference words, so a long sample
    weighs more than a short one (as if the samples were one text)."""
    words = [len(normalise_words(reference)) for reference, _ in pairs]
    edits = sum(word_error_rate(ref, hyp) * n for (ref, hyp), n in zip(pairs, words, strict=True))
    return edits / sum(words) if sum(words) else 0.0
