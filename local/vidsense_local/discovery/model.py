"""Plain records of what is deployed: functions, HTTP routes and the triggers moto cannot run itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed Lambda function as the runtime needs it (configuration read back from the local AWS)."""

    name: str
    arn: str
    handler: str
    runtime: str
    environment: dict[str, str]
    timeout: int
    memory_size: int
    dead_letter_target: str | None = None
    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21600
    on_failure_destination: str | None = None
    on_success_destination: str | None = None
    stack_name: str | None = None
    logical_id: str | None = None


@dataclass(frozen=True)
class JwtAuthorizerConfig:
    """An API Gateway v2 JWT authorizer (``AWS::ApiGatewayV2::Authorizer`` with ``JwtConfiguration``)."""

    issuer: str
    audiences: tuple[str, ...]
    identity_source: tuple[str, ...] = ("$request.header.Authorization",)


@dataclass(frozen=True)
class CorsConfig:
    """An HTTP API's ``CorsConfiguration``."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class HttpRoute:
    """One HTTP API route: ``method`` is ``GET``/``POST``/... or ``ANY``; ``path`` a template like
    ``/presignedurl/{project}/{step}`` (``{proxy+}`` allowed), or ``$default``; ``function`` the deployed name."""

    method: str
    path: str
    function: str
    authorizer: JwtAuthorizerConfig | None = None
    scopes: tuple[str, ...] = ()
    payload_format: str = "2.0"
    stack_name: str | None = None

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class RouteTable:
    """The deployed HTTP API: its routes, CORS configuration and id."""

    routes: tuple[HttpRoute, ...] = ()
    cors: CorsConfig | None = None
    api_id: str = "local"


@dataclass(frozen=True)
class SnsSubscription:
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: dict[str, str] = field(default_factory=dict)
    stack_name: str | None = None


@dataclass(frozen=True)
class BucketNotification:
    """One S3 ``LambdaConfigurations`` entry (or ``QueueConfigurations``/``TopicConfigurations``)."""

    bucket: str
    kind: str  # "lambda" | "queue" | "topic"
    target_arn: str
    events: tuple[str, ...]
    filter_rules: tuple[tuple[str, str], ...] = ()  # (("suffix", ".webm"),)
    stack_name: str | None = None


@dataclass(frozen=True)
class BucketSettings:
    """What moto's CloudFormation ignores of an ``AWS::S3::Bucket``: versioning and CORS (S3 API shapes)."""

    bucket: str
    versioning: str | None = None  # "Enabled" | "Suspended"
    cors_rules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class QueuePolicy:
    queue_url: str
    policy: dict[str, Any]
    stack_name: str | None = None


@dataclass(frozen=True)
class RuleTarget:
    """An EventBridge rule whose target is a Lambda function (delivered by the edge's hooks)."""

    bus: str
    rule: str
    event_pattern: str | None
    function_arn: str
    schedule_expression: str | None = None
    state: str = "ENABLED"
    rule_arn: str = ""
    target_input: str | None = None


@dataclass
class Deployment:
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    http_api: RouteTable = field(default_factory=RouteTable)
    subscriptions: list[SnsSubscription] = field(default_factory=list)
    bucket_notifications: list[BucketNotification] = field(default_factory=list)
    queue_policies: list[QueuePolicy] = field(default_factory=list)
    bucket_settings: list[BucketSettings] = field(default_factory=list)
    rule_targets: list[RuleTarget] = field(default_factory=list)

    def triggers_of(self, function_name: str) -> list[str]:
        """Human-readable triggers of one function, e.g. ``rule vidsense-local-bus/x`` or ``s3 bucket``."""
        spec = self.functions.get(function_name)
        if spec is None:
            return []
        arn = spec.arn
        out = [f"http {r.route_key}" for r in self.http_api.routes if r.function == function_name]
        out += [
            f"schedule {t.schedule_expression} ({t.rule})" if t.schedule_expression else f"rule {t.bus}/{t.rule}"
            for t in self.rule_targets
            if _same_function(t.function_arn, arn)
        ]
        out += [
            f"sns {s.topic_arn}"
            for s in self.subscriptions
            if s.protocol == "lambda" and _same_function(s.endpoint, arn)
        ]
        out += [
            f"s3 {n.bucket} {','.join(n.events)}"
            for n in self.bucket_notifications
            if n.kind == "lambda" and _same_function(n.target_arn, arn)
        ]
        return out


def function_name_from_arn(name_or_arn: str) -> str:
    """``arn:aws:lambda:r:a:function:name[:qualifier]`` or ``name`` -> ``name``."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        if len(parts) >= 7 and parts[5] == "function":
            return parts[6]
    return name_or_arn.split(":", maxsplit=1)[0]


def _same_function(a: str, b: str) -> bool:
    return function_name_from_arn(a) == function_name_from_arn(b)
