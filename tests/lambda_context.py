"""The one fake of Lambda's context object for tests that call handlers directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass(frozen=True)
class FakeLambdaContext:
    """What the handlers and Powertools read of the context (name, version, memory, ARN, request id)."""

    function_name: str = "vidsense-test"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "5b1d8e1e-6f7a-4c5e-9b8a-0d1c2e3f4a5b"
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"


def lambda_context(function_name: str = "vidsense-test", memory_limit_in_mb: int = 256) -> LambdaContext:
    """The fake as the handlers' parameter type."""
    return cast(LambdaContext, FakeLambdaContext(function_name, memory_limit_in_mb))
