"""Time the local engines per sample clip, as the pipeline uses them, and check the speech-to-text word error rate.

    python -m vidsense_bench.engines [--runs 3]

Per clip: transcode (webm -> MP3 22.05 kHz mono 64 kb/s, the production job template's settings), speech to text
on that MP3 (decode + faster-whisper tiny.en, model already loaded), sentiment on the transcript (VADER mapping).
Medians of ``--runs``; the one-off model load is reported apart. Prints a Markdown table. The 1-minute load
average is printed too: on a shared 2-core machine other processes change these numbers a lot."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from vidsense_local.engines.sentiment import SentimentEngine
from vidsense_local.engines.speech import shared_engine
from vidsense_local.engines.transcode import transcode_to_mp3
from vidsense_local.engines.wer import word_error_rate
from vidsense_local.paths import REPO_ROOT

MEDIA = REPO_ROOT / "tests" / "fixtures" / "media"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    entries = [e for e in json.loads((MEDIA / "manifest.json").read_text())["files"] if e["kind"] == "speech"]
    stt = shared_engine()
    started = time.perf_counter()
    stt.warm_up()
    print(f"model load: {time.perf_counter() - started:.2f} s; load average {os.getloadavg()[0]:.1f}\n")
    sentiment = SentimentEngine()
    print("| clip | audio s | transcode s | speech-to-text s | sentiment ms | total s | RTF | WER | label |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for entry in entries:
            times: dict[str, list[float]] = {"transcode": [], "stt": [], "sentiment": []}
            transcript, label = "", ""
            for _ in range(args.runs):
                mp3 = Path(tmp) / "answer.mp3"
                t0 = time.perf_counter()
                transcode_to_mp3(MEDIA / entry["file"], mp3, sample_rate=22050, channels=1, bitrate=64000)
                t1 = time.perf_counter()
                result = stt.transcribe_file(mp3)
                t2 = time.perf_counter()
                transcript = result.transcript
                label = sentiment.analyse(transcript).label
                t3 = time.perf_counter()
                times["transcode"].append(t1 - t0)
                times["stt"].append(t2 - t1)
                times["sentiment"].append(t3 - t2)
            med = {k: statistics.median(v) for k, v in times.items()}
            total = sum(med.values())
            wer = word_error_rate(entry["text"], transcript)
            print(
                f"| {entry['file']} | {entry['duration_s']:.1f} | {med['transcode']:.2f} | {med['stt']:.2f} | "
                f"{med['sentiment'] * 1000:.1f} | {total:.2f} | {med['stt'] / entry['duration_s']:.2f} | "
                f"{wer:.1%} | {label} (expected {entry['expected_label']}) |"
            )
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
