"""Make the spoken sample answers every local test and the demo use (run once; the outputs are committed).

    sudo apt-get install -y espeak-ng      # Debian; the only tool here that is not in the venv
    .venv/bin/python local/tools/make_samples.py

Each sentence is synthesised by espeak-ng (voice en-us, 140 words a minute) to a WAV file, then muxed with PyAV
into a WebM like a browser's MediaRecorder makes: a small VP8 video track (160x120, 5 fps, a coloured frame with
a moving bar) and an Opus audio track (48 kHz mono). Also written: a silent answer (video + digital silence), a
corrupt answer (a real WebM's first bytes followed by garbage) and ``tests/fixtures/media/manifest.json`` with the
text, the expected Comprehend label (checked with the VADER mapping the stand-in uses) and a sha256 per file.
The demo's sample goes to ``local/samples/answer.webm`` with its text in ``answer.txt``.

espeak-ng is robotic and clean: real recordings differ, so no threshold should be tuned to these files alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))

from vidsense_local.engines.sentiment import SentimentEngine  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "media"
SAMPLES = ROOT / "local" / "samples"

SPOKEN = [
    (
        "positive.webm",
        "POSITIVE",
        (0, 150, 80),
        "I really love the new design. The team did a wonderful job and I am very happy with the result.",
    ),
    (
        "negative.webm",
        "NEGATIVE",
        (170, 30, 30),
        "This step was terrible. The upload kept failing and I am angry and disappointed with the whole process.",
    ),
    (
        "neutral.webm",
        "NEUTRAL",
        (90, 90, 90),
        "The meeting is on Tuesday morning. We will check the floor plan and then discuss the schedule.",
    ),
    (
        "mixed.webm",
        "MIXED",
        (160, 120, 0),
        "The new kitchen looks beautiful and I love the colors, but the delivery was awful and the builders were rude.",
    ),
    (
        "benchmark-10s.webm",
        "POSITIVE",
        (30, 60, 160),
        "For this step we measured the room, chose an oak floor and booked the builders for Monday. "
        "Everything went smoothly and I am pleased with the project.",
    ),
]
DEMO_TEXT = (
    "For the second step I painted the hallway and fixed the loose tiles in the kitchen. "
    "It looks great now and I am really proud of the result."
)


def synthesise(text: str, wav: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), text], check=True)


def read_wav(wav: Path) -> tuple[np.ndarray, int]:
    with av.open(str(wav)) as inp:
        frames = [f.to_ndarray().reshape(-1) for f in inp.decode(audio=0)]
        rate = inp.streams.audio[0].rate
    return np.concatenate(frames).astype(np.int16), rate


def write_webm(target: Path, pcm: np.ndarray, rate: int, colour: tuple[int, int, int], lead_s: float = 0.4) -> float:
    """Mux ``pcm`` (int16 mono) as Opus with a VP8 track; ``lead_s`` of silence around the speech as a browser
    recording has. Returns the audio duration in seconds."""
    pad = np.zeros(int(rate * lead_s), dtype=np.int16)
    pcm = np.concatenate([pad, pcm, pad])
    duration = len(pcm) / rate
    with av.open(str(target), mode="w", format="webm") as out:
        video = out.add_stream("libvpx", rate=5)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        video.bit_rate = 40_000
        audio = out.add_stream("libopus", rate=48000, layout="mono")
        audio.bit_rate = 32_000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        frame_count = int(duration * 5) + 1
        for i in range(frame_count):
            img = np.zeros((120, 160, 3), dtype=np.uint8)
            img[:, :] = colour
            x = (i * 8) % 160
            img[50:70, x : x + 16] = (255, 255, 255)
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = i
            vf.time_base = Fraction(1, 5)
            out.mux(video.encode(vf))
        out.mux(video.encode(None))
        step = 960 * rate // 48000 or 1024
        for start in range(0, len(pcm), step):
            chunk = pcm[start : start + step].reshape(1, -1)
            af = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            af.sample_rate = rate
            af.pts = start
            af.time_base = Fraction(1, rate)
            for res in resampler.resample(af):
                out.mux(audio.encode(res))
        for res in resampler.resample(None):
            out.mux(audio.encode(res))
        out.mux(audio.encode(None))
    return duration


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (Debian: apt-get install -y espeak-ng)", file=sys.stderr)
        return 2
    FIXTURES.mkdir(parents=True, exist_ok=True)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    engine = SentimentEngine()
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        for name, label, colour, text in SPOKEN:
            got = engine.analyse(text).label
            if got != label:
                raise SystemExit(f"{name}: the VADER mapping says {got}, expected {label}: pick another sentence")
            synthesise(text, wav)
            pcm, rate = read_wav(wav)
            duration = write_webm(FIXTURES / name, pcm, rate, colour)
            entries.append(
                {
                    "file": name,
                    "kind": "speech",
                    "text": text,
                    "expected_label": label,
                    "duration_s": round(duration, 2),
                }
            )
        silent_rate = 22050
        duration = write_webm(
            FIXTURES / "silent.webm", np.zeros(silent_rate * 4, dtype=np.int16), silent_rate, (0, 0, 0)
        )
        entries.append(
            {
                "file": "silent.webm",
                "kind": "silent",
                "text": "",
                "expected_label": None,
                "duration_s": round(duration, 2),
            }
        )
        # Corrupt: a real WebM's EBML header and the start of its segment, then deterministic garbage, as a
        # broken or interrupted upload would look.
        good = (FIXTURES / "positive.webm").read_bytes()
        garbage = random.Random(5).randbytes(6000)  # noqa: S311 - fixture bytes, not security
        (FIXTURES / "corrupt.webm").write_bytes(good[:200] + garbage)
        entries.append({"file": "corrupt.webm", "kind": "corrupt", "text": "", "expected_label": None, "duration_s": 0})

        assert engine.analyse(DEMO_TEXT).label == "POSITIVE"
        synthesise(DEMO_TEXT, wav)
        pcm, rate = read_wav(wav)
        demo_duration = write_webm(SAMPLES / "answer.webm", pcm, rate, (0, 110, 140))
        (SAMPLES / "answer.txt").write_text(DEMO_TEXT + "\n")
    for entry in entries:
        path = FIXTURES / str(entry["file"])
        entry["bytes"] = path.stat().st_size
        entry["sha256"] = sha256(path)
    manifest = {
        "generator": "local/tools/make_samples.py (espeak-ng 1.51, voice en-us, 140 wpm; PyAV VP8 + Opus)",
        "files": entries,
    }
    (FIXTURES / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for entry in entries:
        print(f"{entry['file']:20} {entry['bytes']:>7} B {entry['duration_s']:>5} s  {entry['expected_label']}")
    print(f"answer.webm {(SAMPLES / 'answer.webm').stat().st_size} B {demo_duration:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
