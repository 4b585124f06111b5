"""``FunctionRuntime``: invoke the deployed functions locally, synchronously or with Lambda's async semantics
(retries with their delays and age limit; the outcome then goes to ``destinations``)."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vidsense_local.clients import LOCAL_ACCOUNT_ID, LOCAL_REGION, aws_environment
from vidsense_local.discovery import apply_skipped, discover
from vidsense_local.discovery.model import Deployment, FunctionSpec, HttpRoute, RuleTarget, function_name_from_arn
from vidsense_local.paths import REPO_ROOT
from vidsense_local.runtime.destinations import Destinations
from vidsense_local.runtime.logs import LogShipper, log_to_logger
from vidsense_local.runtime.model import InvokeResult, UnknownFunctionError
from vidsense_local.runtime.scheduler import Scheduler, scheduled_event
from vidsense_local.runtime.worker import FunctionPool, LogSink, Worker, WorkerDied

# The functions run from source with the .venv's packages, never from the deployed zip: it holds their code only,
# Powertools and pydantic coming from the Powertools layer in AWS (requirements/lambda.txt). These paths come after
# ``extra_pythonpath``, where ``make up`` puts the same paths in the private copy of the tree it deployed.
SOURCE_PATHS = (
    REPO_ROOT / "shared",
    REPO_ROOT / "services" / "ingest" / "src",
    REPO_ROOT / "services" / "transcode" / "src",
    REPO_ROOT / "services" / "nlp" / "src",
)

log = logging.getLogger(__name__)


class FunctionRuntime:
    """Runs deployed Lambda functions in local worker processes (see the package docstring)."""

    def __init__(
        self,
        endpoint_url: str,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
        *,
        extra_pythonpath: Iterable[str | Path] = (),
        max_concurrency: int = 4,
        retry_delays: Sequence[float] = (1.0, 2.0),
        log_sink: LogSink | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.account_id = account_id
        self.pythonpath = [str(p) for p in extra_pythonpath] + [str(p) for p in SOURCE_PATHS]
        self.max_concurrency = max_concurrency
        # AWS waits about 1 and 2 minutes between async retries; locally seconds keep the same order.
        self.retry_delays = tuple(retry_delays) or (1.0,)
        self.log_sink = log_sink or log_to_logger
        self._lock = threading.RLock()
        self._deployment = Deployment()
        self._pools: dict[str, FunctionPool] = {}
        self._executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="lambda-async")
        self._pending = 0
        self._pending_cond = threading.Condition()
        self._timers: set[threading.Timer] = set()
        self._stopped = False
        self._log_shipper = LogShipper(endpoint_url, region)
        self._destinations = Destinations(endpoint_url, region, self.invoke_async)
        self._scheduler = Scheduler(self._fire_schedule)

    # -- discovery -------------------------------------------------------------------------------------
    def refresh(self) -> Deployment:
        """Re-read functions and triggers from the local AWS; new configurations get fresh workers."""
        deployment = discover(self.endpoint_url, self.region, self.account_id)
        apply_skipped(deployment, self.endpoint_url, self.region)
        self._scheduler.set_rules(deployment.rule_targets)
        with self._lock:
            self._deployment = deployment
            retired = [
                self._pools.pop(name)
                for name, pool in list(self._pools.items())
                if deployment.functions.get(name) != pool.spec
            ]
        for pool in retired:
            _reap(pool.close(), time.monotonic() + 2.0)
        log.info("runtime: %d functions discovered", len(deployment.functions))
        return deployment

    @property
    def deployment(self) -> Deployment:
        return self._deployment

    def functions(self) -> list[FunctionSpec]:
        return sorted(self._deployment.functions.values(), key=lambda f: f.name)

    def fire_schedule(self, rule_name: str) -> list[str]:
        """Fire a scheduled rule now (as EventBridge would at its next period); returns the request ids."""
        targets = [t for t in self._deployment.rule_targets if t.rule == rule_name and t.schedule_expression]
        if not targets:
            raise LookupError(f"no scheduled rule {rule_name} with a Lambda target")
        return [self.invoke_async(t.function_arn, scheduled_event(t, self.account_id, self.region)) for t in targets]

    def _fire_schedule(self, target: RuleTarget) -> None:
        self.invoke_async(target.function_arn, scheduled_event(target, self.account_id, self.region))

    def http_routes(self) -> list[HttpRoute]:
        return list(self._deployment.http_api.routes)

    def spec(self, function_name_or_arn: str) -> FunctionSpec:
        name = function_name_from_arn(function_name_or_arn)
        spec = self._deployment.functions.get(name)
        if spec is None:
            # Deployed after the last refresh (e.g. `aws lambda create-function`): look again once.
            self.refresh()
            spec = self._deployment.functions.get(name)
        if spec is None:
            raise UnknownFunctionError(
                f"Function not found: arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
            )
        return spec

    # -- invocation ------------------------------------------------------------------------------------
    def invoke(
        self, function_name_or_arn: str, payload: Any = None, invocation_type: str = "RequestResponse"
    ) -> InvokeResult:
        """``RequestResponse`` runs now and returns the result; ``Event`` queues (status 202, empty payload)."""
        if invocation_type == "Event":
            self.spec(function_name_or_arn)  # unknown functions fail now, as Lambda's Invoke does
            request_id = self.invoke_async(function_name_or_arn, payload)
            return InvokeResult(function_name_from_arn(function_name_or_arn), request_id, b"", status_code=202)
        if invocation_type == "DryRun":
            self.spec(function_name_or_arn)
            return InvokeResult(function_name_from_arn(function_name_or_arn), str(uuid.uuid4()), b"", status_code=204)
        return self.invoke_raw(function_name_or_arn, _encode(payload))

    def invoke_raw(self, function_name_or_arn: str, payload: bytes, request_id: str | None = None) -> InvokeResult:
        spec = self.spec(function_name_or_arn)
        request_id = request_id or str(uuid.uuid4())
        for _ in range(3):
            pool = self._pool(spec)
            try:
                worker = pool.acquire()
                break
            except WorkerDied:
                # The pool was retired by a refresh between lookup and acquire: take the new one.
                if self._stopped:
                    raise
                spec = self.spec(spec.name)
        else:
            raise WorkerDied(f"{spec.name}: no execution environment")
        try:
            if worker.init_error is not None:
                result = worker.init_failure(request_id)
            else:
                result = worker.invoke(request_id, payload, spec.arn)
        finally:
            pool.release(worker)
        if result.logs:
            self._log_shipper.ship(spec.name, worker.log_stream, result.logs)
        return result

    def prewarm(self, function_names: Iterable[str]) -> dict[str, float | None]:
        """Start one warm execution environment per function, in parallel, as provisioned concurrency would.

        Returns each function's init duration in ms (None: it had one already, or its init failed; the failure is
        logged and reported again by the first invocation, as Lambda does)."""
        names = sorted(set(function_names))

        def warm(name: str) -> float | None:
            try:
                worker = self._pool(self.spec(name)).prewarm()
            except Exception:
                log.warning("could not prewarm %s", name, exc_info=True)
                return None
            if worker is None or worker.init_error is not None:
                return None
            return worker.init_ms

        if not names:
            return {}
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="lambda-prewarm") as pool:
            return dict(zip(names, pool.map(warm, names), strict=True))

    def _pool(self, spec: FunctionSpec) -> FunctionPool:
        with self._lock:
            if self._stopped:
                raise WorkerDied("runtime stopped")
            pool = self._pools.get(spec.name)
            if pool is None:
                pool = FunctionPool(spec, self._start_worker, self.max_concurrency)
                self._pools[spec.name] = pool
            return pool

    def _start_worker(self, spec: FunctionSpec) -> Worker:
        return Worker(spec, self.worker_environment(spec), sys.executable, str(REPO_ROOT), self.log_sink)

    def worker_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The deployed environment plus what Lambda itself sets and the local endpoint/credentials."""
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env = dict(spec.environment)
        env.update(
            {
                "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
                "LANG": "C.UTF-8",
                "TZ": ":UTC",
                "PYTHONPATH": os.pathsep.join(self.pythonpath),
                "PYTHONUNBUFFERED": "1",
                "_HANDLER": spec.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime or 'python3.12'}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                **aws_environment(self.endpoint_url, self.region),
                # A developer's own ~/.aws profile must not leak into the functions.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        # No LAMBDA_TASK_ROOT: Powertools then disables X-Ray tracing, as there is no X-Ray daemon locally.
        return env

    # -- asynchronous invocation ----------------------------------------------------------------------
    def invoke_async(self, function_name_or_arn: str, payload: Any = None) -> str:
        """Queue an ``Event`` invocation; returns its request id. Retries, then destination or DLQ."""
        request_id = str(uuid.uuid4())
        with self._pending_cond:
            self._pending += 1
        self._submit(function_name_or_arn, _encode(payload), request_id, 1, time.monotonic())
        return request_id

    def _submit(self, fn: str, payload: bytes, request_id: str, attempt: int, queued_at: float) -> None:
        try:
            self._executor.submit(self._run_async, fn, payload, request_id, attempt, queued_at)
        except RuntimeError:  # executor shut down
            self._done()

    def _run_async(self, fn: str, payload: bytes, request_id: str, attempt: int, queued_at: float) -> None:
        try:
            spec = self.spec(fn)
        except UnknownFunctionError:
            log.error("async invoke of unknown function %s dropped", fn)
            self._done()
            return
        except Exception:
            log.exception("async invoke of %s: discovery failed", fn)
            self._done()
            return
        try:
            result = self.invoke_raw(fn, payload, request_id)
        except WorkerDied as exc:
            if self._stopped:
                self._done()
                return
            err = {"errorType": "Runtime.ExitError", "errorMessage": str(exc)}
            result = InvokeResult(spec.name, request_id, json.dumps(err).encode(), "Unhandled")
        retries = spec.maximum_retry_attempts
        if result.function_error is not None and attempt <= retries and not self._stopped:
            age = time.monotonic() - queued_at
            delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
            if age + delay <= spec.maximum_event_age_seconds:
                log.info("%s %s failed (attempt %d), retrying in %.1fs", spec.name, request_id, attempt, delay)
                timer = threading.Timer(delay, self._retry, (fn, payload, request_id, attempt + 1, queued_at))
                timer.daemon = True
                with self._lock:
                    self._timers.add(timer)
                timer.start()
                return
        try:
            self._destinations.settle(spec, payload, result, attempt)
        except Exception:
            log.exception("%s %s: could not deliver the invocation record", spec.name, request_id)
        finally:
            self._done()

    def _retry(self, fn: str, payload: bytes, request_id: str, attempt: int, queued_at: float) -> None:
        with self._lock:
            self._timers.difference_update({t for t in self._timers if not t.is_alive()})
        if self._stopped:
            self._done()
            return
        self._submit(fn, payload, request_id, attempt, queued_at)

    def _done(self) -> None:
        with self._pending_cond:
            self._pending -= 1
            self._pending_cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once no asynchronous invocation is queued, running or waiting for a retry."""
        deadline = time.monotonic() + timeout
        with self._pending_cond:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._pending_cond.wait(remaining)
        return True

    def worker_pids(self) -> dict[str, list[int]]:
        with self._lock:
            return {name: pool.pids() for name, pool in self._pools.items()}

    def stop(self) -> None:
        """Stop retries, queued invocations and every worker process."""
        with self._lock:
            self._stopped = True
            timers, self._timers = self._timers, set()
            pools, self._pools = list(self._pools.values()), {}
        self._scheduler.stop()
        for timer in timers:
            timer.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._log_shipper.stop()
        # All pools at once so stopping takes one grace period, not one per worker.
        idle = [worker for pool in pools for worker in pool.close()]
        _reap(idle, time.monotonic() + 2.0)


def _reap(workers: list[Worker], deadline: float) -> None:
    for worker in workers:
        worker.wait_stopped(deadline)


def _encode(payload: Any) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return json.dumps({} if payload is None else payload).encode()
