"""What ``serverless deploy --stage local`` created in the local AWS, read back through its APIs.

``discover(endpoint_url, region, account_id)`` returns a ``Deployment``: the Lambda functions (from
``ListFunctions``/``GetFunctionConfiguration``/``GetFunctionEventInvokeConfig``) and, from each
CloudFormation stack's template (``GetTemplate``, intrinsics resolved against ``DescribeStackResources``),
the HTTP API routes, SNS subscriptions, S3 bucket notifications, queue policies and event invoke configs
that moto's CloudFormation does not create. ``apply_skipped(deployment, ...)`` creates the skipped ones in moto.
"""

from vidsense_local.discovery.deployment import (
    BucketNotification,
    Deployment,
    QueuePolicy,
    SnsSubscription,
    apply_skipped,
    discover,
)

__all__ = [
    "BucketNotification",
    "Deployment",
    "QueuePolicy",
    "SnsSubscription",
    "apply_skipped",
    "discover",
]
