"""make bench-local rewrites docs/performance.md but keeps the sections other measurements own, and splits one
answer's time into stages from the stack's functions.log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vidsense_bench.local import (
    EngineRun,
    Results,
    Timed,
    analyzed_at,
    answer_invocations,
    breakdown,
    job_phase_medians,
    keep_marked_sections,
    render,
)

BURST = "<!-- burst:start -->\n## Burst of 100\n| total | 412 s |\n<!-- burst:end -->"


def test_marked_sections_of_the_old_report_survive_a_rewrite(tmp_path: Path) -> None:
    old = tmp_path / "performance.md"
    old.write_text(f"# Old numbers\n| median | 99 s |\n\n{BURST}\n")
    new = keep_marked_sections("# Local stack performance\n| median | 9 s |\n", old)
    assert new.startswith("# Local stack performance\n| median | 9 s |")
    assert BURST in new
    assert "99 s" not in new


def test_without_an_old_report_or_sections_the_new_report_is_unchanged(tmp_path: Path) -> None:
    report = "# Local stack performance\n"
    assert keep_marked_sections(report, tmp_path / "missing.md") == report
    plain = tmp_path / "plain.md"
    plain.write_text("# no sections\n")
    assert keep_marked_sections(report, plain) == report


def test_an_unterminated_marker_is_not_kept(tmp_path: Path) -> None:
    old = tmp_path / "performance.md"
    old.write_text("<!-- burst:start -->\nhalf a section\n")
    assert keep_marked_sections("# new\n", old) == "# new\n"


def _line(function: str, at: str, request: str, **fields: str) -> str:
    record = {
        "level": "INFO",
        "message": "m",
        "timestamp": f"2026-12-01 10:00:{at}+0000",
        "function_request_id": request,
    }
    return f"vidsense-svc-local-{function} " + json.dumps({**record, **fields})


def test_one_answers_time_splits_into_event_deliveries_function_runs_and_jobs() -> None:
    # Given the functions.log lines of one answer (bench-p/1), another answer's, and the REPORT durations
    key = "bench-p/1/abc.webm"
    lines = [
        _line("uploadLanded", "01,100", "r1", key=key),
        "vidsense-svc-local-uploadLanded REPORT RequestId: r1\tDuration: 100.00 ms\tMemory Size: 256 MB",
        _line("startTranscode", "01,300", "r2", correlation_id=key),
        _line("relayTranscoderEvents", "01,400", "r3", correlation_id=key, status="PROGRESSING"),
        _line("relayTranscoderEvents", "02,000", "r4", correlation_id=key, status="COMPLETE"),
        _line("startTranscription", "02,100", "r5", correlation_id=key),
        _line("transcriptionCompleted", "03,500", "r6", job_name="vidsense.local.bench-p.1.abc.1"),
        _line("analyzeSentiment", "03,600", "r7", correlation_id=key),
        _line("projectAnswers", "03,650", "r8", correlation_id=key, detail_type="TranscriptionCompleted"),
        _line("projectAnswers", "03,700", "r9", correlation_id=key, detail_type="SentimentDetected"),
        _line("startTranscode", "01,250", "x1", correlation_id="bench-p/2/def"),
        _line("startTranscode", "01,260", "x2", correlation_id="burst-bench-p/1/ghi"),
    ]
    start = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC).timestamp()
    timed = Timed(upload_started=start + 0.5, upload_done=start + 0.9, seen_final=start + 3.8, answer={})
    # When its invocations are found and the time between upload and the final poll is split
    invocations = answer_invocations(lines, "bench-p", "1")
    stages = breakdown(timed, invocations, transcribe_job=(start + 2.05, start + 3.3))
    # Then only this answer's invocations count, each stage ends at the next step of the chain (the Transcribe
    # job, not startTranscription's later log line) and carries the function's REPORT duration
    assert {i.fields["function_request_id"] for i in invocations}.isdisjoint({"x1", "x2"})
    seconds = {stage.what: stage.seconds for stage in stages}
    assert seconds["S3 event notification of the upload -> uploadLanded, to its log line"] == pytest.approx(0.2)
    assert stages[1].function_seconds == pytest.approx(0.1)
    assert seconds[
        "MediaConvert job (S3 download, transcode, upload) + its COMPLETE event -> relayTranscoderEvents, "
        "to its log line"
    ] == pytest.approx(0.7)
    assert seconds["TranscoderCompleted via EventBridge -> startTranscription, until the Transcribe job starts"] == (
        pytest.approx(0.05)
    )
    assert seconds["Transcribe job (S3 download, decode, speech to text, transcript upload)"] == pytest.approx(1.25)
    assert seconds["Transcribe job state change event -> transcriptionCompleted, to its log line"] == (
        pytest.approx(0.2)
    )
    # And they add up to the time from the upload to the projector's write of ANALYZED (not the poll's 0.1 s later)
    assert analyzed_at(invocations) == pytest.approx(start + 3.7)
    assert sum(stage.seconds for stage in stages) == pytest.approx(3.7 - 0.5)
    # And an answer whose chain is incomplete in the log is an error, not a wrong table
    with pytest.raises(RuntimeError, match="analyzeSentiment"):
        breakdown(timed, [i for i in invocations if i.function != "analyzeSentiment"], None)


def test_job_phases_are_the_medians_over_the_jobs_of_the_warm_answers() -> None:
    # Given the jobs.log of a stack: a warm-up job before the first window, and one Transcribe and one
    # MediaConvert job inside each of three warm answers' windows
    def line(service: str, finished: float, seconds: dict[str, float]) -> str:
        return json.dumps({"service": service, "job": f"j{finished}", "finished": finished, "seconds": seconds})

    log = [
        line("transcribe", 5.0, {"speech to text (engine call)": 9.0}),  # the cold answer: not counted
        *(
            line("transcribe", start + 2, {"media download": 0.01 * k, "speech to text (engine call)": 1.0 + k})
            for k, start in enumerate((10.0, 20.0, 30.0))
        ),
        *(line("mediaconvert", start + 1, {"transcode (engine)": 0.2}) for start in (10.0, 20.0, 30.0)),
        "",
    ]
    # When the phases are taken over the warm answers' windows
    phases = job_phase_medians(log, [(10.0, 13.0), (20.0, 23.0), (30.0, 33.0)])
    # Then each phase is the median of the three answers' jobs
    assert phases["transcribe"] == {"media download": pytest.approx(0.01), "speech to text (engine call)": 2.0}
    assert phases["mediaconvert"] == {"transcode (engine)": 0.2}


def test_the_pipeline_is_compared_with_the_engine_runs_made_beside_its_warm_answers() -> None:
    # Given tuned engine runs of 1 s beside the warm answers and of 0.5 s after the stack stopped (a quieter
    # machine), and warm answers of 1.4 s
    def runs(seconds: list[float]) -> list[EngineRun]:
        return [EngineRun(0.0, s, 0.0, s, "words") for s in seconds]

    results = Results(
        warm_runs_s=[1.4, 1.4, 1.4],
        warm_seen_s=[1.5, 1.5, 1.5],
        engine_runs={"baseline": runs([1.2] * 6), "tuned": runs([1.0, 1.0, 1.0, 0.5, 0.5, 0.5])},
        engine_wer={"baseline": 0.01, "tuned": 0.0},
        engine_pairs_beside=3,
        burst_latencies_s=[2.0],
    )
    # When the report is written
    report = render(results, runs=3, burst=1)
    # Then the ratio is the warm answers' median over the runs beside them (1.4 / 1.0), not over all runs
    row = next(line for line in report.splitlines() if line.startswith("| ratio pipeline / tuned engines"))
    assert "**1.40** (1.40 s / 1.00 s)" in row
