"""The local HTTP API against a fake function runtime: routing, payload 2.0, authorizer, result mapping, CORS."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import threading
import time
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from tests.local_endpoint import routes_from_template
from vidsense_local.apigw import HttpApiApp, select_route, start_api
from vidsense_local.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, issue_token, load_or_create_key
from vidsense_local.discovery import CorsConfig, HttpRoute, JwtAuthorizerConfig, RouteTable

AUTH = JwtAuthorizerConfig(issuer=DEFAULT_ISSUER, audiences=(DEFAULT_AUDIENCE,))

# The shape the Serverless Framework generates for `httpApi` events with a JWT authorizer and `cors: true`.
TEMPLATE: dict[str, Any] = {
    "Resources": {
        "ApiLambdaFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"FunctionName": "vidsense-ingest-local-api", "Handler": "ingest.handlers.api.handler"},
        },
        "HttpApi": {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": "local-vidsense-ingest",
                "ProtocolType": "HTTP",
                "CorsConfiguration": {
                    "AllowHeaders": ["Content-Type", "Authorization"],
                    "AllowMethods": ["OPTIONS", "GET"],
                    "AllowOrigins": ["*"],
                    "MaxAge": 300,
                },
            },
        },
        "HttpApiAuthorizerLocalJwt": {
            "Type": "AWS::ApiGatewayV2::Authorizer",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "AuthorizerType": "JWT",
                "IdentitySource": ["$request.header.Authorization"],
                "JwtConfiguration": {"Audience": [DEFAULT_AUDIENCE], "Issuer": DEFAULT_ISSUER},
                "Name": "localJwt",
            },
        },
        "HttpApiIntegrationApi": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::GetAtt": ["ApiLambdaFunction", "Arn"]},
                "PayloadFormatVersion": "2.0",
            },
        },
        "HttpApiRouteGetPresignedurlProjectVarStepVar": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "RouteKey": "GET /presignedurl/{project}/{step}",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationApi"}]]},
                "AuthorizationType": "JWT",
                "AuthorizerId": {"Ref": "HttpApiAuthorizerLocalJwt"},
            },
        },
        "HttpApiRouteGetAnswersProjectVarStepVar": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "RouteKey": "GET /answers/{project}/{step}",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationApi"}]]},
                "AuthorizationType": "JWT",
                "AuthorizerId": {"Ref": "HttpApiAuthorizerLocalJwt"},
            },
        },
        "HttpApiRouteGetHealth": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "HttpApi"},
                "RouteKey": "GET /health",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "HttpApiIntegrationApi"}]]},
            },
        },
    }
}


class FakeRuntime:
    """Records the events it gets and answers with whatever the test sets."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.result: Any = {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}
        self.error: Exception | None = None

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture(autouse=True)
def _default_local_issuer(monkeypatch):
    # Tokens default to the local issuer of the default API port.
    monkeypatch.delenv("VIDSENSE_API_PORT", raising=False)
    monkeypatch.delenv("VIDSENSE_JWT_ISSUER", raising=False)


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return load_or_create_key(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def client(key, runtime) -> Client:
    table = routes_from_template(TEMPLATE, api_id="abc123")
    app = HttpApiApp(lambda: table, runtime.invoke, key, account_id="123456789012", issuer_url=DEFAULT_ISSUER)
    return Client(app, use_cookies=False)


@pytest.fixture
def token(key) -> str:
    return issue_token(key, "ana@example.com", groups=["reviewers"])


def test_template_routes_are_read_with_authorizer_and_cors():
    table = routes_from_template(TEMPLATE)
    keys = {route.route_key: route for route in table.routes}
    assert set(keys) == {"GET /presignedurl/{project}/{step}", "GET /answers/{project}/{step}", "GET /health"}
    presign = keys["GET /presignedurl/{project}/{step}"]
    assert presign.function == "vidsense-ingest-local-api"
    assert presign.authorizer == AUTH
    assert keys["GET /health"].authorizer is None
    assert table.cors is not None and table.cors.allow_origins == ("*",) and table.cors.max_age == 300


def test_function_names_from_the_stack_win_over_the_template():
    table = routes_from_template(TEMPLATE, function_names={"ApiLambdaFunction": "physical-name"})
    assert {route.function for route in table.routes} == {"physical-name"}


def test_route_selection_prefers_the_most_specific_route():
    routes = [
        HttpRoute("ANY", "/{proxy+}", "greedy"),
        HttpRoute("GET", "/answers/{project}/{step}", "variables"),
        HttpRoute("GET", "/answers/demo/{step}", "literal"),
        HttpRoute("ANY", "/answers/demo/{step}", "any-literal"),
        HttpRoute("ANY", "$default", "default"),
    ]
    assert select_route(routes, "GET", "/answers/demo/1").route.function == "literal"  # type: ignore[union-attr]
    assert select_route(routes, "POST", "/answers/demo/1").route.function == "any-literal"  # type: ignore[union-attr]
    match = select_route(routes, "GET", "/answers/other/2")
    assert match is not None and match.route.function == "variables"
    assert match.path_parameters == {"project": "other", "step": "2"}
    greedy = select_route(routes, "DELETE", "/x/y/z")
    assert greedy is not None and greedy.route.function == "greedy" and greedy.path_parameters == {"proxy": "x/y/z"}
    assert select_route(routes, "GET", "/").route.function == "default"  # type: ignore[union-attr]
    assert select_route(routes[1:3], "GET", "/answers/demo") is None


def test_request_becomes_a_payload_2_event(client, runtime, token):
    response = client.get(
        "/presignedurl/demo/1?a=1&a=2&b=x",
        headers=[
            ("Authorization", f"Bearer {token}"),
            ("X-Multi", "1"),
            ("X-Multi", "2"),
            ("Cookie", "c1=v1; c2=v2"),
            ("User-Agent", "Mozilla/5.0 test"),
        ],
    )
    assert response.status_code == 200
    function, event = runtime.calls[0]
    assert function == "vidsense-ingest-local-api"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /presignedurl/{project}/{step}"
    assert event["rawPath"] == "/presignedurl/demo/1"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["pathParameters"] == {"project": "demo", "step": "1"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"].replace(" ", "") == "1,2"  # WSGI already joins repeats
    assert event["headers"]["authorization"] == f"Bearer {token}"
    assert all(name == name.lower() for name in event["headers"])
    assert event["isBase64Encoded"] is False and "body" not in event
    ctx = event["requestContext"]
    assert ctx["accountId"] == "123456789012" and ctx["apiId"] == "abc123" and ctx["stage"] == "$default"
    assert ctx["routeKey"] == event["routeKey"]
    assert ctx["http"] == {
        "method": "GET",
        "path": "/presignedurl/demo/1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "Mozilla/5.0 test",
    }
    assert abs(ctx["timeEpoch"] / 1000 - time.time()) < 5 and ctx["time"].endswith("+0000")
    assert ctx["requestId"] and ctx["domainName"]
    claims = ctx["authorizer"]["jwt"]["claims"]
    assert claims["email"] == "ana@example.com" and claims["email_verified"] == "true"
    assert claims["cognito:groups"] == "[reviewers]"
    assert ctx["authorizer"]["jwt"]["scopes"] is None


def test_text_body_is_plain_and_binary_body_is_base64(key, runtime):
    table = RouteTable(routes=(HttpRoute("POST", "/echo", "fn"),))
    client = Client(HttpApiApp(lambda: table, runtime.invoke, key, account_id="1", issuer_url=DEFAULT_ISSUER))
    client.post("/echo", data='{"x": 1}', content_type="application/json")
    client.post("/echo", data=b"\x00\xff\x10", content_type="application/octet-stream")
    text_event, binary_event = runtime.calls[0][1], runtime.calls[1][1]
    assert text_event["body"] == '{"x": 1}' and text_event["isBase64Encoded"] is False
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(binary_event["body"]) == b"\x00\xff\x10"
    assert "authorizer" not in text_event["requestContext"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-jwt", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"],
)
def test_bad_tokens_get_401_and_the_function_is_not_invoked(client, runtime, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/presignedurl/demo/1", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthorized"}
    assert runtime.calls == []


def test_expired_and_foreign_tokens_get_401(client, runtime, key, tmp_path):
    expired = issue_token(key, "a@b.c", expires_in=1, now=time.time() - 10)
    foreign = issue_token(load_or_create_key(tmp_path), "a@b.c")
    wrong_aud = issue_token(key, "a@b.c", audience="elsewhere")
    for token in (expired, foreign, wrong_aud):
        response = client.get("/answers/demo/1", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.get_json() == {"message": "Unauthorized"}
        assert "invalid_token" in response.headers["www-authenticate"]
    assert runtime.calls == []


def test_route_without_authorizer_needs_no_token(client, runtime):
    assert client.get("/health").status_code == 200
    assert "authorizer" not in runtime.calls[0][1]["requestContext"]


def test_unknown_route_is_404_json(client, runtime, token):
    for path in ("/nope", "/presignedurl/demo", "/presignedurl/demo/1/extra"):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404 and response.get_json() == {"message": "Not Found"}
    assert client.post("/presignedurl/demo/1").status_code == 404
    assert runtime.calls == []


def test_function_result_is_mapped_back_to_http(client, runtime, token):
    runtime.result = {
        "statusCode": 403,
        "headers": {"Content-Type": "text/plain", "X-Extra": "1"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": "The resource you requested does already exist",
        "isBase64Encoded": False,
    }
    response = client.get("/presignedurl/demo/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["X-Extra"] == "1"
    assert response.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert response.get_data(as_text=True) == "The resource you requested does already exist"
    assert response.headers["apigw-requestid"]


def test_base64_body_is_decoded(client, runtime, token):
    runtime.result = {"statusCode": 200, "body": base64.b64encode(b"\x01\x02").decode(), "isBase64Encoded": True}
    response = client.get("/answers/demo/1", headers={"Authorization": f"Bearer {token}"})
    assert response.get_data() == b"\x01\x02"


@pytest.mark.parametrize("result", [{"answer": 42}, [1, 2], "plain text", 7])
def test_plain_results_become_200_json(client, runtime, token, result):
    runtime.result = result
    response = client.get("/answers/demo/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_data(as_text=True)) == result


@pytest.mark.parametrize(
    "result", [{"statusCode": "200"}, {"statusCode": 200, "body": {"not": "a string"}}, {"statusCode": 99}]
)
def test_malformed_function_result_is_500(client, runtime, token, result):
    runtime.result = result
    response = client.get("/answers/demo/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500 and response.get_json() == {"message": "Internal Server Error"}


def test_function_error_is_500(client, runtime, token):
    runtime.error = RuntimeError("boom")
    response = client.get("/answers/demo/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal Server Error"}


def test_cors_preflight_is_answered_without_invoking(client, runtime):
    response = client.options(
        "/presignedurl/demo/1",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS,GET"
    assert response.headers["Access-Control-Allow-Headers"] == "content-type,authorization"
    assert response.headers["Access-Control-Max-Age"] == "300"
    assert runtime.calls == []


def test_cors_headers_replace_the_functions_own(client, runtime, token):
    runtime.result = {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "http://evil"}, "body": ""}
    response = client.get(
        "/answers/demo/1", headers={"Authorization": f"Bearer {token}", "Origin": "http://localhost:5173"}
    )
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["*"]
    unauthorized = client.get("/answers/demo/1", headers={"Origin": "http://localhost:5173"})
    assert unauthorized.status_code == 401 and unauthorized.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_with_listed_origins_echoes_only_those(key, runtime):
    table = RouteTable(
        routes=(HttpRoute("GET", "/x", "fn"),),
        cors=CorsConfig(allow_origins=("http://app.local",), allow_methods=("GET",), allow_credentials=True),
    )
    client = Client(HttpApiApp(lambda: table, runtime.invoke, key, account_id="1", issuer_url=DEFAULT_ISSUER))
    ok = client.options("/x", headers={"Origin": "http://app.local", "Access-Control-Request-Method": "GET"})
    assert ok.headers["Access-Control-Allow-Origin"] == "http://app.local"
    assert ok.headers["Access-Control-Allow-Credentials"] == "true"
    other = client.options("/x", headers={"Origin": "http://other", "Access-Control-Request-Method": "GET"})
    assert other.status_code == 204 and "Access-Control-Allow-Origin" not in other.headers


def test_options_without_cors_config_is_routed_like_any_method(key, runtime):
    table = RouteTable(routes=(HttpRoute("GET", "/x", "fn"),))
    client = Client(HttpApiApp(lambda: table, runtime.invoke, key, account_id="1", issuer_url=DEFAULT_ISSUER))
    response = client.options("/x", headers={"Origin": "http://a", "Access-Control-Request-Method": "GET"})
    assert response.status_code == 404


def test_jwks_is_served_with_the_signing_kid(client, key):
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [key.kid]
    config = client.get("/.well-known/openid-configuration").get_json()
    assert config["jwks_uri"] == f"{DEFAULT_ISSUER}/.well-known/jwks.json"


def test_real_server_serves_concurrent_requests(key, runtime):
    table = RouteTable(routes=(HttpRoute("GET", "/slow/{n}", "fn"),))
    # Every request waits inside the function until all eight are inside: a server handling them one at a time
    # never gets there (the barrier breaks after 30 s, a bound for a loaded machine, and the call answers 500).
    all_inside = threading.Barrier(8, timeout=30)

    def together(function: str, event: dict[str, Any]) -> Any:
        all_inside.wait()
        return {"n": event["pathParameters"]["n"]}

    handle = start_api(HttpApiApp(lambda: table, together, key, account_id="1", issuer_url=DEFAULT_ISSUER), port=0)
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda n: requests.get(f"{handle.url}/slow/{n}", timeout=60), range(8)))
        assert [r.status_code for r in responses] == [200] * 8
        assert [r.json() for r in responses] == [{"n": str(n)} for n in range(8)]
    finally:
        all_inside.abort()
        handle.stop()
