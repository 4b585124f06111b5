"""Local Lambda runtime: runs the deployed functions from the repository's source, one worker process each.

Public API (used by the edge, the HTTP API gateway and the orchestration)::

    rt = FunctionRuntime("http://127.0.0.1:4566", region="us-east-1", account_id="123456789012")
    rt.refresh()                      # (re)discover functions + triggers from what is deployed in moto,
                                      # and apply what moto's CloudFormation skipped (SNS subscriptions,
                                      # S3 bucket notifications, SQS queue policies)
    rt.functions()                    # list[FunctionSpec]: name, arn, handler, environment, timeout, ...
    res = rt.invoke("vidsense-local-api", {"rawPath": "/"})   # RequestResponse -> InvokeResult
    res.payload / res.json() / res.function_error / res.logs
    rt.invoke("fn", payload, invocation_type="Event")   # queued; same as rt.invoke_async("fn", payload)
    rt.invoke_async("fn", payload)    # Lambda async semantics: retries (MaximumRetryAttempts, default 2),
                                      # then the on-failure destination (SQS) or the function's DLQ
    rt.wait_idle(timeout=30.0)        # True once no async invocation is queued, running or waiting to retry
    rt.http_routes()                  # list[HttpRoute] read from the deployed stack templates (ApiGatewayV2)
    rt.stop()                         # stops every worker process

Functions are discovered only from the local AWS endpoint (Lambda ``ListFunctions`` and the CloudFormation
stack templates written by ``serverless deploy --stage local``), never from a hand-written list.
"""

from vidsense_local.runtime.core import FunctionRuntime
from vidsense_local.runtime.model import (
    FunctionSpec,
    HttpRoute,
    InvokeResult,
    JwtAuthorizer,
    UnknownFunctionError,
)

__all__ = [
    "FunctionRuntime",
    "FunctionSpec",
    "HttpRoute",
    "InvokeResult",
    "JwtAuthorizer",
    "UnknownFunctionError",
]
