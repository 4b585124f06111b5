"""What every Lambda handler shares: one decorator stack (logging context, metrics and, where tracing is on,
tracing) and the metric-naming rule. Handlers of domain events receive them with vidsense_shared.consume.receive.

    @lambda_handler()
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
        delivery = receive(event, VideoUploaded)
        ...

Metric names are PascalCase `<Subject><Outcome>`, the outcome a past participle where it can be (`UploadPresigned`,
`AnswerErased`, `TranscodeStarted`): literals, an OUTCOME_METRICS map where outcomes share a name, or
`metric_name(subject, outcome)` for a use case's snake_case outcome values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from vidsense_shared import observability
from vidsense_shared.lifetime import keep_for_process_life
from vidsense_shared.observability import logger, metrics


def lambda_handler[HandlerT: Callable[..., Any]](
    *, correlation_id_path: str | None = None
) -> Callable[[HandlerT], HandlerT]:
    """Log with the Lambda context (keys of the previous invocation cleared, never the whole event: events carry
    tokens, emails, uploaders' IP addresses and transcripts, whatever POWERTOOLS_LOGGER_LOG_EVENT says), flush
    the metrics after each invocation and, only where tracing is on, trace without recording what the handler
    returns or raises. Elsewhere (tests, the local stack) the X-Ray SDK is never imported."""

    def decorate(handler: HandlerT) -> HandlerT:
        # The handler module's imports are done, and then the Tracer's (the X-Ray SDK): what they built stays for
        # the process's life. Frozen before the Tracer too: a full collection often comes while the SDK loads.
        keep_for_process_life()
        measured = metrics.log_metrics(handler)
        traced = trace_handler(measured) if observability.tracing_on() else measured
        decorated = logger.inject_lambda_context(
            traced, correlation_id_path=correlation_id_path, log_event=False, clear_state=True
        )
        keep_for_process_life()
        return cast(HandlerT, decorated)

    return decorate


class _Escaped:
    """An exception carried out of the traced subsegment, to be raised again outside it."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def trace_handler[HandlerT: Callable[..., Any]](handler: HandlerT) -> HandlerT:
    """Trace a Lambda handler in X-Ray without recording what it returns or raises.

    Responses and exception messages can carry transcripts, emails and presigned upload forms, and X-Ray keeps
    traces where an erasure cannot reach them. Powertools records neither with capture_response/capture_error
    off, but the X-Ray SDK would still store the message of an exception that leaves the subsegment: the
    exception leaves it as a return value (the subsegment gets its type name only) and is raised again outside.
    """
    tracer = observability.tracer()

    def contained(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        except Exception as error:
            tracer.put_annotation(key="HandlerError", value=type(error).__name__)
            return _Escaped(error)

    contained.__name__ = handler.__name__
    traced = tracer.capture_lambda_handler(contained, capture_response=False, capture_error=False)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        result = traced(event, context)
        if isinstance(result, _Escaped):
            raise result.error
        return result

    return cast(HandlerT, run)


def metric_name(subject: str, outcome: str) -> str:
    """The metric counting one outcome of a use case: `metric_name("Transcode", "already_started")` is
    `TranscodeAlreadyStarted`."""
    return subject + "".join(word.capitalize() for word in outcome.split("_"))
