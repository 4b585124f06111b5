"""Publish the web client (web/) to a stage: ``python -m vidsense_ops.website --stage dev [--domain NAME
--certificate-arn ARN] [--repo CHECKOUT]`` (``make deploy-web STAGE=dev``).

Reads the ingest stack's outputs (API URL, issuer, app client, sign-in domain, media bucket), deploys
deploy/web/site.yml as ``vidsense-web-{stage}`` (private bucket, CloudFront with origin access control, security
headers whose CSP allows exactly those origins), uploads web/ and the stage's ``config.json``, and invalidates the
distribution's cache. The parameters and config.json are pure functions of the outputs (tested); the rest is boto3.
web/ and deploy/web/site.yml are read from a checkout of the repository (an installed vidsense_ops has neither).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from vidsense_ops.clients import OperatorError, error_code
from vidsense_ops.commands import report_failure
from vidsense_ops.status import stack_outputs
from vidsense_shared.resources import StageResources

REPO = Path(__file__).resolve().parents[2]  # the checkout when run from it; site-packages once installed
WEB_DIR = Path("web")
TEMPLATE_PATH = Path("deploy") / "web" / "site.yml"
WEB = REPO / WEB_DIR
TEMPLATE = REPO / TEMPLATE_PATH
LABEL = "vidsense web publish"
SKIPPED_FILES = frozenset({"config.example.json", "config.json"})
DEFAULT_MAX_RECORDING_SECONDS = 60


def origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise OperatorError(f"{url!r} is not an https URL")
    return f"https://{parts.netloc}"


def media_origin(bucket: str, region: str) -> str:
    """The media bucket's origin as boto3's presigned POST names it (virtual-hosted; global name in us-east-1)."""
    return (
        f"https://{bucket}.s3.amazonaws.com" if region == "us-east-1" else f"https://{bucket}.s3.{region}.amazonaws.com"
    )


def _output(outputs: dict[str, str], key: str, stage: str) -> str:
    value = outputs.get(key)
    if not value:
        raise OperatorError(f"the ingest stack of stage {stage} has no output {key}: deploy ingest first")
    return value


def site_parameters(
    outputs: dict[str, str], *, stage: str, region: str, domain: str = "", certificate_arn: str = ""
) -> dict[str, str]:
    """deploy/web/site.yml's parameters from the ingest stack's outputs."""
    if bool(domain) != bool(certificate_arn):
        raise OperatorError("pass --domain and --certificate-arn together (the certificate must be in us-east-1)")
    issuer = origin(_output(outputs, "Issuer", stage))
    return {
        "Stage": stage,
        "ApiOrigin": origin(_output(outputs, "HttpApiUrl", stage)),
        "IssuerOrigin": issuer,
        # identity external: the provider's endpoints live at its issuer
        "SignInOrigin": origin(outputs.get("SignInDomain") or issuer),
        "MediaOrigin": media_origin(_output(outputs, "MediaBucketName", stage), region),
        "DomainName": domain,
        "CertificateArn": certificate_arn or "-",
    }


def site_config(
    outputs: dict[str, str],
    *,
    stage: str,
    client_id: str | None = None,
    max_recording_seconds: int = DEFAULT_MAX_RECORDING_SECONDS,
) -> dict[str, Any]:
    """The stage's config.json: what the client reads at run time (never built in)."""
    client = client_id or outputs.get("UserPoolClientId")
    if not client:
        raise OperatorError(f"stage {stage} has no Cognito app client (identity external): pass --client-id")
    config: dict[str, Any] = {
        "apiUrl": _output(outputs, "HttpApiUrl", stage).rstrip("/"),
        "issuer": _output(outputs, "Issuer", stage).rstrip("/"),
        "clientId": client,
        "scope": "openid email profile",
        "maxRecordingSeconds": max_recording_seconds,
        "pollIntervalMs": 2000,
    }
    # Cognito's discovery document has no end_session_endpoint: its managed login signs out at <domain>/logout.
    if outputs.get("SignInDomain"):
        config["logoutUrl"] = f"{outputs['SignInDomain'].rstrip('/')}/logout"
    return config


def site_files(root: Path = WEB) -> list[tuple[Path, str, str]]:
    """(file, key, content type) of every file of the client; index.html and modules revalidate on each load."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name not in SKIPPED_FILES):
        kind = "text/javascript" if path.suffix == ".js" else mimetypes.guess_type(path.name)[0]
        files.append((path, path.relative_to(root).as_posix(), kind or "application/octet-stream"))
    return files


def checkout(repo: Path | None = None) -> Path:
    """The checkout holding web/ and deploy/web/site.yml: ``repo`` when given, else this module's, else the cwd."""
    candidates = [repo] if repo is not None else [REPO, Path.cwd()]
    for root in candidates:
        if (root / WEB_DIR).is_dir() and (root / TEMPLATE_PATH).is_file():
            return root
    where = " or ".join(str(root) for root in candidates)
    raise OperatorError(
        f"no {WEB_DIR}/ and {TEMPLATE_PATH.as_posix()} under {where}: run make deploy-web from a checkout of the"
        " repository, or pass --repo CHECKOUT"
    )


def _stack_exists(cloudformation: Any, name: str) -> bool:
    """Only "does not exist" means absent: expired credentials or a refusal must not look like a missing stack."""
    try:
        cloudformation.describe_stacks(StackName=name)
    except ClientError as exc:
        if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return False
        raise
    return True


def _deploy_stack(
    cloudformation: Any, name: str, parameters: dict[str, str], template: Path = TEMPLATE
) -> dict[str, str]:
    request = {
        "StackName": name,
        "TemplateBody": template.read_text(),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Tags": [{"Key": "vidsense:stage", "Value": parameters["Stage"]}],
    }
    try:
        if _stack_exists(cloudformation, name):
            cloudformation.update_stack(**request)
            cloudformation.get_waiter("stack_update_complete").wait(StackName=name)
        else:
            cloudformation.create_stack(**request)
            cloudformation.get_waiter("stack_create_complete").wait(StackName=name)
    except ClientError as exc:
        if "No updates are to be performed" not in str(exc):
            raise
    stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def publish(args: argparse.Namespace) -> str:
    root = checkout(args.repo)  # before any AWS call: nothing to publish without it
    session = boto3.session.Session()
    region = session.region_name
    if not region:
        raise OperatorError("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION")
    outputs = stack_outputs(session.client("cloudformation"), args.stage)
    parameters = site_parameters(
        outputs, stage=args.stage, region=region, domain=args.domain, certificate_arn=args.certificate_arn
    )
    config = site_config(outputs, stage=args.stage, client_id=args.client_id)
    # CloudFront's resources are global; the stack lives in us-east-1 beside the certificate.
    site = _deploy_stack(
        boto3.client("cloudformation", region_name="us-east-1"),
        StageResources(args.stage).site_stack,
        parameters,
        root / TEMPLATE_PATH,
    )
    s3: Any = boto3.client("s3", region_name="us-east-1")
    for path, key, kind in site_files(root / WEB_DIR):
        s3.put_object(
            Bucket=site["SiteBucketName"], Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl="no-cache"
        )
    s3.put_object(
        Bucket=site["SiteBucketName"],
        Key="config.json",
        Body=json.dumps(config).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )
    boto3.client("cloudfront").create_invalidation(
        DistributionId=site["DistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"publish-{time.time_ns()}"},
    )
    return site["SiteUrl"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vidsense_ops.website", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--domain", default="", help="the site's own name (listed in corsOrigins and callbackUrls)")
    parser.add_argument("--certificate-arn", default="", help="ACM certificate for --domain, in us-east-1")
    parser.add_argument("--client-id", default=None, help="the app client id (identity external)")
    parser.add_argument(
        "--repo", type=Path, default=None, help="the checkout holding web/ and deploy/web/site.yml (default: found)"
    )
    args = parser.parse_args(argv)
    try:
        url = publish(args)
    except (BotoCoreError, ClientError, WaiterError, OperatorError) as exc:
        # The boundary of the other operator commands: one line, exit 2 for what the operator can fix, else 1.
        return report_failure(LABEL, exc, None, sys.stderr)
    print(f"web client of stage {args.stage}: {url} (its origin must be in the stage's corsOrigins and callbackUrls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
