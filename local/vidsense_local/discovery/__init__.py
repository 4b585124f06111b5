"""What ``serverless deploy --stage local`` created in the local AWS, read back through its APIs.

``discover(endpoint_url, region, account_id)`` returns a ``Deployment``: the Lambda functions (from
``ListFunctions``/``GetFunctionConfiguration``/``GetFunctionEventInvokeConfig``) and, from each
CloudFormation stack's template (``stacks.deployed_stacks``: ``GetTemplate``, intrinsics resolved against
``DescribeStackResources``), the HTTP API (routes, JWT authorizers, CORS), SNS subscriptions, S3 bucket
notifications, bucket versioning and CORS rules, queue policies and event invoke configs that moto's
CloudFormation does not create. ``apply_skipped(deployment, ...)`` creates the skipped ones in moto.
"""

from vidsense_local.discovery.deployment import apply_skipped, discover, http_api
from vidsense_local.discovery.model import CorsConfig, HttpRoute, JwtAuthorizerConfig, RouteTable
from vidsense_local.discovery.stacks import DeployedStack

__all__ = [
    "CorsConfig",
    "DeployedStack",
    "HttpRoute",
    "JwtAuthorizerConfig",
    "RouteTable",
    "apply_skipped",
    "discover",
    "http_api",
]
