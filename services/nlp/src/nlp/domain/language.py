"""Mapping Transcribe language codes (BCP-47 like ``en-US``) to Amazon Comprehend's sentiment languages."""

from __future__ import annotations

# DetectSentiment / BatchDetectSentiment languages (botocore's LanguageCode enum for these operations).
COMPREHEND_SENTIMENT_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})

# Transcribe regions whose Chinese output is written in Traditional characters: zh-TW (Taiwanese Mandarin)
# and zh-HK (Cantonese). Comprehend's "zh" model expects Simplified characters.
_TRADITIONAL_CHINESE_REGIONS = frozenset({"TW", "HK", "MO"})


def comprehend_language(language_code: str) -> str | None:
    """Comprehend's code for a Transcribe language code, or None when Comprehend has no sentiment model."""
    parts = language_code.strip().replace("_", "-").split("-")
    primary = parts[0].lower()
    if primary == "zh":
        subtags = {p.upper() for p in parts[1:]}
        return "zh-TW" if subtags & (_TRADITIONAL_CHINESE_REGIONS | {"HANT"}) else "zh"
    return primary if primary in COMPREHEND_SENTIMENT_LANGUAGES else None
