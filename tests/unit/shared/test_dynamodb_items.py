"""One way to map DynamoDB items (issue 16 item 1): vidsense_shared.dynamodb_items, boto3's serializers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from vidsense_shared.dynamodb_items import from_item, plain_item, to_item

REPO = Path(__file__).resolve().parents[3]


def test_an_item_round_trips_with_floats_kept_short_and_none_as_null() -> None:
    # Given Python values as an adapter builds them
    values = {"id": "a#1", "attempt": 2, "score": 0.1, "missing": None, "grants": [{"at": "t", "n": None}]}
    # When written and read back
    item = to_item(values)
    # Then DynamoDB sees its own types, a float by its shortest repr, and the values come back
    assert item["score"] == {"N": "0.1"} and item["missing"] == {"NULL": True} and item["attempt"] == {"N": "2"}
    assert from_item(item)["attempt"] == Decimal(2)
    assert plain_item(item) == values


def test_no_adapter_maps_items_with_its_own_serializer() -> None:
    # Given the three services' and the shared package's sources
    sources = [*(REPO / "services").glob("*/src/**/*.py"), *(REPO / "shared" / "vidsense_shared").glob("*.py")]
    # Then only vidsense_shared.dynamodb_items holds boto3's TypeSerializer / TypeDeserializer
    users = sorted(
        str(path.relative_to(REPO))
        for path in sources
        if "TypeSerializer" in path.read_text() or "TypeDeserializer" in path.read_text()
    )
    assert users == ["shared/vidsense_shared/dynamodb_items.py"]
