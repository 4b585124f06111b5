"""Publish the web client (web/) to a stage's site: ``python -m vidsense_ops.website --stage dev [--client-id ID]
[--repo CHECKOUT]`` (``make deploy-web STAGE=dev`` deploys the site stack first, then runs this).

The site stack ``vidsense-web-{stage}`` (deploy/web: private bucket, CloudFront with origin access control,
security headers whose CSP allows exactly the stage's API, sign-in and media origins) is deployed like the other
stacks, after ingest (serverless-compose.yml, the ingest pipeline). This uploads web/ and the stage's
``config.json`` (from the ingest stack's outputs) into its bucket and invalidates the distribution's cache.
config.json is a pure function of the outputs (tested); the rest is boto3. web/ is read from a checkout of the
repository (an installed vidsense_ops has none).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from vidsense_ops.clients import OperatorError, ingest_outputs, stack_outputs, stage_aws
from vidsense_ops.commands import report_failure
from vidsense_shared.resources import StageResources

REPO = Path(__file__).resolve().parents[2]  # the checkout when run from it; site-packages once installed
WEB_DIR = Path("web")
WEB = REPO / WEB_DIR
LABEL = "vidsense web publish"
SKIPPED_FILES = frozenset({"config.example.json", "config.json"})
DEFAULT_MAX_RECORDING_SECONDS = 60


def _output(outputs: dict[str, str], key: str, stage: str) -> str:
    value = outputs.get(key)
    if not value:
        raise OperatorError(f"the ingest stack of stage {stage} has no output {key}: deploy ingest first")
    return value


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
    """The checkout holding web/: ``repo`` when given, else this module's, else the current directory."""
    candidates = [repo] if repo is not None else [REPO, Path.cwd()]
    for root in candidates:
        if (root / WEB_DIR).is_dir():
            return root
    where = " or ".join(str(root) for root in candidates)
    raise OperatorError(
        f"no {WEB_DIR}/ under {where}: run make deploy-web from a checkout of the repository, or pass --repo CHECKOUT"
    )


def site_outputs(cloudformation: Any, stage: str) -> dict[str, str]:
    """The site stack's outputs; OperatorError saying how to deploy it when it never was (clients.stack_outputs:
    expired credentials or a refusal do not read as a missing stack)."""
    name = StageResources(stage).site_stack
    missing = (
        f"stage {stage} has no site stack {name}: deploy it after ingest (make deploy-web STAGE={stage}, "
        f"or npx serverless deploy --stage {stage} from the repository root)"
    )
    return stack_outputs(cloudformation, name, missing=missing)


def site_url(site: dict[str, str], cloudfront: Any) -> str:
    """``https://<webDomain>`` (output SiteUrl), else the distribution's own cloudfront.net name."""
    if site.get("SiteUrl"):
        return site["SiteUrl"]
    distribution = cloudfront.get_distribution(Id=site["DistributionId"])["Distribution"]
    return f"https://{distribution['DomainName']}"


def publish(args: argparse.Namespace) -> str:
    root = checkout(args.repo)  # before any AWS call: nothing to publish without it
    # The stage's clients as every operator command gets them: AWS_REGION counts, which plain boto3 ignores.
    aws = stage_aws(args.stage)
    if not aws.region:
        raise OperatorError("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION")
    cloudformation = aws.client("cloudformation")
    ingest = ingest_outputs(cloudformation, args.stage, otherwise="check --stage and the region of your credentials")
    config = site_config(ingest, stage=args.stage, client_id=args.client_id)
    site = site_outputs(cloudformation, args.stage)
    s3: Any = aws.client("s3")
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
    cloudfront: Any = aws.client("cloudfront")
    cloudfront.create_invalidation(
        DistributionId=site["DistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"publish-{time.time_ns()}"},
    )
    return site_url(site, cloudfront)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vidsense_ops.website", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--client-id", default=None, help="the app client id (identity external)")
    parser.add_argument("--repo", type=Path, default=None, help="the checkout holding web/ (default: found)")
    args = parser.parse_args(argv)
    try:
        url = publish(args)
    except (BotoCoreError, ClientError, OperatorError) as exc:
        # The boundary of the other operator commands: one line, exit 2 for what the operator can fix, else 1.
        return report_failure(LABEL, exc, None, sys.stderr)
    print(f"web client of stage {args.stage}: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
