"""Reading AWS error codes from what botocore raises (botocore Stubber answers as AWS would)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from vidsense_shared.aws_errors import conditional_write, error_code, error_message, is_conditional_check_failed


def _raised(service: str, operation: str, code: str, message: str, **params: Any) -> Exception:
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_client_error(operation, service_error_code=code, service_message=message)
        try:
            getattr(client, operation)(**params)
        except Exception as exc:
            return exc
    raise AssertionError("the stubbed call did not fail")


def test_a_failed_condition_is_told_from_any_other_dynamodb_error():
    # Given DynamoDB's answers to a conditional put: a false condition, and throttling
    put = {"TableName": "t", "Item": {"k": {"S": "v"}}}
    lost = _raised("dynamodb", "put_item", "ConditionalCheckFailedException", "The conditional request failed", **put)
    throttled = _raised("dynamodb", "put_item", "ThrottlingException", "Rate exceeded", **put)
    # Then only the first is a failed condition, and both codes and messages are read
    assert is_conditional_check_failed(lost)
    assert not is_conditional_check_failed(throttled)
    assert error_code(throttled) == "ThrottlingException"
    assert error_message(lost) == "The conditional request failed"


def test_an_s3_code_is_read_from_the_modelled_exception_subclass():
    missing = _raised("s3", "get_object", "NoSuchKey", "The specified key does not exist.", Bucket="b", Key="k")
    assert type(missing).__name__ == "NoSuchKey"  # botocore's modelled subclass of ClientError
    assert error_code(missing) == "NoSuchKey"


@pytest.mark.parametrize("exc", [ValueError("no response"), KeyError("Error"), TimeoutError()])
def test_an_error_aws_did_not_answer_has_no_code(exc):
    assert error_code(exc) == ""
    assert error_message(exc) == ""
    assert not is_conditional_check_failed(exc)


def test_a_conditional_write_says_whether_it_wrote(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        create = {"TableName": "t", "Item": {"k": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(k)"}
        # Given a write that creates the item, Then it wrote; the same write again finds the item and did not
        assert conditional_write(client.put_item, **create)
        assert not conditional_write(client.put_item, **create)
        # And an error other than a false condition reaches the caller
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            conditional_write(client.put_item, **{**create, "TableName": "missing"})
