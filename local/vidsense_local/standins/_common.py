"""Plumbing shared by the stand-ins: WSGI request/response helpers, AWS error shapes, the JSON 1.1 dispatch, boto3
clients pointed at the local endpoint, the event publisher, a small worker pool and the job stand-ins' base."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from vidsense_local.clients import local_client

log = logging.getLogger("vidsense_local.standins")

JSON_11 = "application/x-amz-json-1.1"


class AwsError(Exception):
    """An error answered in AWS's JSON shape; ``code`` becomes the botocore exception class name."""

    def __init__(self, code: str, message: str, status: int = 400, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}  # modelled members of the exception, e.g. Comprehend's Reason


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    def from_environ(cls, environ: WSGIEnvironment) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "/")),
            query=parse_qs(str(environ.get("QUERY_STRING", ""))),
            headers=headers,
            body=body,
        )

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError as exc:
            raise AwsError("SerializationException", "the request body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise AwsError("SerializationException", "the request body must be a JSON object")
        return data


def respond(
    start_response: StartResponse, status: int, body: Any, content_type: str, extra: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    payload = json.dumps(body, default=_json_default).encode()
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
        *extra,
    ]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [payload]


def serve_json11(
    environ: WSGIEnvironment,
    start_response: StartResponse,
    *,
    target_prefix: str,
    operations: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]],
    service: str,
) -> list[bytes]:
    """A JSON 1.1 service's answer: ``X-Amz-Target: <target_prefix><Operation>`` picks the operation."""
    request = Request.from_environ(environ)
    target = request.headers.get("x-amz-target", "")
    operation = target[len(target_prefix) :] if target.startswith(target_prefix) else ""
    try:
        if operation not in operations:
            raise AwsError("UnknownOperationException", f"the local {service} stand-in has no {target!r}")
        body = operations[operation](request.json())
    except AwsError as error:
        return respond_error(start_response, error, rest_json=False)
    return respond(start_response, 200, body, JSON_11)


def respond_error(start_response: StartResponse, error: AwsError, *, rest_json: bool) -> list[bytes]:
    """JSON 1.1 services read ``__type``; rest-json ones the ``x-amzn-ErrorType`` header. Send both, as AWS does
    for several services, so either parser finds the code. ``message`` and ``Message`` both, for the same reason
    (MediaConvert's model names the member ``message``, Transcribe and Comprehend ``Message``)."""
    body = {**error.fields, "__type": error.code, "message": error.message, "Message": error.message}
    content_type = "application/json" if rest_json else JSON_11
    return respond(start_response, error.status, body, content_type, [("x-amzn-ErrorType", error.code)])


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def now() -> datetime:
    return datetime.now(UTC)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key); ValueError otherwise."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key:
        raise ValueError(f"an s3:// URI needs a bucket and a key: {uri}")
    return bucket, key


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message, 400)


def s3_uri_member(value: Any, where: str) -> str:
    """A request member that must be an ``s3://bucket/key`` URI, or the BadRequestException naming it."""
    if not isinstance(value, str):
        raise bad_request(f"{where} is required")
    try:
        parse_s3_uri(value)
    except ValueError as exc:
        raise bad_request(f"{where}: {exc}") from exc
    return value


@dataclass(frozen=True)
class AwsTarget:
    """Where the stand-ins read and write: the local endpoint (moto behind it)."""

    endpoint_url: str
    region: str
    account_id: str

    def client(self, service: str) -> Any:
        return local_client(
            service, self.endpoint_url, self.region, access_key="vidsense-local-standin", retries=3, path_style=True
        )


class EventSink(Protocol):
    def __call__(
        self, source: str, detail_type: str, detail: dict[str, Any], resources: list[str] | None = None
    ) -> None: ...


class FaultHook(Protocol):
    """Optional test hook (``set_fault_hook``, installed by ``vidsense_local.faults``): asked once per job run,
    it returns ``(code, message)`` when the job must end with ``effect`` instead of its real outcome."""

    def __call__(self, service: str, effect: str) -> tuple[str, str] | None: ...


class EventPublisher:
    """Publishes AWS service events on the default bus: ``put_events`` through the endpoint unless the edge
    installed a sink (``set_event_sink``) that writes to moto's backend directly."""

    def __init__(self, target: AwsTarget) -> None:
        self._target = target
        self._sink: EventSink | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    def set_sink(self, sink: EventSink | None) -> None:
        self._sink = sink

    def publish(self, source: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        sink = self._sink
        if sink is not None:
            sink(source, detail_type, detail, resources=resources)
            return
        with self._lock:
            if self._client is None:
                self._client = self._target.client("events")
        answer = self._client.put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "Resources": resources,
                    "EventBusName": "default",
                    "Time": now(),
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"put_events refused {detail_type}: {answer['Entries']}")


class WorkerPool:
    """``size`` daemon threads running submitted jobs off the request threads. ``stop`` returns within
    ``timeout`` seconds: a job in the middle of an engine call finishes on its own thread (daemon)."""

    def __init__(self, name: str, size: int) -> None:
        self._name = name
        self._size = max(1, size)
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()

    def start(self) -> None:
        if self._threads:
            return
        self.stopping.clear()
        for i in range(self._size):
            thread = threading.Thread(target=self._run, name=f"{self._name}-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, job: Callable[[], None]) -> None:
        self._queue.put(job)

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self.stopping.is_set():
                return
            try:
                job()
            except Exception:  # a job reports its own failures; this only keeps the worker alive
                log.exception("%s job crashed", self._name)

    def stop(self, timeout: float = 1.5) -> None:
        self.stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        # Jobs still queued are dropped: their state stays SUBMITTED/QUEUED, as after a crash.
        while not self._queue.empty():
            self._queue.get_nowait()


@dataclass
class JobPhases:
    """Wall-clock seconds of one job's phases, in order (``mark`` ends the phase running since the last mark)."""

    seconds: dict[str, float] = field(default_factory=dict)
    _at: float = field(default_factory=time.perf_counter)

    def mark(self, phase: str) -> None:
        at = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + at - self._at
        self._at = at

    def add(self, phase: str, seconds: float) -> None:
        """A part measured elsewhere (the engine's own decode and model seconds, inside a marked phase)."""
        self.seconds[phase] = seconds


class JobStandIn:
    """What the stand-ins that run jobs in the background (MediaConvert, Transcribe) share: the local endpoint, the
    event publisher, the worker pool, the lock over the jobs, one S3 client, the fault hook, the engine seconds
    per job and the job log (each job's phases, for the benchmark)."""

    signing_names: tuple[str, ...] = ()

    def __init__(self, target: AwsTarget, workers: int) -> None:
        self._target = target
        self._events = EventPublisher(target)
        self._pool = WorkerPool(self.signing_names[0], workers)
        self._lock = threading.Lock()
        self._s3: Any = None
        self._fault_hook: FaultHook | None = None
        self.compute_seconds: dict[str, float] = {}
        self._job_log: Path | None = None

    def set_job_log(self, path: Path | None) -> None:
        """Append one JSON line per finished job to ``path``: ``{"service", "job", "finished", "seconds": {phase:
        wall-clock seconds}}`` (``make bench-local`` splits the job rows of its table with it)."""
        self._job_log = path

    def _record(self, job: str, phases: JobPhases) -> None:
        if self._job_log is None:
            return
        line = {"service": self.signing_names[0], "job": job, "finished": time.time(), "seconds": phases.seconds}
        try:
            with self._job_log.open("a") as handle:
                handle.write(json.dumps(line) + "\n")
        except OSError:
            log.warning("could not write the job log %s", self._job_log, exc_info=True)

    def set_event_sink(self, sink: EventSink | None) -> None:
        self._events.set_sink(sink)

    def set_fault_hook(self, hook: FaultHook | None) -> None:
        self._fault_hook = hook

    def _injected(self, effect: str) -> tuple[str, str] | None:
        return self._fault_hook(self.signing_names[0], effect) if self._fault_hook is not None else None

    def start(self) -> None:
        self._pool.start()

    def stop(self) -> None:
        self._pool.stop()

    def _s3_client(self) -> Any:
        with self._lock:
            if self._s3 is None:
                self._s3 = self._target.client("s3")
            return self._s3
