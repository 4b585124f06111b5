"""Audio extraction with PyAV (FFmpeg's libraries): decode any container FFmpeg reads (webm VP8/VP9 + Opus
here), resample, encode MP3 with libmp3lame. Used by the MediaConvert stand-in and, for decoding to 16 kHz mono,
by speech to text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt


class MediaError(Exception):
    """The input cannot become audio. ``kind`` is ``unreadable`` (missing, not media, corrupt) or ``no_audio``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class TranscodeSettings:
    """How the MP3 is encoded. ``mp3_quality`` is LAME's algorithm quality, 0 (best, slowest) to 9 (fastest);
    None leaves LAME's default. The bitrate, rate and channels are the job's, not settings of the engine."""

    name: str
    mp3_quality: int | None


#: Before issue 14's tuning (LAME's default), kept so ``make bench-local`` measures both in the same run.
BASELINE_TRANSCODE = TranscodeSettings("baseline", mp3_quality=None)
#: What the MediaConvert stand-in uses: LAME's "fast, ok quality" level spends ~20% less time on the clip's
#: encode at the same bitrate (a CBR file of the same size), with the same WER on the samples (bench-findings).
TUNED_TRANSCODE = TranscodeSettings("tuned", mp3_quality=7)


@dataclass(frozen=True)
class AudioRendition:
    path: Path
    duration_ms: int
    sample_rate: int
    channels: int
    bitrate: int
    codec: str
    compute_seconds: float


def _audio_frames(container: av.container.InputContainer, source: str) -> Iterator[av.AudioFrame]:
    if not container.streams.audio:
        raise MediaError("no_audio", f"no audio track in input [{source}]")
    stream = container.streams.audio[0]
    try:
        yield from container.decode(stream)
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError("unreadable", f"audio of [{source}] cannot be decoded: {exc}") from exc


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError("unreadable", f"failed probe/open [{path.name}]: {exc}") from exc


def _encode(
    frames: Iterator[av.AudioFrame], target: Path, sample_rate: int, layout: str, bitrate: int, *, quality: int | None
) -> int:
    samples = 0
    with av.open(str(target), mode="w", format="mp3") as out:
        # FFmpeg's libmp3lame wrapper passes compression_level to lame_set_quality.
        options = {} if quality is None else {"compression_level": str(quality)}
        stream = out.add_stream("libmp3lame", rate=sample_rate, layout=layout, options=options)
        stream.bit_rate = bitrate
        resampler = av.AudioResampler(format="s16p", layout=layout, rate=sample_rate)
        for frame in frames:
            for chunk in resampler.resample(frame):
                samples += chunk.samples
                out.mux(stream.encode(chunk))
        for chunk in resampler.resample(None):
            samples += chunk.samples
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return samples


def transcode_to_mp3(
    source: Path,
    target: Path,
    *,
    sample_rate: int = 44100,
    channels: int = 1,
    bitrate: int = 96000,
    settings: TranscodeSettings = TUNED_TRANSCODE,
) -> AudioRendition:
    """Write the first audio track of ``source`` as MP3 to ``target``; raise MediaError when there is none."""
    started = time.perf_counter()
    layout = "mono" if channels == 1 else "stereo"
    with _open(source) as inp:
        try:
            samples = _encode(
                _audio_frames(inp, source.name), target, sample_rate, layout, bitrate, quality=settings.mp3_quality
            )
        except BaseException:
            target.unlink(missing_ok=True)  # never leave half an MP3 behind
            raise
    if samples == 0:
        target.unlink(missing_ok=True)
        raise MediaError("no_audio", f"the audio track of [{source.name}] holds no samples")
    return AudioRendition(
        path=target,
        duration_ms=round(samples * 1000 / sample_rate),
        sample_rate=sample_rate,
        channels=channels,
        bitrate=bitrate,
        codec="MP3",
        compute_seconds=time.perf_counter() - started,
    )


def decode_audio(source: Path, *, sample_rate: int = 16000) -> npt.NDArray[np.float32]:
    """Decode the first audio track to mono float32 PCM in [-1, 1] (what Whisper takes)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    chunks: list[npt.NDArray[np.float32]] = []
    with _open(source) as inp:
        for frame in _audio_frames(inp, source.name):
            chunks.extend(c.to_ndarray().reshape(-1).astype(np.float32) for c in resampler.resample(frame))
        chunks.extend(c.to_ndarray().reshape(-1).astype(np.float32) for c in resampler.resample(None))
    if not chunks:
        raise MediaError("no_audio", f"the audio track of [{source.name}] holds no samples")
    return np.concatenate(chunks)


def media_duration_seconds(source: Path) -> float:
    """Duration of the first audio track by decoding it (container headers of browser webm often lack one)."""
    with _open(source) as inp:
        samples = 0
        rate = 0
        for frame in _audio_frames(inp, source.name):
            samples += frame.samples
            rate = frame.sample_rate
    return samples / rate if rate else 0.0
