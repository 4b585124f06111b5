"""Headless Chromium for the web client's tests: Debian's /usr/bin/chromium driven by Playwright (no browser
download), a fake camera and microphone fed from files made at test time (a moving picture and a spoken sample
from tests/fixtures/media), console errors collected, axe-core (node_modules) for accessibility."""

from __future__ import annotations

import json
import os
import re
import wave
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from vidsense_local.paths import REPO_ROOT

CHROMIUM = Path(os.environ.get("VIDSENSE_CHROMIUM", "/usr/bin/chromium"))
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"  # the tests renew the README's pictures (issue 13)
VIEWPORT = {"width": 960, "height": 720}
SAMPLE_RATE = 48_000  # what Chromium's fake microphone plays best (platform notes)
LEAD_SILENCE_S = 0.5
# The capture network: without these flags Chromium reaches for Google's hosts at every start (closed network here).
QUIET_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-gpu",
]


def speech_wav(webm: Path, target: Path, tail_silence_s: float = 3.0) -> float:
    """The sample's audio as 48 kHz mono 16-bit PCM, after half a second of silence and before ``tail_silence_s``
    (the fake microphone loops the file); returns the length of silence + speech in seconds."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray[Any, Any]] = []
    with av.open(str(webm)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    speech = np.concatenate(chunks).astype("<i2")
    lead = np.zeros(int(SAMPLE_RATE * LEAD_SILENCE_S), dtype="<i2")
    tail = np.zeros(int(SAMPLE_RATE * tail_silence_s), dtype="<i2")
    with wave.open(str(target), "wb") as out_file:
        out_file.setnchannels(1)
        out_file.setsampwidth(2)
        out_file.setframerate(SAMPLE_RATE)
        out_file.writeframes(np.concatenate([lead, speech, tail]).tobytes())
    return (len(lead) + len(speech)) / SAMPLE_RATE


def moving_y4m(target: Path, width: int = 320, height: int = 240, frames: int = 30, fps: int = 15) -> None:
    """A small YUV4MPEG2 clip (a sliding gradient) for the fake camera."""
    x = np.arange(width, dtype=np.uint16)
    y = np.arange(height, dtype=np.uint16)[:, None]
    with open(target, "wb") as out_file:
        out_file.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            luma = ((x + y + n * 8) % 256).astype(np.uint8)
            chroma_u = np.full((height // 2, width // 2), 90 + n * 2, dtype=np.uint8)
            chroma_v = np.full((height // 2, width // 2), 160, dtype=np.uint8)
            out_file.write(b"FRAME\n" + luma.tobytes() + chroma_u.tobytes() + chroma_v.tobytes())


def chromium_args(video: Path, audio: Path, log_file: Path) -> list[str]:
    """``log_file`` gets Chromium's own log (media capture, renderer and GPU messages), which a failing step quotes."""
    return [
        "--no-sandbox",
        "--enable-logging",
        f"--log-file={log_file}",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        f"--use-file-for-fake-audio-capture={audio}",
        "--autoplay-policy=no-user-gesture-required",
        *QUIET_FLAGS,
    ]


# The API answers these by design: 404 before a person's first answer, 403 when one exists (the page shows it).
EXPECTED_API_REFUSALS = re.compile(r"Failed to load resource: the server responded with a status of (403|404)")


@dataclass
class ConsoleLog:
    """Console errors and uncaught exceptions of the pages of a context."""

    errors: list[str] = field(default_factory=list)
    api_refusals: list[str] = field(default_factory=list)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=20))  # every kind, for a failure's report
    crashed: bool = False

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("crash", lambda _page: setattr(self, "crashed", True))

    def _console(self, message: Any) -> None:
        self.recent.append(f"{message.type}: {message.text}")
        if message.type != "error":
            return
        text = f"{message.text} ({message.location.get('url', '')})"
        (self.api_refusals if EXPECTED_API_REFUSALS.search(message.text) else self.errors).append(text)


# Chromium's log lines that say nothing about a page (no D-Bus, no Bluetooth, no desktop here).
_LOG_NOISE = re.compile(r"dbus|bluez|Floss")


def chromium_log_tail(log_file: Path, lines: int = 25) -> list[str]:
    if not log_file.exists():
        return []
    kept = [line for line in log_file.read_text(errors="replace").splitlines() if not _LOG_NOISE.search(line)]
    return kept[-lines:]


def page_report(page: Any, console: ConsoleLog, log_file: Path) -> str:
    """What the page was doing when an expected step did not happen, for the failure's message: whether its
    script still runs (a hung renderer answers nothing, not even a timer), its buttons and alerts, the camera and
    microphone tracks, the last console lines and Chromium's own log."""
    report = [f"renderer crashed: {console.crashed}"]
    try:
        page.wait_for_function("() => true", polling=100, timeout=5000)
        state = page.evaluate(
            """() => ({
              buttons: [...document.querySelectorAll('button')].map(
                (b) => `${b.textContent}${b.hidden ? ' (hidden)' : ''}${b.disabled ? ' (disabled)' : ''}`),
              alerts: [...document.querySelectorAll('[role=alert]')].map((a) => a.textContent),
              preview: [...document.querySelectorAll('video')].map((v) =>
                `readyState ${v.readyState}, tracks ${v.srcObject ? v.srcObject.getTracks().map(
                  (t) => `${t.kind}:${t.readyState}`).join(' ') : 'none'}`),
            })"""
        )
        report.append(f"the page's script runs: {json.dumps(state)}")
    except Exception as error:  # the report must not hide the failure it describes
        report.append(f"the page's script did not answer within 5 s ({type(error).__name__}): the renderer hangs")
    report.append("console: " + " | ".join(console.recent))
    report.append("chromium log:\n  " + "\n  ".join(chromium_log_tail(log_file)))
    return "\n".join(report)


def axe_violations(page: Any, impacts: frozenset[str] = frozenset({"serious", "critical"})) -> list[dict[str, Any]]:
    """axe-core's violations of ``impacts`` on the current page. The script is evaluated through the DevTools
    protocol, so the page's Content-Security-Policy (scripts from its own origin only) stays as it is."""
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in json.loads(result)
        if v["impact"] in impacts
    ]


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def replace_file_part(body: bytes, content_type: str, new_file: bytes) -> bytes:
    """A multipart/form-data body with the ``file`` part's content replaced (the form's other fields kept)."""
    boundary = re.search(r"boundary=([^;]+)", content_type)
    assert boundary, content_type
    delimiter = b"--" + boundary.group(1).strip('"').encode()
    parts = body.split(delimiter)
    for index, part in enumerate(parts):
        head, separator, _content = part.partition(b"\r\n\r\n")
        if separator and b'name="file"' in head:
            parts[index] = head + separator + new_file + b"\r\n"
            return delimiter.join(parts)
    raise AssertionError("the upload has no file part")
