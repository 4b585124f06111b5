"""The user-key secret: one GetParameter per max age, decrypted, and a clear error for an empty parameter."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.adapters.secrets import SsmUserKeySecret, UserKeySecretError


class FakeSsm:
    def __init__(self, *values: str) -> None:
        self.values = list(values)
        self.calls: list[dict[str, Any]] = []

    def get_parameter(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        return {"Parameter": {"Name": request["Name"], "Value": self.values.pop(0)}}


def test_the_secret_is_read_once_per_max_age_and_decrypted() -> None:
    # Given a secret cached for 300 s, rotated in SSM after the first read
    now = [1000.0]
    ssm = FakeSsm("first", "rotated")
    secret = SsmUserKeySecret(ssm, "/vidsense/test/user-key-secret", 300, clock=lambda: now[0])

    # When it is read twice within the max age, then once after it
    early = [secret.value(), secret.value()]
    now[0] += 300
    late = secret.value()

    # Then SSM was asked twice, decrypting, and the second read sees the rotation
    assert early == ["first", "first"]
    assert late == "rotated"
    assert ssm.calls == [{"Name": "/vidsense/test/user-key-secret", "WithDecryption": True}] * 2


def test_a_max_age_of_zero_reads_every_time() -> None:
    ssm = FakeSsm("a", "b")
    secret = SsmUserKeySecret(ssm, "/p", 0, clock=lambda: 5.0)
    assert [secret.value(), secret.value()] == ["a", "b"]


def test_an_empty_parameter_is_a_clear_error_and_is_not_cached() -> None:
    ssm = FakeSsm("", "now-set")
    secret = SsmUserKeySecret(ssm, "/vidsense/test/user-key-secret", 300, clock=lambda: 0.0)
    with pytest.raises(UserKeySecretError, match="/vidsense/test/user-key-secret holds no secret string"):
        secret.value()
    assert secret.value() == "now-set"
