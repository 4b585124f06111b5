"""The per-stage user-key secret, an SSM SecureString read at run time and cached in the container."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parameters import SSMProvider


class UserKeySecretError(RuntimeError):
    """The parameter exists but holds no usable secret."""


class SsmUserKeySecret:
    def __init__(self, provider: SSMProvider, parameter_name: str, max_age_seconds: int) -> None:
        self._provider = provider
        self._name = parameter_name
        self._max_age = max_age_seconds

    def value(self) -> str:
        secret = self._provider.get(self._name, decrypt=True, max_age=self._max_age)
        if not isinstance(secret, str) or not secret:
            raise UserKeySecretError(f"SSM parameter {self._name} holds no secret string")
        return secret
