"""Events read back from a queue the bus delivers to: a service's integration tests route its source there
(``capture_service``), the replay tests their rules' targets; ``drain`` reads the queue empty."""

from __future__ import annotations

import json
from typing import Any


def capture_service(events: Any, sqs: Any, *, bus: str, service: str, queue_url: str) -> None:
    """Route every event ``service`` puts on ``bus`` to the queue at ``queue_url`` (rule ``capture-<service>``,
    target ``q``)."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"capture-{service}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": [f"vidsense.{service}"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every event delivered to the queue since the last drain, removed from it."""
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
