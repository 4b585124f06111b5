"""Local Lambda runtime: runs the deployed functions from source (not their zip), one worker process each.

Public API (used by the edge, the HTTP API gateway and the orchestration)::

    rt = FunctionRuntime("http://127.0.0.1:4566", region="us-east-1", account_id="123456789012",
                         extra_pythonpath=(), max_concurrency=4, retry_delays=(1.0, 2.0), log_sink=None)
    rt.refresh()                      # (re)discover functions + triggers from what is deployed in moto, and
                                      # create what moto's CloudFormation skipped (SNS subscriptions, S3 bucket
                                      # notifications, SQS queue policies); returns the Deployment
    rt.functions()                    # list[FunctionSpec]: name, arn, handler, environment, timeout, DLQ, ...
    rt.deployment.triggers_of(name)   # ["http GET /x", "rule bus/rule", "sns arn", "s3 bucket events", ...]
    res = rt.invoke("vidsense-local-api", {"rawPath": "/"})   # RequestResponse -> InvokeResult
    res.payload / res.json() / res.function_error / res.logs / res.cold_start / res.worker_pid
    rt.invoke("fn", payload, invocation_type="Event")   # queued (status 202); same as rt.invoke_async
    rt.invoke_async("fn", payload)    # Lambda async semantics: retries (MaximumRetryAttempts, default 2; local
                                      # delays retry_delays), then the on-failure destination or the function DLQ
    rt.wait_idle(timeout=30.0)        # True once no async invocation is queued, running or waiting to retry
    rt.http_routes()                  # list[HttpRoute] read from the deployed stack templates (ApiGatewayV2)
    rt.fire_schedule("rule-name")     # fire a scheduled rule now (rate() rules also fire on their own)
    rt.worker_pids()                  # {function: [pid, ...]} of live execution environments
    rt.prewarm(["fn", ...])           # one warm execution environment per function now (init phase ahead of
                                      # the first request); {function: init ms or None}
    rt.stop()                         # kills busy workers, ends idle ones; returns within about 2 s

Each function runs in its own worker processes (``_bootstrap.py``: the .venv Python, ``PYTHONPATH`` =
``extra_pythonpath`` + the repository's shared + services/*/src; ``make up`` puts the copy it deployed first),
started on first use (or by ``prewarm``) and kept warm, up to ``max_concurrency`` at once.
The worker's environment is exactly the deployed ``Environment.Variables`` plus what Lambda sets
(``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_REGION``, ...), ``AWS_ENDPOINT_URL`` (the edge) and fake credentials.
Function logs go to ``log_sink(function, line)`` (default: logger ``vidsense_local.functions.<name>``), into
``InvokeResult.logs``, and to CloudWatch Logs ``/aws/lambda/<name>`` on the local endpoint.

Functions are discovered only from the local AWS endpoint (Lambda ``ListFunctions`` and the CloudFormation
stack templates written by ``serverless deploy --stage local``), never from a hand-written list. moto drops a
function's ``DeadLetterConfig`` and has no CloudFormation ``EventInvokeConfig``: both are read from the templates.
"""

from vidsense_local.runtime.core import FunctionRuntime
from vidsense_local.runtime.model import InvokeResult, UnknownFunctionError

__all__ = ["FunctionRuntime", "InvokeResult", "UnknownFunctionError"]
