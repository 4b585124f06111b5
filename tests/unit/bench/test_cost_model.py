"""The cost model's arithmetic and its reading of packaged templates, on fixed inputs (docs/cost.md)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from vidsense_bench.cost.__main__ import END, START, keep_hand_written, main
from vidsense_bench.cost.flow import answer_flow, comprehend_chunks
from vidsense_bench.cost.inputs import (
    PRICES,
    load_job_template,
    load_prices,
    measure_functions,
    measure_media,
    read_functions,
    read_settings,
)
from vidsense_bench.cost.model import (
    Assumptions,
    FunctionMeasure,
    FunctionSettings,
    Measured,
    Prices,
    StackSettings,
    comprehend_cost,
    comprehend_units,
    estimate,
    lambda_gb_seconds,
    ratio_to_transcribe,
    transcribe_cost,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "cost" / "packaged-template.json"

# Round numbers, so every expected value below can be worked out by hand.
PRICES_FIXED = Prices(
    lambda_gb_second_arm64=0.00001,
    lambda_gb_second_x86_64=0.00002,
    lambda_request=0.0000002,
    mediaconvert_audio_minute=0.003,
    mediaconvert_minimum_seconds=10,
    transcribe_second=0.0004,
    transcribe_minimum_seconds=15,
    comprehend_unit=0.0001,
    comprehend_unit_characters=100,
    comprehend_minimum_units=3,
    eventbridge_custom_event=0.000001,
    eventbridge_archive_gb=0.0,
    sns_publish=0.0000005,
    sqs_request=0.0000004,
    s3_put_request=0.000005,
    s3_get_request=0.0000004,
    s3_storage_gb_month=0.0,
    dynamodb_write_request_unit=0.000001,
    dynamodb_read_request_unit=0.0000002,
    dynamodb_storage_gb_month=0.25,
    dynamodb_pitr_gb_month=0.2,
    logs_ingest_gb=0.0,
    logs_storage_gb_month=0.0,
    xray_trace=0.0,
    http_api_request=0.000001,
    kms_request=0.0,
    kms_key_month=1.0,
    cloudwatch_alarm_month=0.1,
)


def test_transcribe_bills_at_least_15_seconds_per_job() -> None:
    # Given answers of 5 s, 15 s and 60.2 s, at $0.0004 per second
    # When each is priced
    # Then the short one pays the 15-second minimum and the long one whole seconds, rounded up
    assert transcribe_cost(5, PRICES_FIXED) == pytest.approx(15 * 0.0004)
    assert transcribe_cost(15, PRICES_FIXED) == pytest.approx(15 * 0.0004)
    assert transcribe_cost(60.2, PRICES_FIXED) == pytest.approx(61 * 0.0004)


def test_comprehend_bills_units_of_100_characters_with_3_units_minimum_per_document() -> None:
    # Given documents of 1, 300, 301 and 5,000 characters
    # Then each pays at least 3 units and otherwise one unit per started 100 characters
    assert [comprehend_units(n, PRICES_FIXED) for n in (1, 300, 301, 5000)] == [3, 3, 4, 50]
    # And a request of several documents (BatchDetectSentiment) pays the minimum per document, not per call
    assert comprehend_cost([50, 50], PRICES_FIXED) == pytest.approx(6 * 0.0001)


def test_a_long_transcript_is_sent_in_chunks_nlp_cuts_and_each_pays_its_units() -> None:
    # Given 12,000 characters of transcript (nlp cuts at 5,000 bytes, at sentence ends)
    chunks = comprehend_chunks(12000)
    # Then three documents, all within the limit, carrying every character but the spaces at the cuts
    assert len(chunks) == 3
    assert all(c <= 5000 for c in chunks)
    assert 12000 - 3 <= sum(chunks) <= 12000
    assert comprehend_chunks(0) == ()


def test_ratio_to_transcribe_and_its_guard() -> None:
    assert ratio_to_transcribe(0.0276, 0.024) == pytest.approx(1.15)
    with pytest.raises(ValueError, match="Transcribe"):
        ratio_to_transcribe(1.0, 0.0)


def _settings(functions: dict[str, FunctionSettings]) -> StackSettings:
    return StackSettings(
        functions=functions,
        mp3_bitrate_bps=64000,
        audio_expiration_days=30,
        transcript_expiration_days=1825,
        video_noncurrent_days=365,
        pitr_tables=3,
        kms_keys=3,
        alarms=10,
        schedule_invocations_per_month={},
    )


def test_the_estimate_of_an_answer_adds_its_items_and_compares_with_transcribe() -> None:
    # Given one 60-second answer whose only function runs 100 ms at 1,024 MB arm64, and a flow with no polls
    fn = FunctionSettings(memory_mb=1024, architecture="arm64", tracing_active=False, log_retention_days=7)
    measured = Measured(
        functions={"ingest/api": FunctionMeasure(warm_ms=100, init_ms=0, log_bytes=0)},
        video_bytes_per_second=0,
        transcript_json_bytes_per_second=0,
        transcript_characters_per_second=5,  # 300 characters: one document of 3 units
    )
    assumptions = Assumptions(pipeline_seconds_fixed=0, pipeline_seconds_per_audio_second=0, cold_start_fraction=0)
    flow = dataclasses.replace(
        answer_flow(60, 5, assumptions), invocations={"ingest/api": 1}, http_requests=1, custom_events=0
    )
    flow = dataclasses.replace(flow, sns_publishes=0, s3_puts=0, s3_gets=0, dynamodb_wru=0, dynamodb_rru=0)
    # When it is estimated for 100 answers a month
    result = estimate(
        60,
        100,
        flow=flow,
        settings=_settings({"ingest/api": fn}),
        measured=measured,
        prices=PRICES_FIXED,
        assumptions=assumptions,
    )
    # Then: Transcribe 60 s x 0.0004, MediaConvert 1 min x 0.003, Comprehend 3 units, 0.1 GB-s, 1 request, 1 HTTP call
    expected = 0.024 + 0.003 + 0.0003 + 0.1 * 0.00001 + 0.0000002 + 0.000001
    assert result.transcribe == pytest.approx(0.024)
    assert result.per_answer == pytest.approx(expected)
    assert result.ratio == pytest.approx(expected / 0.024)
    assert result.largest_above_transcribe().name.startswith("MediaConvert")
    # And the month adds the fixed items: 3 keys and 10 alarms
    assert result.per_month == pytest.approx(100 * expected + 3 * 1.0 + 10 * 0.1)


def test_lambda_bills_whole_milliseconds_at_the_configured_memory() -> None:
    assert lambda_gb_seconds(99.2, 512) == pytest.approx(0.1 * 0.5)


def test_memory_architecture_tracing_and_retention_come_from_the_packaged_template() -> None:
    # Given a packaged template whose functions differ from the stack's defaults
    template = json.loads(FIXTURE.read_text())
    # When the model reads it
    functions = read_functions("ingest", template)
    # Then every setting is the template's, keyed service/function
    assert functions == {
        "ingest/api": FunctionSettings(
            memory_mb=512, architecture="arm64", tracing_active=True, log_retention_days=365
        ),
        "ingest/projectAnswers": FunctionSettings(
            memory_mb=1024, architecture="x86_64", tracing_active=False, log_retention_days=None
        ),
    }
    # And the stack-wide counts and the schedule too (rate(10 minutes): 4,320 runs in 30 days)
    settings = read_settings({"ingest": template}, load_job_template())
    assert (settings.kms_keys, settings.alarms, settings.video_noncurrent_days) == (1, 2, 365)
    assert settings.schedule_invocations_per_month == {"ingest/projectAnswers": pytest.approx(4320)}
    assert settings.mp3_bitrate_bps == 64000  # the MediaConvert job template's audio-only output


def test_durations_and_log_bytes_are_read_from_a_functions_log() -> None:
    # Given two invocations of one function, the first cold, and a DEBUG line the prod stage would not write
    log = [
        "vidsense-ingest-local-api START RequestId: a Version: $LATEST\n",
        'vidsense-ingest-local-api {"level":"DEBUG","message":"x"}\n',
        "vidsense-ingest-local-api REPORT RequestId: a\tDuration: 900.00 ms\tMemory Size: 256 MB\n",
        "vidsense-ingest-local-api REPORT RequestId: b\tDuration: 100.00 ms\tMemory Size: 256 MB\n",
        "unrelated line\n",
    ]
    measured = measure_functions(log)
    # Then the warm median is the second run, the init the difference, and DEBUG lines are not counted
    api = measured["ingest/api"]
    assert (api["warm_ms"], api["init_ms"], api["invocations"]) == (100.0, 800.0, 2)
    assert api["log_bytes"] < 250


def test_the_transcript_characters_per_second_are_the_spoken_samples_text(tmp_path: Path) -> None:
    # Given a media folder with two speech samples and a silent one (only the speech counts)
    speech = {"a.webm": ("I liked it.", 2.0), "b.webm": ("The upload failed, twice!", 3.0)}
    files = [{"file": name, "kind": "speech", "text": text, "duration_s": s} for name, (text, s) in speech.items()]
    files.append({"file": "silent.webm", "kind": "silence", "text": "", "duration_s": 9.0})
    for entry in files:
        (tmp_path / str(entry["file"])).write_bytes(b"x" * 1000)
    (tmp_path / "manifest.json").write_text(json.dumps({"files": files}))
    # When the media rates are measured
    media = measure_media(tmp_path)
    # Then the transcript Transcribe would write holds the samples' text, read back as ingest and nlp read it
    characters = len("I liked it.") + len("The upload failed, twice!")
    assert media["transcript_characters_per_second"] == round(characters / 5.0, 2)
    assert (media["video_bytes_per_second"], media["samples"]) == (400.0, ["a.webm", "b.webm"])


def test_the_price_file_has_every_price_with_a_source() -> None:
    prices, header = load_prices(PRICES)
    assert header["as_of"] and header["retrieved"]
    assert prices.transcribe_minimum_seconds == 15
    assert prices.comprehend_minimum_units == 3


def test_the_report_keeps_hand_written_text_around_its_section(tmp_path: Path) -> None:
    page = tmp_path / "cost.md"
    page.write_text(f"# Cost\nintro\n{START}\nold\n{END}\n## Cuts\nkept\n")
    text = keep_hand_written("new table", page)
    assert text == f"# Cost\nintro\n{START}\nnew table\n{END}\n## Cuts\nkept\n"


def test_a_missing_input_is_one_line_on_stderr_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no measurements file
    code = main(["--no-write", "--measured", str(tmp_path / "absent.json")])
    # Then exit 1 with one line naming the file and how to rebuild it
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1
    assert "absent.json" in err and "measure --functions-log" in err
