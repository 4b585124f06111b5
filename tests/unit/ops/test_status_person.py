"""vidsense status names the person by subject, or by email looked up in the stage's user pool (issue 15, item 7)."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from vidsense_local.auth import issue_token, load_or_create_key, local_subject
from vidsense_ops import commands, status
from vidsense_ops.clients import OperatorError
from vidsense_ops.status import Person
from vidsense_shared.answers import user_key_for
from vidsense_shared.resources import StageResources

REGION = "us-east-1"
SECRET = "s3cret"
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"


class Aws:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def client(self, service: str) -> Any:
        self.calls.append(service)
        return boto3.client(service, REGION)

    def ingest_stack(self, stage: str, outputs: dict[str, str]) -> None:
        template = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {name: {"Value": value} for name, value in outputs.items()},
        }
        boto3.client("cloudformation", REGION).create_stack(
            StackName=StageResources(stage).stack("ingest"), TemplateBody=json.dumps(template)
        )

    def user_pool(self, *emails: str) -> tuple[str, dict[str, str]]:
        cognito = boto3.client("cognito-idp", REGION)
        pool = cognito.create_user_pool(PoolName="vidsense-t-users", UsernameAttributes=["email"])["UserPool"]["Id"]
        subjects = {}
        for email in emails:
            user = cognito.admin_create_user(
                UserPoolId=pool, Username=email, UserAttributes=[{"Name": "email", "Value": email}]
            )["User"]
            subjects[email] = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        return pool, subjects

    def answer(self, stage: str, person: Person, project: str = "demo", step: str = "1") -> str:
        boto3.client("ssm", REGION).put_parameter(
            Name=StageResources(stage).user_key_parameter, Value=SECRET, Type="SecureString"
        )
        table = boto3.resource("dynamodb", REGION).create_table(
            TableName=StageResources(stage).answers_table,
            KeySchema=[{"AttributeName": "answer_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "answer_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        answer_id = f"{project}/{step}/{user_key_for(SECRET, person.issuer, person.subject)}"
        table.put_item(Item={"answer_id": answer_id, "status": "ANALYZED", "attempt": 1, "trail": {}})
        return answer_id


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield Aws()


def run(aws: Aws, stage: str, person: str, issuer: str | None = None) -> tuple[int, str]:
    args = argparse.Namespace(
        stage=stage, project="demo", step="1", person=person, issuer=issuer, user_key_parameter=None
    )
    out = io.StringIO()
    code = commands.run_status(args, out=out, client=aws.client)
    return code, out.getvalue()


def test_an_email_is_looked_up_in_the_stages_user_pool(aws: Aws) -> None:
    # Given a Cognito stage whose pool knows Ada, and her answer keyed by the pool's issuer and her sub
    pool, subjects = aws.user_pool("ada@example.org", "grace@example.org")
    aws.ingest_stack("t1", {"Issuer": ISSUER, "UserPoolId": pool, "IdentityProvider": "cognito"})
    answer_id = aws.answer("t1", Person(ISSUER, subjects["ada@example.org"]))
    # When the operator names her by email, Then the answer is found
    code, text = run(aws, "t1", "ada@example.org")
    assert code == 0 and f"answer    {answer_id}" in text
    # And by her subject too
    assert run(aws, "t1", subjects["ada@example.org"]) == (code, text)
    # And someone else of the pool has no answer
    assert run(aws, "t1", "grace@example.org") == (1, "no answer for demo/1 and that person in stage t1\n")


def test_an_email_the_pool_does_not_know_is_exit_1(aws: Aws) -> None:
    pool, _ = aws.user_pool("ada@example.org")
    aws.ingest_stack("t1", {"Issuer": ISSUER, "UserPoolId": pool})
    code, text = run(aws, "t1", "nobody@example.org")
    assert code == 1 and text == f"no user with that email in the user pool {pool}\n"


def test_a_subject_with_the_issuer_given_needs_no_stack(aws: Aws) -> None:
    answer_id = aws.answer("t2", Person("https://login.example.org/", "ada-sub"))
    code, text = run(aws, "t2", "ada-sub", issuer="https://login.example.org/")
    assert code == 0 and answer_id in text
    assert "cloudformation" not in aws.calls


def test_an_external_provider_has_no_pool_to_look_an_email_up_in(aws: Aws) -> None:
    # Given a stage that trusts a team's own provider (no UserPoolId output)
    aws.ingest_stack("t3", {"Issuer": "https://login.example.org/", "IdentityProvider": "external"})
    aws.answer("t3", Person("https://login.example.org/", "ada-sub"))
    # Then an email is refused naming what to pass instead, and the subject works with the issuer from the stack
    with pytest.raises(OperatorError, match=r"no user pool .*subject \(sub\)"):
        run(aws, "t3", "ada@example.org")
    assert run(aws, "t3", "ada-sub")[0] == 0


def test_the_local_stage_looks_an_email_up_by_the_local_issuers_rule(aws: Aws, tmp_path: Any) -> None:
    # Given the local stack's issuer and an answer recorded with a token `vidsense token` would print
    issuer = "http://127.0.0.1:3123"
    token = issue_token(load_or_create_key(tmp_path), "Ana@Example.com", issuer=issuer)
    subject = jwt.decode(token, options={"verify_signature": False})["sub"]
    aws.ingest_stack("local", {"Issuer": issuer, "IdentityProvider": "external"})
    answer_id = aws.answer("local", Person(issuer, subject))
    # When the operator names her by her email as documented, Then the same subject is found
    code, text = run(aws, "local", "ana@example.com")
    assert code == 0 and answer_id in text
    assert status.local_subject(" ANA@example.com") == local_subject("ana@example.com") == subject


def test_a_stack_without_an_issuer_output_asks_for_one(aws: Aws) -> None:
    aws.ingest_stack("t4", {"EventBusName": "vidsense-t4-bus"})
    with pytest.raises(OperatorError, match="--issuer"):
        run(aws, "t4", "ada-sub")


def test_no_ingest_stack_says_so(aws: Aws) -> None:
    with pytest.raises(OperatorError, match="no stack vidsense-ingest-t5"):
        run(aws, "t5", "ada@example.org")


@pytest.mark.parametrize("person", ['a"b@example.org', "a@b@c", "  ", "a\x00b", "ada\\@example.org"])
def test_a_person_that_is_neither_an_email_nor_a_subject_is_refused_before_any_call(aws: Aws, person: str) -> None:
    with pytest.raises(OperatorError, match=r"email|subject|sub"):
        run(aws, "t1", person)
    assert aws.calls == []


def test_the_command_line_takes_a_person_and_an_issuer() -> None:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["status", "--stage", "local", "demo", "1", "ana@example.com"])
    assert (args.person, args.issuer) == ("ana@example.com", None)
    args = parser.parse_args(["status", "--stage", "prod", "demo", "1", "7d3f0c2e", "--issuer", "https://i/"])
    assert (args.person, args.issuer) == ("7d3f0c2e", "https://i/")
