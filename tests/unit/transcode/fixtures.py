"""Loading the real-shaped AWS events in tests/fixtures/transcode."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from vidsense_shared.resources import StageResources

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "transcode"

STAGE = "dev"
ACCOUNT = "123456789012"
WORK_BUCKET = StageResources(STAGE).work_bucket(ACCOUNT)
USER_KEY = "3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf02468ace13579bdf0246a"
ANSWER_ID = f"acme-onboarding/2/{USER_KEY}"
VIDEO_UPLOADED_EVENT_ID = "5f0c7a52-8d3e-4c61-9b0e-2a7d4e1f6c93"
TRANSCODER_COMPLETED_EVENT_ID = "0b6f3d8e-2c4a-5e71-9f1d-7a3c5b9e2d40"
MEDIACONVERT_JOB_ID = "1764378551482-q7w2zk"
JOB_NAME = f"vidsense.{STAGE}.acme-onboarding.2.{USER_KEY}.1"
AUDIO_KEY = f"{STAGE}/audio/acme-onboarding/2/{USER_KEY}/attempt-1/answer.mp3"
TRANSCRIPT_KEY = f"{STAGE}/transcripts/acme-onboarding/2/{USER_KEY}/attempt-1.json"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def sns_message(envelope: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge event carried by the first SNS record."""
    message: dict[str, Any] = json.loads(envelope["Records"][0]["Sns"]["Message"])
    return message


def with_sns_message(envelope: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """A copy of the SNS envelope carrying another message (as the topic would deliver it)."""
    result = copy.deepcopy(envelope)
    result["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return result
