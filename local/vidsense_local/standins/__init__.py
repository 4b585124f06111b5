"""Stand-ins that speak the AWS wire protocol for the services moto lacks or fakes: MediaConvert, Transcribe and
Comprehend. The edge (``vidsense_local.edge``) routes a request here when the service of its SigV4 credential
scope (``Credential=<key>/<date>/<region>/<service>/aws4_request``) is one of a stand-in's ``signing_names``.

Interface agreed with the edge:

``class StandIn(Protocol)``
    ``signing_names: tuple[str, ...]`` - ``("mediaconvert",)``, ``("transcribe",)``, ``("comprehend",)``.
    ``__call__(environ, start_response)`` - a WSGI app answering the service's wire protocol: MediaConvert is
    rest-json under ``/2017-08-29/...``; Transcribe and Comprehend are JSON 1.1 with ``X-Amz-Target``. Errors
    use AWS's JSON error shape (``__type`` and the ``x-amzn-ErrorType`` header, ``message``/``Message``) so
    botocore raises the modelled exception classes.
    ``start()`` / ``stop()`` - background workers; ``stop`` returns within 2 s.
    ``set_event_sink(sink)`` (optional hook) - by default the stand-ins publish AWS state-change events on the
    *default* bus with ``put_events`` through ``aws_endpoint_url`` (moto accepts ``aws.*`` sources there); an
    edge may install ``sink(source, detail_type, detail, resources=[...])`` to put them on the bus itself.

``build_standins(aws_endpoint_url, region, account_id, *, transcribe_concurrency=None) -> list[StandIn]``
    ``transcribe_concurrency``: the local Transcribe's concurrent-job quota; None reads
    ``VIDSENSE_TRANSCRIBE_MAX_CONCURRENT`` (default 2).
    ``job_log``: where the MediaConvert and Transcribe stand-ins append each finished job's phases (JSON lines;
    ``make up`` writes ``.local/jobs.log``, which ``make bench-local`` reads).
    The stand-ins use plain boto3 clients pointed at ``aws_endpoint_url`` (the local endpoint, moto behind it)
    to read inputs from S3 and write outputs to S3. Engines: ``vidsense_local.engines``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol
from wsgiref.types import StartResponse, WSGIEnvironment

from vidsense_local.standins._common import AwsTarget, EventSink
from vidsense_local.standins.comprehend import ComprehendStandIn
from vidsense_local.standins.mediaconvert import MediaConvertStandIn
from vidsense_local.standins.transcribe import TranscribeStandIn, max_concurrent_from_env

__all__ = [
    "ComprehendStandIn",
    "EventSink",
    "MediaConvertStandIn",
    "StandIn",
    "TranscribeStandIn",
    "build_standins",
]


class StandIn(Protocol):
    signing_names: tuple[str, ...]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


def build_standins(
    aws_endpoint_url: str,
    region: str,
    account_id: str,
    *,
    transcribe_concurrency: int | None = None,
    job_log: Path | None = None,
    **_: Any,
) -> list[StandIn]:
    target = AwsTarget(aws_endpoint_url.rstrip("/"), region, account_id)
    concurrency = max_concurrent_from_env() if transcribe_concurrency is None else transcribe_concurrency
    mediaconvert, transcribe = MediaConvertStandIn(target), TranscribeStandIn(target, concurrency=concurrency)
    mediaconvert.set_job_log(job_log)
    transcribe.set_job_log(job_log)
    return [mediaconvert, transcribe, ComprehendStandIn()]
