"""The one shape of a permanent failure: what a service announces in a *Failed event instead of retrying."""

from __future__ import annotations


class Rejected(Exception):
    """Refused for good: retrying the same input cannot help, so ``code`` and ``message`` go out as the failure's
    error_code and error_message and the handler returns normally."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
