"""vidsense_shared.resources names what services/*/serverless.yml and deploy/serverless/params.yml declare.

The YAML is read as written (no packaging: fast) and its ``${...}`` variables resolved for one stage, the way the
Framework does for the names below.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs (installed with moto)

from vidsense_shared.resources import StageResources

REPO = Path(__file__).resolve().parents[3]
SERVICES = ("ingest", "transcode", "nlp")
STAGE = "qa7"  # any stage: params.yml lists dev, prod and local, so this one gets the defaults
ACCOUNT = "123456789012"
NAMES = StageResources(STAGE)
_VARIABLE = re.compile(r"\$\{(sls:stage|self:custom\.(\w+)|param:(\w+)|AWS::AccountId)\}")


# Reads `!Sub x`, `!Ref x`... as their plain value: the names below are plain strings either way.
_CloudFormationYaml: Any = type("_CloudFormationYaml", (yaml.SafeLoader,), {})
_CloudFormationYaml.add_multi_constructor(
    "!", lambda loader, _tag, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
)


@cache
def _params() -> dict[str, Any]:
    params: dict[str, Any] = yaml.load((REPO / "deploy" / "serverless" / "params.yml").read_text(), _CloudFormationYaml)
    return params


@cache
def _serverless(service: str) -> dict[str, Any]:
    text = (REPO / "services" / service / "serverless.yml").read_text()
    config: dict[str, Any] = yaml.load(text, _CloudFormationYaml)
    return config


def _resolve(service: str, value: str) -> str:
    """``value`` with the stage, custom variables, default stage parameters and the account substituted."""

    def one(match: re.Match[str]) -> str:
        custom, param = match.group(2), match.group(3)
        if custom:
            return str(_serverless(service)["custom"][custom])
        if param:
            return str(_params()["default"][param])
        return STAGE if match.group(1) == "sls:stage" else ACCOUNT

    while _VARIABLE.search(value):
        value = _VARIABLE.sub(one, value)
    return value


def _declared(service: str, logical_id: str, name_property: str) -> str:
    resource = _serverless(service)["resources"]["Resources"][logical_id]
    return _resolve(service, resource["Properties"][name_property])


@pytest.mark.parametrize("service", SERVICES)
def test_the_stacks_functions_and_prefixes_are_the_ones_each_service_declares(service: str) -> None:
    # Given a service's serverless.yml
    config = _serverless(service)
    custom = config["custom"]
    # Then the Framework's stack (<service>-<stage>) and function names (<stack>-<key>, no `name` override) match
    assert NAMES.stack(service) == f"{config['service']}-{STAGE}"
    assert config["functions"]
    for key, function in config["functions"].items():
        assert "name" not in function, f"{service}.{key} overrides its name"
        assert NAMES.function(service, key) == f"{config['service']}-{STAGE}-{key}"
    # And the service's own names start where the module says, its bus is the stage's bus
    assert _resolve(service, custom["prefix"]) == NAMES.prefix
    assert _resolve(service, custom["failurePaths"]["namePrefix"]) == NAMES.service_prefix(service)
    assert _resolve(service, custom["busName"]) == NAMES.bus


def test_the_site_stack_is_the_one_the_web_service_deploys() -> None:
    # Given deploy/web/serverless.yml, the site's service in serverless-compose.yml
    web = yaml.load((REPO / "deploy" / "web" / "serverless.yml").read_text(), _CloudFormationYaml)
    # Then its stack is the one the operator CLI publishes to
    assert NAMES.site_stack == f"{web['service']}-{STAGE}"


def test_the_bus_archive_tables_buckets_and_role_are_the_ones_the_templates_create() -> None:
    assert _declared("ingest", "EventBus", "Name") == NAMES.bus
    assert _declared("ingest", "EventArchive", "ArchiveName") == NAMES.archive
    assert _declared("ingest", "AnswersTable", "TableName") == NAMES.answers_table
    assert _declared("ingest", "MediaBucket", "BucketName") == NAMES.media_bucket(ACCOUNT)
    assert _declared("transcode", "WorkBucket", "BucketName") == NAMES.work_bucket(ACCOUNT)
    assert _declared("transcode", "JobsTable", "TableName") == NAMES.transcode_jobs_table
    assert _declared("transcode", "MediaConvertRole", "RoleName") == NAMES.mediaconvert_role
    assert _declared("transcode", "TranscribeDataAccessRole", "RoleName") == NAMES.transcribe_data_access_role
    assert _declared("nlp", "MetadataTable", "TableName") == NAMES.metadata_table


def test_the_user_key_parameter_is_the_stage_parameters_for_every_stage() -> None:
    # Given the stage parameters: no listed stage names another user-key parameter than the default's rule
    overrides = {stage for stage, values in _params().items() if stage != "default" and "userKeyParameter" in values}
    assert not overrides
    # Then the module's name is the default's, and the api function reads that parameter
    assert _resolve("ingest", "${param:userKeyParameter}") == NAMES.user_key_parameter
    api_environment = _serverless("ingest")["functions"]["api"]["environment"]
    assert api_environment["USER_KEY_PARAMETER"] == "${param:userKeyParameter}"
