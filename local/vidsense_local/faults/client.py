"""The control API from another process (e2e tests): ``FaultClient("http://127.0.0.1:4566").add(...)``."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from vidsense_local.faults.middleware import CONTROL_PATH


class FaultClient:
    def __init__(self, endpoint_url: str, timeout: float = 5.0) -> None:
        if not endpoint_url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) endpoint: {endpoint_url}")
        self.url = endpoint_url.rstrip("/") + CONTROL_PATH
        self.timeout = timeout

    def _call(self, method: str, url: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
            return json.loads(response.read() or b"null")

    def add(self, **rule: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", self.url, rule)
        return answer

    def rules(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._call("GET", self.url)["rules"]
        return answer

    def remove(self, rule_id: str) -> None:
        self._call("DELETE", f"{self.url}/{rule_id}")

    def clear(self) -> None:
        self._call("DELETE", self.url)
