"""Transcribe language codes to Comprehend sentiment languages."""

from __future__ import annotations

import pytest

from nlp.domain.language import comprehend_language


@pytest.mark.parametrize(
    ("transcribe", "comprehend"),
    [
        ("en-US", "en"),
        ("en-GB", "en"),
        ("en-IN", "en"),
        ("es-ES", "es"),
        ("es-US", "es"),
        ("fr-CA", "fr"),
        ("de-CH", "de"),
        ("it-IT", "it"),
        ("pt-BR", "pt"),
        ("ar-AE", "ar"),
        ("hi-IN", "hi"),
        ("ja-JP", "ja"),
        ("ko-KR", "ko"),
        ("zh-CN", "zh"),
        ("zh-TW", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("zh-Hant-TW", "zh-TW"),
        ("EN_us", "en"),
        ("en", "en"),
    ],
)
def test_supported_languages_map_to_comprehend_codes(transcribe, comprehend):
    assert comprehend_language(transcribe) == comprehend


@pytest.mark.parametrize("transcribe", ["sv-SE", "nl-NL", "pl-PL", "th-TH", "he-IL", "", "english"])
def test_languages_comprehend_lacks_map_to_none(transcribe):
    assert comprehend_language(transcribe) is None
