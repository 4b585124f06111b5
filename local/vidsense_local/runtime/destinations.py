"""Where an asynchronous invocation's outcome goes once Lambda stops retrying it: the function's on-success or
on-failure destination (SQS, SNS, Lambda, EventBridge) with Lambda's invocation record, else, for a failure, its
dead-letter queue or topic with the original event."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vidsense_local.clients import local_client
from vidsense_local.discovery.model import FunctionSpec
from vidsense_local.runtime.model import InvokeResult

log = logging.getLogger(__name__)


class Destinations:
    def __init__(self, endpoint_url: str, region: str, invoke_async: Callable[[str, Any], str]) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._invoke_async = invoke_async

    def settle(self, spec: FunctionSpec, payload: bytes, result: InvokeResult, attempts: int) -> None:
        failed = result.function_error is not None
        destination = spec.on_failure_destination if failed else spec.on_success_destination
        if destination:
            self._send_to_destination(destination, destination_record(spec, payload, result, attempts), failed)
        elif failed and spec.dead_letter_target:
            self._send_to_dlq(spec.dead_letter_target, payload, result)
        elif failed:
            log.warning(
                "%s %s failed after %d attempts; no destination or DLQ, event dropped",
                spec.name,
                result.request_id,
                attempts,
            )

    def _client(self, service: str) -> Any:
        return local_client(service, self._endpoint_url, self._region)

    def _send_to_destination(self, arn: str, record: dict[str, Any], failed: bool) -> None:
        body = json.dumps(record)
        service = arn.split(":")[2]
        if service == "sqs":
            self._client("sqs").send_message(QueueUrl=self._queue_url(arn), MessageBody=body)
        elif service == "sns":
            self._client("sns").publish(TopicArn=arn, Message=body)
        elif service == "lambda":
            self._invoke_async(arn, record)
        elif service == "events":
            outcome = "Failure" if failed else "Success"
            self._client("events").put_events(
                Entries=[
                    {
                        "Source": "lambda",
                        "DetailType": f"Lambda Function Invocation Result - {outcome}",
                        "Detail": body,
                        "EventBusName": arn,
                        "Resources": [record["requestContext"]["functionArn"]],
                    }
                ]
            )
        else:
            log.error("unsupported destination %s", arn)

    def _send_to_dlq(self, arn: str, payload: bytes, result: InvokeResult) -> None:
        error = result.json() or {}
        message = str(error.get("errorMessage", ""))[:1024]
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": result.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message or "error"},
        }
        if arn.split(":")[2] == "sqs":
            self._client("sqs").send_message(
                QueueUrl=self._queue_url(arn), MessageBody=payload.decode("utf-8"), MessageAttributes=attributes
            )
        else:
            self._client("sns").publish(TopicArn=arn, Message=payload.decode("utf-8"), MessageAttributes=attributes)

    def _queue_url(self, arn: str) -> str:
        parts = arn.split(":")
        answer = self._client("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
        url: str = answer["QueueUrl"]
        return url


def destination_record(spec: FunctionSpec, payload: bytes, result: InvokeResult, attempts: int) -> dict[str, Any]:
    """Lambda's invocation record for destinations (``requestContext``/``responseContext``/payloads)."""
    failed = result.function_error is not None
    try:
        request_payload: Any = json.loads(payload)
    except ValueError:
        request_payload = payload.decode("utf-8", "replace")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if failed:
        response_context["functionError"] = result.function_error
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{spec.arn}:$LATEST",
            "condition": "RetriesExhausted" if failed else "Success",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request_payload,
        "responseContext": response_context,
        "responsePayload": result.json() if result.payload else None,
    }
