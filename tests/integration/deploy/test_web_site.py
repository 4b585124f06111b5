"""The web client's site stack per stage (deploy/web, packaged like the services): a private bucket behind
CloudFront with origin access control, HTTPS only, security headers with a CSP that allows exactly the stage's
API, sign-in and media origins; the stage's webDomain both names the site and joins ingest's CORS origins and
callback URLs (no cycle, docs/decisions/0005-web-site-stack.md); cfn-lint clean, checkov failing nothing outside
deploy/web/checkov-skips.yml."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)

from tests.integration.deploy.conftest import REPO, TEMPLATE, run_sls
from vidsense_bench.cost.inputs import offline_sls_env
from vidsense_local.deploy_cache import service_order

SKIPS = REPO / "deploy" / "web" / "checkov-skips.yml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"
ACCOUNT = "123456789012"
API = "https://a1b2c3.execute-api.eu-west-1.amazonaws.com"
# (stage, region, extra environment): the two pipeline stages, and a feature stage signing in with its own provider.
VARIANTS = {
    "dev": ("dev", "eu-west-1", {}),
    "prod": ("prod", "us-east-1", {"VIDSENSE_WEB_CERTIFICATE_ARN": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/c1"}),
    "external": ("feature", "eu-west-1", {"VIDSENSE_IDENTITY": "external"}),
}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """deploy/web packaged for each variant, in a private copy (the Framework writes into .serverless/)."""
    root = tmp_path_factory.mktemp("web-site")

    def package(variant: str) -> Path:
        stage, region, extra = VARIANTS[variant]
        folder = root / variant
        shutil.copytree(REPO / "deploy", folder / "deploy", ignore=shutil.ignore_patterns(".serverless"))
        (folder / "node_modules").symlink_to(REPO / "node_modules")
        env = offline_sls_env(AWS_REGION=region, AWS_DEFAULT_REGION=region, **extra)
        run_sls(["package", "--stage", stage], cwd=folder / "deploy" / "web", env=env)
        return folder / "deploy" / "web" / ".serverless" / TEMPLATE

    with ThreadPoolExecutor(max_workers=len(VARIANTS)) as pool:
        return dict(zip(VARIANTS, pool.map(package, VARIANTS), strict=True))


def _template(sites: dict[str, Path], variant: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sites[variant].read_text())
    return loaded


def _resource(template: dict[str, Any], type_: str) -> dict[str, Any]:
    found = [r["Properties"] for r in template["Resources"].values() if r["Type"] == type_]
    assert len(found) == 1, type_
    props: dict[str, Any] = found[0]
    return props


def _resolver(template: dict[str, Any], region: str, exports: dict[str, str]) -> Callable[[Any], Any]:
    """What CloudFormation makes of a value of ``template`` in ``region`` (the intrinsics the site stack uses)."""
    pseudo = {"AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
    conditions = template.get("Conditions", {})

    def condition(name: str) -> bool:
        [[function, args]] = conditions[name].items()
        assert function == "Fn::Equals", f"{name}: only the region's condition is left to CloudFormation"
        return bool(resolve(args[0]) == resolve(args[1]))

    def substitute(text: str, names: dict[str, Any]) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names.get(m.group(1)) or pseudo[m.group(1)]), text)

    def resolve(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        [[function, args]] = value.items()
        if function == "Ref":
            return pseudo[args]
        if function == "Fn::Sub":
            text, names = (args, {}) if isinstance(args, str) else args
            return substitute(text, {k: resolve(v) for k, v in names.items()})
        if function == "Fn::If":
            return resolve(args[1] if condition(args[0]) else args[2])
        if function == "Fn::Join":
            return args[0].join(resolve(v) for v in args[1])
        if function == "Fn::Select":
            return resolve(args[1])[args[0]]
        if function == "Fn::Split":
            return resolve(args[1]).split(args[0])
        if function == "Fn::ImportValue":
            return exports[resolve(args)]
        raise AssertionError(f"unexpected {function}")

    return resolve


def _csp(sites: dict[str, Path], variant: str) -> dict[str, list[str]]:
    stage, region, _ = VARIANTS[variant]
    template = _template(sites, variant)
    headers = _resource(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    exports = {f"sls-vidsense-ingest-{stage}-HttpApiUrl": API}
    policy = _resolver(template, region, exports)(
        headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    )
    return {d.split()[0]: d.split()[1:] for d in policy.split(";")}


def test_the_bucket_is_private_and_read_only_by_its_distribution(sites: dict[str, Path]) -> None:
    template = _template(sites, "dev")
    buckets = {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
    bucket = buckets["SiteBucket"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketName"] == {"Fn::Sub": "vidsense-dev-web-${AWS::AccountId}"}  # stage-scoped name
    [policy] = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": "SiteBucket"}
    ]
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "distribution/${Distribution}" in json.dumps(allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
    oac = _resource(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["OriginAccessControlOriginType"]) == ("always", "s3")
    assert oac["Name"] == "vidsense-dev-web"
    origins = _resource(template, "AWS::CloudFront::Distribution")["DistributionConfig"]["Origins"]
    assert [o["S3OriginConfig"]["OriginAccessIdentity"] for o in origins] == [""]
    assert all("OriginAccessControlId" in o for o in origins)


def test_every_path_is_https_only_with_the_security_headers(sites: dict[str, Path]) -> None:
    config = _resource(_template(sites, "dev"), "AWS::CloudFront::Distribution")["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert {b["ViewerProtocolPolicy"] for b in behaviors} == {"redirect-to-https"}
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeaders"} for b in behaviors)
    assert [b["PathPattern"] for b in config["CacheBehaviors"]] == ["/config.json"]  # settings never cached
    headers = _resource(_template(sites, "dev"), "AWS::CloudFront::ResponseHeadersPolicy")
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["FrameOptions"]["FrameOption"] == "DENY"


def test_the_csp_lets_scripts_connect_to_exactly_the_stages_api_sign_in_and_media_origins(
    sites: dict[str, Path],
) -> None:
    # dev (eu-west-1, Cognito): the API (ingest's export), the user pool's issuer, managed login, the media bucket
    csp = _csp(sites, "dev")
    assert csp["connect-src"] == [
        "'self'",
        API,
        "https://cognito-idp.eu-west-1.amazonaws.com",
        f"https://vidsense-dev-{ACCOUNT}.auth.eu-west-1.amazoncognito.com",
        f"https://vidsense-dev-media-{ACCOUNT}.s3.eu-west-1.amazonaws.com",
    ]
    assert csp["form-action"] == ["'self'", f"https://vidsense-dev-{ACCOUNT}.auth.eu-west-1.amazoncognito.com"]
    assert csp["script-src"] == csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    # prod in us-east-1: the media bucket's global name, as boto3 presigns it there
    assert _csp(sites, "prod")["connect-src"][-1] == f"https://vidsense-prod-media-{ACCOUNT}.s3.amazonaws.com"
    # an external provider signs in at its issuer (the jwtIssuer default's origin)
    assert _csp(sites, "external")["connect-src"][2:4] == ["https://auth.dev.vidsense.example.com"] * 2


def test_the_stages_web_domain_names_the_site(sites: dict[str, Path]) -> None:
    # Given the stage parameter webDomain of dev and prod
    params = yaml.safe_load((REPO / "deploy" / "serverless" / "params.yml").read_text())
    for variant, stage in (("dev", "dev"), ("prod", "prod")):
        # Then the site answers at that name with its certificate, its output SiteUrl
        assert params[stage]["webDomain"], stage
        template = _template(sites, variant)
        config = _resource(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
        assert config["Aliases"] == [params[stage]["webDomain"]]
        assert config["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
        assert template["Outputs"]["SiteUrl"]["Value"] == f"https://{params[stage]['webDomain']}"
    certificate = _resource(_template(sites, "prod"), "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert certificate["ViewerCertificate"]["AcmCertificateArn"] == VARIANTS["prod"][2]["VIDSENSE_WEB_CERTIFICATE_ARN"]
    # A stage without webDomain: the distribution's own name and certificate, no SiteUrl output
    feature = _template(sites, "external")
    config = _resource(feature, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["Aliases"] == {"Ref": "AWS::NoValue"}
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "SiteUrl" not in feature["Outputs"]


def test_every_aws_stage_deploys_the_site_with_change_sets(sites: dict[str, Path]) -> None:
    # (the stage parameter deploymentMethod of the services; only the local stage deploys directly, to moto)
    for variant, template in sites.items():
        state = json.loads((template.parent / "serverless-state.json").read_text())
        assert state["service"]["provider"]["deploymentMethod"] == "changesets", variant


def test_ingest_allows_and_returns_people_to_exactly_the_sites_origin(
    sites: dict[str, Path], templates: dict[str, dict[str, dict[str, Any]]]
) -> None:
    # Given the site of dev and prod at its own name, and ingest packaged for the same stages (compose)
    for stage in ("dev", "prod"):
        [alias] = _resource(_template(sites, stage), "AWS::CloudFront::Distribution")["DistributionConfig"]["Aliases"]
        site = f"https://{alias}"
        ingest = templates[stage]["ingest"]
        # Then the API and the media bucket allow that origin, and Cognito returns people to its pages
        api = _resource(ingest, "AWS::ApiGatewayV2::Api")["CorsConfiguration"]["AllowOrigins"]
        media = ingest["Resources"]["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
        client = _resource(ingest, "AWS::Cognito::UserPoolClient")
        assert site in api, (stage, api)
        assert all(site in rule["AllowedOrigins"] for rule in media), stage
        assert f"{site}/callback" in client["CallbackURLs"] and f"{site}/" in client["LogoutURLs"], stage
        # and no other https origin than the site's (the rest is the local web client, http://localhost:5173)
        assert [o for o in api if o.startswith("https://")] == [site], stage


def test_compose_deploys_the_site_after_ingest() -> None:
    # The CSP imports ingest's export: the site stack must follow ingest (compose removes it first)
    assert service_order(REPO) == ["ingest", "transcode", "nlp", "web"]
    compose = yaml.safe_load((REPO / "serverless-compose.yml").read_text())
    assert compose["services"]["web"] == {"path": "deploy/web", "dependsOn": ["ingest"]}


def test_cfn_lint_is_clean(sites: dict[str, Path]) -> None:
    proc = subprocess.run(
        [str(CFN_LINT), "--format", "json", *map(str, sites.values())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_checkov_fails_nothing_outside_the_skip_list(sites: dict[str, Path]) -> None:
    assert CHECKOV.exists(), "checkov missing: `make tools` creates .venv-tools (make test does)"
    args = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--output", "json", "--compact"]
    for path in sites.values():
        args += ["--file", str(path)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert sum(r["summary"]["passed"] for r in reports) >= 3 * 8  # checkov really looked at the templates
    skips = yaml.safe_load(SKIPS.read_text())
    assert all(str(entry.get("reason", "")).strip() for entry in skips)
    used: set[int] = set()
    unexplained = []
    for report in reports:
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
    assert not unexplained, "\n".join(sorted(set(unexplained)))
    assert used == set(range(len(skips))), "skip entries the templates no longer trigger"
