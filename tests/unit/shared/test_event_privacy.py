"""Events stay in the bus archive after an erasure (docs/decisions/0002-answer-erasure.md): no event model may
carry an email, a token or transcript text, only ids and S3 pointers."""

from __future__ import annotations

from typing import Any

import pytest

from vidsense_shared.events import ALL_EVENTS, DomainEvent
from vidsense_shared.schemas import schema_for

# Free text and identity claims: a person appears in an event by the user key only (an HMAC of issuer and subject,
# docs/decisions/0003-user-key-from-subject.md), never by an address, a name or the claims the key is made from.
FORBIDDEN = frozenset({"email", "mail", "token", "text", "body", "words", "jwt"}) | frozenset(
    {"sub", "subject", "iss", "issuer", "claims", "username", "phone"}
)


def _properties(schema: dict[str, Any], defs: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    found: list[tuple[str, dict[str, Any]]] = []
    for name, prop in schema.get("properties", {}).items():
        found.append((f"{path}{name}", prop))
        for option in [prop, *prop.get("anyOf", [])]:
            if "$ref" in option or "properties" in option:
                found += _properties(option, defs, f"{path}{name}.")
    return found


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.DETAIL_TYPE)
def test_no_event_carries_personal_free_text(event: type[DomainEvent]) -> None:
    schema = schema_for(event)
    fields = _properties(schema, schema.get("$defs", {}))
    assert fields
    for name, prop in fields:
        leaf = name.rsplit(".", 1)[-1].lower()
        assert not FORBIDDEN & set(leaf.split("_")), f"{event.DETAIL_TYPE}.{name}"
        if leaf == "transcript":
            # A claim check: the S3 pointer (erased with the answer), never the words.
            refs = [prop.get("$ref", "")] + [o.get("$ref", "") for o in prop.get("anyOf", [])]
            assert any(r.endswith("/S3Pointer") for r in refs), f"{event.DETAIL_TYPE}.{name}: {prop}"
