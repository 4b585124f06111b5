"""No function's X-Ray trace holds what its handler returns or raises (issue 15, item 5).

Responses carry transcripts and presigned upload forms, exceptions can carry emails or transcript text, and X-Ray
keeps traces where an erasure cannot reach them. Every function of the three serverless.yml files is run through
its real decorator stack with the X-Ray SDK enabled and recording in memory; only its innermost body is replaced,
by one that returns (or raises) a marker.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder

from tests.lambda_context import FakeLambdaContext
from vidsense_shared import observability

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "transcode", "nlp")
MARKER = "alice@example.com said: my secret transcript"


# Reads serverless.yml: CloudFormation short tags (!Sub, !Ref, !GetAtt) load as None.
_CloudFormationTags: Any = type("_CloudFormationTags", (yaml.SafeLoader,), {})
_CloudFormationTags.add_multi_constructor("!", lambda loader, suffix, node: None)


def deployed_handlers() -> list[tuple[str, str, str]]:
    """(service, function, handler) of every function the three services deploy."""
    found = []
    for service in SERVICES:
        config = yaml.load((REPO / "services" / service / "serverless.yml").read_text(), Loader=_CloudFormationTags)
        for name, function in config["functions"].items():
            found.append((service, name, function["handler"]))
    return found


HANDLERS = deployed_handlers()


class CapturingEmitter:
    """Stands in for the UDP emitter: keeps every entity the recorder sends to the daemon."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(entity.serialize())

    def set_daemon_address(self, address: str | None) -> None:
        pass


def _decorate_handlers_again() -> None:
    """The handler modules imported again, so their decorator stack is built under the current tracing rule."""
    for module_name in sorted({path.rsplit(".", 1)[0] for _, _, path in HANDLERS}):
        importlib.reload(importlib.import_module(module_name))


@pytest.fixture
def recorded_traces(monkeypatch: pytest.MonkeyPatch) -> Iterator[CapturingEmitter]:
    """Tracing as in Lambda (Powertools turns it off elsewhere), the X-Ray SDK sending into memory."""
    monkeypatch.setattr(observability, "tracing_on", lambda: True)
    # Created outside Lambda, the Tracer turns itself and the SDK off: both are turned on again.
    monkeypatch.setattr(observability.tracer(), "disabled", False)
    _decorate_handlers_again()
    emitter = CapturingEmitter()
    monkeypatch.setattr(xray_recorder, "_emitter", emitter)
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    try:
        yield emitter
    finally:
        global_sdk_config.set_sdk_enabled(was_enabled)
        monkeypatch.undo()
        _decorate_handlers_again()


def _returns_marker(event: dict[str, Any], context: Any) -> Any:
    return event["respond_with"]


def _raises_marker(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError(event["respond_with"]["body"])


def _invoke_traced(
    handler_path: str, body: Callable[[dict[str, Any], Any], Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Any]:
    """The function's handler (every decorator in place) with its innermost body replaced by `body`."""
    module_name, attribute = handler_path.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), attribute)
    innermost = inspect.unwrap(handler)
    assert innermost is not handler, f"{handler_path} has no decorators: is it traced at all?"
    monkeypatch.setattr(innermost, "__code__", body.__code__)
    event = {"respond_with": {"statusCode": 200, "body": MARKER}}
    return lambda: handler(event, FakeLambdaContext())


def _run_in_segment(call: Callable[[], Any]) -> Any:
    xray_recorder.begin_segment("vidsense-test", sampling=1)
    try:
        return call()
    finally:
        xray_recorder.end_segment()


def _handler_subsegments(sent: list[str]) -> list[dict[str, Any]]:
    def walk(entity: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield entity
        for child in entity.get("subsegments", []):
            yield from walk(child)

    return [e for raw in sent for e in walk(json.loads(raw)) if str(e.get("name", "")).startswith("## ")]


def test_every_deployed_function_is_checked() -> None:
    # Given the three serverless.yml files, when their functions are listed, then all of them are (no silent skip).
    assert len(HANDLERS) >= 11
    assert {service for service, _, _ in HANDLERS} == set(SERVICES)


@pytest.mark.parametrize(("service", "function", "handler_path"), HANDLERS, ids=[f"{s}-{f}" for s, f, _ in HANDLERS])
def test_a_traced_response_is_not_recorded(
    service: str, function: str, handler_path: str, recorded_traces: CapturingEmitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's handler whose body returns a transcript and an email
    invoke = _invoke_traced(handler_path, _returns_marker, monkeypatch)
    # When it runs in a sampled trace
    response = _run_in_segment(invoke)
    # Then the caller gets the response, the handler's subsegment is recorded, and the trace holds none of it
    assert MARKER in json.dumps(response)
    assert _handler_subsegments(recorded_traces.sent), f"{function}: no handler subsegment recorded"
    assert not [raw for raw in recorded_traces.sent if "alice@example.com" in raw]


@pytest.mark.parametrize(("service", "function", "handler_path"), HANDLERS, ids=[f"{s}-{f}" for s, f, _ in HANDLERS])
def test_a_traced_exception_is_not_recorded(
    service: str, function: str, handler_path: str, recorded_traces: CapturingEmitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's handler whose body raises with a transcript and an email in the message
    invoke = _invoke_traced(handler_path, _raises_marker, monkeypatch)
    # When it runs in a sampled trace
    with pytest.raises(RuntimeError, match=re.escape(MARKER)):
        _run_in_segment(invoke)
    # Then Lambda still sees the exception, the subsegment names only its type, and the trace holds no message
    [subsegment] = _handler_subsegments(recorded_traces.sent)
    assert subsegment["annotations"]["HandlerError"] == "RuntimeError"
    assert not [raw for raw in recorded_traces.sent if "alice@example.com" in raw]
