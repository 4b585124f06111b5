"""In-process delivery for what moto cannot deliver without Docker, by patching moto at the narrowest points.

moto 5.2 delivers EventBridge rule targets, SNS subscriptions and S3 notifications itself, but its Lambda
invocation needs Docker, and an EventBridge rule with a Lambda or SNS target raises ``NotImplementedError``
(``put_events`` answers 500). While installed, these patches hand those deliveries to the local runtime as
asynchronous invocations carrying the event shapes AWS sends:

- ``moto.events.models.Rule.send_to_targets``: Lambda and SNS targets handled here (EventBridge event with
  ISO ``time`` and ``replay-name`` for replays; SNS gets the event JSON as the message); the other targets
  (SQS, archives, logs, buses) still go to moto's own code.
- ``moto.sns.models.Subscription.publish``: protocol ``lambda`` builds the ``Records[].Sns`` event (filter
  policies applied as moto does); other protocols unchanged.
- ``moto.s3.notifications._invoke_awslambda``: async invoke instead of moto's Docker invoke;
  ``moto.s3.notifications._get_s3_event`` adds what AWS's records carry and moto leaves out (``versionId``,
  ``sequencer``, ``userIdentity``, request/response fields).
- ``moto.s3.notifications.send_event``: inside ``notifications_after_request()`` (the edge wraps every request
  to moto in it) an object's notifications leave once the request that stored it was answered.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from jsonpath_ng.ext.parser import parse as jsonpath_parse
from moto.events import models as events_models
from moto.events.utils import EventTemplateParser
from moto.s3 import notifications as s3_notifications
from moto.sns import models as sns_models

from vidsense_local.patches import replay as replay_patch

log = logging.getLogger(__name__)


class AsyncInvoker(Protocol):
    def invoke_async(self, function_name_or_arn: str, payload: Any = None) -> str: ...


class _State:
    invoker: AsyncInvoker | None = None
    edge_url = "http://127.0.0.1:4566"


_lock = threading.Lock()
_state = _State()
_originals: dict[str, Any] = {}
# The S3 notifications a request thread holds back until moto has answered its request (notifications_after_request).
_request = threading.local()


def install(invoker: AsyncInvoker, edge_url: str) -> None:
    """Route moto's Lambda/SNS deliveries to ``invoker``; one edge per process owns the hooks."""
    with _lock:
        if _state.invoker is not None:
            raise RuntimeError("delivery hooks are already installed by another edge in this process")
        _state.invoker = invoker
        _state.edge_url = edge_url
        _originals.update(
            send_to_targets=events_models.Rule.send_to_targets,
            sns_publish=sns_models.Subscription.publish,
            invoke_awslambda=s3_notifications._invoke_awslambda,
            get_s3_event=s3_notifications._get_s3_event,
            s3_send_event=s3_notifications.send_event,
        )
        events_models.Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
        sns_models.Subscription.publish = _sns_publish  # type: ignore[method-assign]
        s3_notifications._invoke_awslambda = _s3_invoke_lambda
        s3_notifications._get_s3_event = _s3_event
        s3_notifications.send_event = _s3_send_event
        # Replays honour their time window and rule filter as in AWS (moto ignores both); idempotent, kept.
        replay_patch.install()


def uninstall() -> None:
    with _lock:
        if _state.invoker is None:
            return
        events_models.Rule.send_to_targets = _originals["send_to_targets"]  # type: ignore[method-assign]
        sns_models.Subscription.publish = _originals["sns_publish"]  # type: ignore[method-assign]
        s3_notifications._invoke_awslambda = _originals["invoke_awslambda"]
        s3_notifications._get_s3_event = _originals["get_s3_event"]
        s3_notifications.send_event = _originals["s3_send_event"]
        _originals.clear()
        _state.invoker = None


def _invoke(function_arn: str, payload: dict[str, Any]) -> None:
    invoker = _state.invoker
    if invoker is None:
        log.error("no runtime for %s; event dropped", function_arn)
        return
    invoker.invoke_async(function_arn, payload)


def _iso(value: Any) -> str:
    """EventBridge's ``time``: moto keeps epoch seconds (or a string once an SQS target converted it)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def eventbridge_event(original: dict[str, Any]) -> dict[str, Any]:
    """The event as AWS hands it to targets (moto's internal ``ingestion-time`` removed)."""
    event: dict[str, Any] = {
        "version": original.get("version", "0"),
        "id": original["id"],
        "detail-type": original["detail-type"],
        "source": original["source"],
        "account": original["account"],
        "time": _iso(original.get("time")),
        "region": original["region"],
        "resources": list(original.get("resources", [])),
        "detail": copy.deepcopy(original.get("detail", {})),
    }
    if "replay-name" in original:
        event["replay-name"] = original["replay-name"]
    return event


def _target_input(target: dict[str, Any], event: dict[str, Any], original: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        with_ingestion = dict(event, **{"ingestion-time": original.get("ingestion-time", 0)})
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=with_ingestion,  # type: ignore[arg-type]
        )
    if "InputPath" in target:
        matches = jsonpath_parse(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    return event


def _is_ours(target: dict[str, Any]) -> bool:
    service = str(target.get("Arn", "")).split(":")[2:3]
    return service in (["lambda"], ["sns"])


def _send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    if getattr(self, "scheduled_expression", None) and not self.event_pattern.get_pattern():
        # A schedule-only rule fires on its schedule (runtime/scheduler.py), never on events: moto's empty
        # pattern would match every event on its bus (the reconciler ran on each stand-in state change).
        return
    if not self.event_pattern.matches_event(original_event):
        return
    ours = [t for t in self.targets if _is_ours(t)]
    if ours:
        # Built before moto's SQS delivery, which rewrites the shared event's ``time`` in place.
        event = eventbridge_event(original_event)
        for target in ours:
            payload = _target_input(target, event, original_event) if transform_input else event
            arn = str(target["Arn"])
            try:
                if arn.split(":")[2] == "lambda":
                    _invoke(arn, payload)
                else:
                    backend = sns_models.sns_backends[arn.split(":")[4]][arn.split(":")[3]]
                    message = payload if isinstance(payload, str) else json.dumps(payload)
                    backend.publish(message=message, arn=arn)
            except Exception:
                # EventBridge delivery is asynchronous: one bad target must not fail put_events.
                log.exception("rule %s: delivery to %s failed", self.name, arn)
    others = [t for t in self.targets if not _is_ours(t)]
    if not others:
        return
    if ours:
        shadow = copy.copy(self)
        shadow.targets = others
        _originals["send_to_targets"](shadow, original_event, transform_input)
    else:
        _originals["send_to_targets"](self, original_event, transform_input)


def _sns_publish(  # noqa: PLR0917 - mirrors moto's Subscription.publish, which it replaces
    self: Any,
    message: str,
    message_id: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    message_structure: str | None = None,
) -> None:
    if self.protocol != "lambda":
        _originals["sns_publish"](
            self, message, message_id, subject, message_attributes, group_id, deduplication_id, message_structure
        )
        return
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    topic_arn = self.topic.arn
    record = {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": self.arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "SignatureVersion": "1",
            "Signature": "bG9jYWw=",  # not verifiable locally; consumers of Lambda events do not check it
            "SigningCertUrl": f"{_state.edge_url}/SimpleNotificationService-local.pem",
            "UnsubscribeUrl": f"{_state.edge_url}/?Action=Unsubscribe&SubscriptionArn={self.arn}",
            "MessageAttributes": {
                name: {"Type": attr.get("Type", "String"), "Value": attr.get("Value")}
                for name, attr in (message_attributes or {}).items()
            },
        },
    }
    _invoke(self.endpoint, {"Records": [record]})


@contextmanager
def notifications_after_request() -> Iterator[None]:
    """Hold the S3 notifications raised on this thread until the block ends: wraps moto serving one request.

    moto stores a PUT or POSTed object and announces it (``put_object``) before it sets the request's metadata on
    it (Content-Type, ``x-amz-meta-*``): a function quick enough to HEAD the version in between read
    ``binary/octet-stream``, and uploadLanded rejected a valid video under load. S3 announces an object whole."""
    held: list[tuple[Any, ...]] = []
    _request.held = held
    try:
        yield
    finally:
        _request.held = None
        send = _originals.get("s3_send_event", s3_notifications.send_event)  # moto's own once uninstalled
        for args in held:
            try:
                send(*args)
            except Exception:
                # The object is stored and the request answered: a failed notification must not fail it.
                log.exception("s3 notification for %s failed", getattr(args[3], "name", "?"))


def _s3_send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    held: list[tuple[Any, ...]] | None = getattr(_request, "held", None)
    if held is not None:
        held.append((account_id, event_name, bucket, key))
        return
    _originals["s3_send_event"](account_id, event_name, bucket, key)


def _s3_invoke_lambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    try:
        _invoke(fn_arn, event_body)
    except Exception:
        log.exception("s3 notification to %s failed", fn_arn)


def _s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
    body: dict[str, list[dict[str, Any]]] = _originals["get_s3_event"](event_name, bucket, key, notification_id)
    for record in body["Records"]:
        record["userIdentity"] = {"principalId": "AWS:LOCAL"}
        record["requestParameters"] = {"sourceIPAddress": "127.0.0.1"}
        record["responseElements"] = {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": "local"}
        record["s3"]["bucket"]["ownerIdentity"] = {"principalId": "LOCAL"}
        obj = record["s3"]["object"]
        version = getattr(key, "version_id", None)
        if version and version != "null":
            obj["versionId"] = version
        obj["sequencer"] = f"{int(datetime.now(UTC).timestamp() * 1e9):X}"
    return body


EventSink = Callable[..., None]


def event_sink(account_id: str, region: str) -> EventSink:
    """For stand-ins: put an event on the default bus directly (moto's API refuses ``aws.*`` sources)."""

    def put(source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> None:
        backend = events_models.events_backends[account_id][region]
        entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": "default"}
        if resources:
            entry["Resources"] = resources  # type: ignore[assignment]
        result = backend.put_events([entry])
        if result and "ErrorCode" in result[0]:
            raise ValueError(f"put_events refused the event: {result[0]}")

    return put
