"""Given a CloudFormation stack shaped like the Framework's (deployed without serverless), the runtime discovers
functions, their environment, DLQ and invoke config, the HTTP routes, and creates what moto's CloudFormation
skipped (SNS subscriptions, bucket notifications, queue policies) so events reach the functions."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.local.conftest import ACCOUNT, HANDLERS, REGION, Stack


def _template(suffix: str) -> dict[str, Any]:
    fn_arn = {"Fn::GetAtt": ["RecordLambdaFunction", "Arn"]}
    code = {"ZipFile": "def handler(event, context):\n    return None\n"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": f"role-{suffix}",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                },
            },
            "RecordQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"record-{suffix}"}},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"dlq-{suffix}"}},
            "RecordQueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "RecordQueue"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": {"Fn::GetAtt": ["RecordQueue", "Arn"]},
                            }
                        ],
                    },
                },
            },
            "RecordLambdaFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"svc-local-record-{suffix}",
                    "Handler": f"{HANDLERS}.record",
                    "Runtime": "python3.12",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": code,
                    "Timeout": 6,
                    "MemorySize": 512,
                    "Environment": {
                        "Variables": {
                            "RECORD_QUEUE_URL": {"Ref": "RecordQueue"},
                            "STAGE": "local",
                            "BUS": {"Fn::Sub": "vidsense-${AWS::Region}-bus"},
                        }
                    },
                },
            },
            "FailLambdaFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"svc-local-fail-{suffix}",
                    "Handler": f"{HANDLERS}.record_then_fail",
                    "Runtime": "python3.12",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": code,
                    "Environment": {"Variables": {"RECORD_QUEUE_URL": {"Ref": "RecordQueue"}}},
                    "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                },
            },
            "FailEventInvokeConfig": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "FailLambdaFunction"},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": 1,
                },
            },
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"on-complete-{suffix}"}},
            "RecordSnsSubscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "lambda", "Endpoint": fn_arn},
            },
            "Media": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": f"media-{suffix}",
                    "NotificationConfiguration": {
                        "LambdaConfigurations": [
                            {
                                "Event": "s3:ObjectCreated:*",
                                "Function": fn_arn,
                                "Filter": {"S3Key": {"Rules": [{"Name": "suffix", "Value": ".webm"}]}},
                            }
                        ]
                    },
                },
            },
            "HttpApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "api", "ProtocolType": "HTTP"}},
            "HttpApiIntegrationRecord": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": fn_arn,
                    "PayloadFormatVersion": "2.0",
                },
            },
            "HttpApiAuthorizerJwt": {
                "Type": "AWS::ApiGatewayV2::Authorizer",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "AuthorizerType": "JWT",
                    "IdentitySource": ["$request.header.Authorization"],
                    "Name": "jwt",
                    "JwtConfiguration": {"Audience": ["vidsense-local"], "Issuer": "http://127.0.0.1:3000"},
                },
            },
            "HttpApiRouteGetAnswers": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "RouteKey": "GET /answers/{project}/{step}",
                    "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationRecord"}]]},
                    "AuthorizationType": "JWT",
                    "AuthorizerId": {"Ref": "HttpApiAuthorizerJwt"},
                },
            },
            "HttpApiRouteGetHealth": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "HttpApi"},
                    "RouteKey": "GET /health",
                    "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationRecord"}]]},
                },
            },
        },
    }


@pytest.fixture(scope="module")
def deployed(stack: Stack) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    cfn = stack.client("cloudformation")
    name = f"svc-local-{suffix}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(_template(suffix)))
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
    stack.runtime.refresh()
    sqs = stack.client("sqs")
    return {
        "suffix": suffix,
        "record_fn": f"svc-local-record-{suffix}",
        "fail_fn": f"svc-local-fail-{suffix}",
        "record_q": sqs.get_queue_url(QueueName=f"record-{suffix}")["QueueUrl"],
        "dlq": sqs.get_queue_url(QueueName=f"dlq-{suffix}")["QueueUrl"],
        "topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:on-complete-{suffix}",
        "bucket": f"media-{suffix}",
    }


def test_functions_come_from_the_deployed_configuration(stack: Stack, deployed: dict[str, str]) -> None:
    specs = {f.name: f for f in stack.runtime.functions()}
    record = specs[deployed["record_fn"]]
    assert record.handler == f"{HANDLERS}.record"
    assert record.timeout == 6
    assert record.memory_size == 512
    deployed_env = stack.client("lambda").get_function_configuration(FunctionName=record.name)["Environment"]
    assert record.environment == deployed_env["Variables"]
    assert record.environment["STAGE"] == "local"
    assert record.environment["BUS"] == f"vidsense-{REGION}-bus"
    assert record.environment["RECORD_QUEUE_URL"].endswith(f"/{ACCOUNT}/record-{deployed['suffix']}")
    assert record.stack_name == f"svc-local-{deployed['suffix']}"
    fail = specs[deployed["fail_fn"]]
    assert fail.dead_letter_target == f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq-{deployed['suffix']}"
    assert fail.maximum_retry_attempts == 1
    triggers = stack.runtime.deployment.triggers_of(deployed["record_fn"])
    assert f"sns {deployed['topic']}" in triggers
    assert f"s3 {deployed['bucket']} s3:ObjectCreated:*" in triggers
    assert "http GET /answers/{project}/{step}" in triggers


def test_http_routes_are_read_from_the_template(stack: Stack, deployed: dict[str, str]) -> None:
    routes = {r.route_key: r for r in stack.runtime.http_routes() if r.function == deployed["record_fn"]}
    answers = routes["GET /answers/{project}/{step}"]
    assert (answers.method, answers.path, answers.payload_format) == ("GET", "/answers/{project}/{step}", "2.0")
    assert answers.authorizer is not None
    assert answers.authorizer.issuer == "http://127.0.0.1:3000"
    assert answers.authorizer.audiences == ("vidsense-local",)
    assert answers.authorizer.identity_source == ("$request.header.Authorization",)
    assert routes["GET /health"].authorizer is None


def test_skipped_subscription_and_notification_are_created_and_deliver(stack: Stack, deployed: dict[str, str]) -> None:
    stack.client("sns").publish(TopicArn=deployed["topic"], Message="done")
    stack.client("s3").put_object(Bucket=deployed["bucket"], Key="p/s/u.webm", Body=b"x")
    stack.client("s3").put_object(Bucket=deployed["bucket"], Key="p/s/u.txt", Body=b"x")
    bodies = [json.loads(m["Body"]) for m in stack.received(deployed["record_q"], 2)]
    sources = sorted(
        b["event"]["Records"][0].get("EventSource") or b["event"]["Records"][0]["eventSource"] for b in bodies
    )
    assert sources == ["aws:s3", "aws:sns"]
    policy = stack.client("sqs").get_queue_attributes(QueueUrl=deployed["record_q"], AttributeNames=["Policy"])
    assert json.loads(policy["Attributes"]["Policy"])["Statement"][0]["Action"] == "sqs:SendMessage"


def test_refresh_is_idempotent(stack: Stack, deployed: dict[str, str]) -> None:
    stack.runtime.refresh()
    subs = stack.client("sns").list_subscriptions_by_topic(TopicArn=deployed["topic"])["Subscriptions"]
    assert len(subs) == 1
    cfg = stack.client("s3").get_bucket_notification_configuration(Bucket=deployed["bucket"])
    assert len(cfg["LambdaFunctionConfigurations"]) == 1


def test_failed_async_invocation_goes_to_the_dlq_from_the_template(stack: Stack, deployed: dict[str, str]) -> None:
    stack.runtime.invoke_async(deployed["fail_fn"], {"video": "a.webm"})
    assert len(stack.received(deployed["record_q"], 2)) == 2  # first try + MaximumRetryAttempts 1
    (msg,) = stack.received(deployed["dlq"], 1)
    assert json.loads(msg["Body"]) == {"video": "a.webm"}
    assert msg["MessageAttributes"]["ErrorMessage"]["StringValue"] == "always fails"
    assert msg["MessageAttributes"]["RequestID"]["StringValue"]
