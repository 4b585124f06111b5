"""JSON Schema export of the event contracts (committed under shared/schemas/, checked by tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from vidsense_shared.events import ALL_EVENTS, DomainEvent

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def schema_for(event: type[DomainEvent]) -> dict[str, Any]:
    schema = event.model_json_schema(mode="serialization")
    schema["title"] = event.DETAIL_TYPE
    schema["x-detail-type"] = event.DETAIL_TYPE
    schema["x-version"] = event.VERSION
    schema["x-source"] = event.SOURCE
    return schema


def schema_filename(event: type[DomainEvent]) -> str:
    return f"{event.DETAIL_TYPE}.v{event.VERSION}.json"


def render(event: type[DomainEvent]) -> str:
    return json.dumps(schema_for(event), indent=2, sort_keys=True) + "\n"


def export(target: Path = SCHEMA_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for event in ALL_EVENTS:
        path = target / schema_filename(event)
        path.write_text(render(event))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in export(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(path)  # noqa: T201
