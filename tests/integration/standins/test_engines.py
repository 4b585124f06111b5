"""The engines on their own: what the stand-ins compute, checked without AWS in between."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.integration.standins.conftest import MEDIA, manifest, spoken
from vidsense_bench.local import samples_wer
from vidsense_local.engines.sentiment import SentimentEngine, split_clauses
from vidsense_local.engines.speech import BASELINE_SETTINGS, TUNED_SETTINGS, SpeechToText
from vidsense_local.engines.transcode import (
    BASELINE_TRANSCODE,
    TUNED_TRANSCODE,
    MediaError,
    decode_audio,
    media_duration_seconds,
    transcode_to_mp3,
)
from vidsense_local.engines.wer import corpus_word_error_rate, word_error_rate


def test_word_error_rate_counts_edits_over_reference_words() -> None:
    assert word_error_rate("The cat sat.", "the cat sat") == 0.0
    assert word_error_rate("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat", "the big fat cat") == pytest.approx(1.0)
    assert word_error_rate("", "") == 0.0
    # Over several samples every reference word weighs the same: 1 edit in 4 words and 0 in 1 word is 1/5.
    assert corpus_word_error_rate([("a b c d", "a b c x"), ("e", "e")]) == pytest.approx(1 / 5)


def test_clauses_split_at_sentence_marks_and_contrast_words() -> None:
    assert split_clauses("Good work. I like it, but the colour is wrong; however fine") == [
        "Good work",
        "I like it,",
        "but the colour is wrong",
        "however fine",
    ]


def test_mixed_needs_a_strong_clause_on_each_side() -> None:
    engine = SentimentEngine()
    assert engine.analyse("I love the design, but the delivery was awful.").label == "MIXED"
    # A mildly negative detail in a happy answer is not MIXED.
    assert engine.analyse("I fixed the loose tiles and I am really proud of the result.").label == "POSITIVE"
    assert engine.analyse("The meeting is on Tuesday.").label == "NEUTRAL"
    assert engine.analyse("This was a terrible, awful experience.").label == "NEGATIVE"


@pytest.mark.parametrize("sample", [f for f in manifest() if f["kind"] == "speech"], ids=lambda f: f["file"])
def test_manifest_labels_match_the_mapping(sample: dict[str, str]) -> None:
    assert SentimentEngine().analyse(sample["text"]).label == sample["expected_label"]


def test_manifest_matches_the_committed_files() -> None:
    for entry in manifest():
        data = (MEDIA / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
        assert len(data) < 1_000_000


def test_transcode_keeps_the_duration_and_rejects_corrupt_input(tmp_path: Path) -> None:
    source = MEDIA / "negative.webm"
    rendition = transcode_to_mp3(source, tmp_path / "a.mp3", sample_rate=16000, channels=1, bitrate=48000)
    assert abs(rendition.duration_ms / 1000 - media_duration_seconds(source)) < 0.1
    assert abs(len(decode_audio(tmp_path / "a.mp3")) / 16000 - media_duration_seconds(source)) < 0.15
    with pytest.raises(MediaError) as caught:
        transcode_to_mp3(MEDIA / "corrupt.webm", tmp_path / "b.mp3")
    assert caught.value.kind == "unreadable"
    assert not (tmp_path / "b.mp3").exists()


def test_tuned_speech_settings_transcribe_the_samples_no_worse_than_the_baseline(tmp_path: Path) -> None:
    # Given the speech settings before tuning and the tuned ones the stack runs with (they differ: else no test)
    assert TUNED_SETTINGS != BASELINE_SETTINGS
    sentiment = SentimentEngine()
    # When both transcribe the e2e speech samples as the pipeline does (the job's MP3, then speech to text)
    baseline = samples_wer(SpeechToText(settings=BASELINE_SETTINGS), sentiment, tmp_path, spoken())
    tuned = samples_wer(SpeechToText(settings=TUNED_SETTINGS), sentiment, tmp_path, spoken())
    # Then speed was not bought with accuracy
    assert tuned <= baseline, f"WER tuned {tuned:.1%} > before tuning {baseline:.1%}"


def test_the_tuned_mp3_encoder_quality_reaches_lame_and_keeps_the_file(tmp_path: Path) -> None:
    # Given the same clip encoded with LAME's default quality and with the tuned one
    source = MEDIA / "benchmark-10s.webm"
    job = {"sample_rate": 22050, "channels": 1, "bitrate": 64000}
    before = transcode_to_mp3(source, tmp_path / "before.mp3", **job, settings=BASELINE_TRANSCODE)
    tuned = transcode_to_mp3(source, tmp_path / "tuned.mp3", **job, settings=TUNED_TRANSCODE)
    # Then the encoder did work differently (other frames), into a CBR file of the same size and duration
    assert before.path.read_bytes() != tuned.path.read_bytes()
    assert before.path.stat().st_size == tuned.path.stat().st_size
    assert before.duration_ms == tuned.duration_ms
    assert media_duration_seconds(tuned.path) == pytest.approx(media_duration_seconds(before.path), abs=0.05)
