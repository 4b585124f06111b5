"""An EventBridge delivery to a Lambda target, for the tests of what parses one."""

from __future__ import annotations

from typing import Any


def eventbridge_delivery(detail_type: Any, detail: Any, **envelope: Any) -> dict[str, Any]:
    """``detail`` in the envelope AWS sends (from vidsense.ingest); ``envelope`` adds or replaces its keys
    (``source``, ``replay-name``, ...)."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "vidsense.ingest",
        "account": "111122223333",
        "time": "2026-11-29T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
        **envelope,
    }
