"""The committed OpenAPI document is what the resolver generates (make openapi regenerates it)."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import openapi
from ingest.handlers.api import ROUTE_KEYS

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_resolver():
    assert COMMITTED.read_text() == openapi.render(), "docs/openapi.json drifted from the API: run make openapi"


def test_document_describes_every_route_with_jwt_security_and_no_422():
    document = json.loads(openapi.render())
    assert set(document["paths"]) == {
        "/presignedurl/{project}/{step}",
        "/answers/{project}/{step}",
        "/projects/{project}/steps/{step}/answers",
    }
    assert document["security"] == [{"jwt": []}]
    assert document["components"]["securitySchemes"]["jwt"] == {
        "bearerFormat": "JWT",
        "description": "ID token of the stage's identity provider",
        "scheme": "bearer",
        "type": "http",
    }
    responses = {
        f"{method.upper()} {path}": set(operation["responses"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert responses == {
        "GET /presignedurl/{project}/{step}": {"200", "400", "401", "403", "409", "429"},
        "GET /answers/{project}/{step}": {"200", "400", "401", "404", "502"},
        "DELETE /answers/{project}/{step}": {"202", "400", "401", "404", "409"},
        "GET /projects/{project}/steps/{step}/answers": {"200", "400", "401", "403"},
    }
    erase = document["paths"]["/answers/{project}/{step}"]["delete"]["responses"]
    assert "Retry-After" in erase["409"]["headers"]
    deleted = document["components"]["schemas"]["DeletedAnswer"]
    assert set(deleted["properties"]) == {"answer_id", "project", "step", "user_key", "attempt", "status"}
    presign_403 = document["paths"]["/presignedurl/{project}/{step}"]["get"]["responses"]["403"]
    assert list(presign_403["content"]) == ["text/plain"]
    # The limit per person: a JSON body naming the limit and its window, and when to retry
    presign_429 = document["paths"]["/presignedurl/{project}/{step}"]["get"]["responses"]["429"]
    assert presign_429["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert presign_429["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/LimitBody"}
    limit_body = document["components"]["schemas"]["LimitBody"]
    assert set(limit_body["required"]) == {"message", "limit", "window"}
    view = document["components"]["schemas"]["AnswerView"]
    assert set(view["properties"]) == {"status", "transcript", "sentiment", "sentiment_score", "error", "updated_at"}


def test_route_keys_judged_on_a_missed_match_are_the_documented_routes():
    document = json.loads(openapi.render())
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert documented == ROUTE_KEYS
