"""The per-stage user-key secret, an SSM SecureString read at run time and cached in the container.

Read with the SSM client itself: Powertools' SSMProvider would import its whole parameters package (AppConfig,
DynamoDB, Secrets Manager providers) in the API's cold start for one cached GetParameter (docs/performance.md,
Lambda cold init)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class UserKeySecretError(RuntimeError):
    """The parameter exists but holds no usable secret."""


class SsmUserKeySecret:
    def __init__(
        self,
        ssm_client: Any,
        parameter_name: str,
        max_age_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = ssm_client
        self._name = parameter_name
        self._max_age = max_age_seconds
        self._clock = clock
        self._cached: tuple[str, float] | None = None  # the secret and when it expires

    def value(self) -> str:
        now = self._clock()
        if self._cached is not None and now < self._cached[1]:
            return self._cached[0]
        secret = self._ssm.get_parameter(Name=self._name, WithDecryption=True)["Parameter"].get("Value")
        if not isinstance(secret, str) or not secret:
            raise UserKeySecretError(f"SSM parameter {self._name} holds no secret string")
        self._cached = (secret, now + self._max_age)
        return secret
