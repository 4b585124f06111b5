"""The web client's stack per stage (deploy/web/site.yml): private bucket behind CloudFront with origin access
control, HTTPS only, security headers with a CSP that allows exactly the API, sign-in and media origins; cfn-lint
clean, checkov failing nothing outside deploy/web/checkov-skips.yml."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)
from cfnlint.decode import decode_str  # type: ignore[import-untyped]  # cfn-lint ships no type information

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "deploy" / "web" / "site.yml"
SKIPS = REPO / "deploy" / "web" / "checkov-skips.yml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"


def _template() -> dict[str, Any]:
    template, matches = decode_str(TEMPLATE.read_text())
    assert not matches and template is not None
    return dict(template)


def _resource(template: dict[str, Any], type_: str) -> dict[str, Any]:
    found = [r["Properties"] for r in template["Resources"].values() if r["Type"] == type_]
    assert len(found) == 1, type_
    props: dict[str, Any] = found[0]
    return props


def test_the_bucket_is_private_and_read_only_by_its_distribution() -> None:
    template = _template()
    bucket = _resource(template, "AWS::S3::Bucket")
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert "Stage" in json.dumps(bucket["BucketName"])  # stage-scoped name
    policy = _resource(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "distribution/${Distribution}" in json.dumps(allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
    oac = _resource(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == ("always", "s3")
    origins = _resource(template, "AWS::CloudFront::Distribution")["DistributionConfig"]["Origins"]
    assert [o["S3OriginConfig"]["OriginAccessIdentity"] for o in origins] == [""]
    assert all("OriginAccessControlId" in o for o in origins)


def test_every_path_is_https_only_with_the_security_headers() -> None:
    config = _resource(_template(), "AWS::CloudFront::Distribution")["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviors} == {"redirect-to-https"}
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeaders"} for b in behaviors)
    assert [b["PathPattern"] for b in config["CacheBehaviors"]] == ["/config.json"]  # settings never cached


def test_the_csp_lets_scripts_connect_to_exactly_the_api_sign_in_and_media_origins() -> None:
    policy = _resource(_template(), "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = policy["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["connect-src"].split() == [
        "'self'",
        "${ApiOrigin}",
        "${IssuerOrigin}",
        "${SignInOrigin}",
        "${MediaOrigin}",
    ]
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"


def test_the_site_domains_are_the_stages_cors_origins_and_callback_urls() -> None:
    # The stage parameters list the site's own name (DomainName) beside the API's CORS origins and the app
    # client's callback URLs; a stage without a name adds the distribution's (output SiteUrl) there.
    params = yaml.safe_load((REPO / "deploy" / "serverless" / "params.yml").read_text())
    for stage in ("dev", "prod"):
        sites = [o for o in params[stage]["corsOrigins"] if o.startswith("https://")]
        assert sites, stage
        assert [f"{o}/callback" for o in sites] == [u for u in params[stage]["callbackUrls"] if u.startswith("https")]


def test_cfn_lint_is_clean() -> None:
    proc = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(TEMPLATE)], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_checkov_fails_nothing_outside_the_skip_list() -> None:
    assert CHECKOV.exists(), "checkov missing: `make tools` creates .venv-tools (make test does)"
    args = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--output", "json", "--compact"]
    proc = subprocess.run([*args, "--file", str(TEMPLATE)], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["summary"]["passed"] >= 8  # checkov really looked at the template
    skips = yaml.safe_load(SKIPS.read_text())
    assert all(str(entry.get("reason", "")).strip() for entry in skips)
    used: set[int] = set()
    unexplained = []
    for failed in report["results"]["failed_checks"]:
        resource = failed["resource"].split(".", 1)[1]
        matches = [
            i
            for i, entry in enumerate(skips)
            if entry["id"] == failed["check_id"] and re.fullmatch(entry["resources"], resource)
        ]
        used.update(matches)
        if not matches:
            unexplained.append(f"{failed['check_id']} {resource}: {failed['check_name']}")
    assert not unexplained, "\n".join(unexplained)
    assert used == set(range(len(skips))), "skip entries the template no longer triggers"
