"""Package size (issue 14, item 4): each service's zip holds only its code; its dependencies come from the official
Powertools layer, and nothing a function imports is missing from the zip, the layer and the Lambda runtime.

In AWS the layer of the pinned Powertools version provides requirements/lambda.txt; here (as in the local stack)
the .venv's packages of those pins stand in for it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.integration.deploy.cfn import functions
from tests.integration.deploy.conftest import PACKAGED_STAGES, REPO, SERVICES, Packaged
from vidsense_bench.cold import CHILD, _lambda_environment, functions_of

GOAL_ZIPPED_BYTES = 1_500_000
LAMBDA_REQUIREMENTS = REPO / "requirements" / "lambda.txt"
# The python3.12 Lambda runtime's own packages: boto3 and what it imports.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
# The ARN Powertools publishes for a version, runtime and architecture (resolved by CloudFormation when deploying).
PUBLISHED_LAYER = re.compile(
    r"\{\{resolve:ssm:/aws/service/powertools/python/(?P<arch>arm64|x86_64)/python(?P<python>3\.\d+)/(?P<version>[\d.]+)\}\}"
)


def _name(distribution: str) -> str:
    return distribution.strip().lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {_name(name): version for name, version in (line.split("==") for line in lines if "==" in line)}


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_each_zip_holds_the_service_and_shared_code_only_within_the_goal(
    packaged: dict[str, Packaged], stage: str
) -> None:
    for service in SERVICES:
        size = packaged[stage].artifact(service).stat().st_size
        assert size <= GOAL_ZIPPED_BYTES, f"{stage}/{service}: {size} bytes zipped"
        roots = {name.split("/")[0] for name in packaged[stage].zip_names(service)}
        assert roots == {service, "vidsense_shared"}, f"{stage}/{service}: {sorted(roots)}"


@pytest.mark.parametrize("stage", PACKAGED_STAGES)
def test_every_function_of_an_aws_stage_has_the_powertools_layer_of_the_pinned_version(
    packaged: dict[str, Packaged], stage: str
) -> None:
    powertools = _pins(LAMBDA_REQUIREMENTS)["aws-lambda-powertools"]
    for service in SERVICES:
        for logical_id, properties in functions(packaged[stage].templates[service]).values():
            [layer] = properties["Layers"]
            published = PUBLISHED_LAYER.fullmatch(layer["Fn::Sub"])
            assert published, f"{stage}/{logical_id}: {layer}"
            assert published["version"] == powertools, f"{stage}/{logical_id}: the layer is not the pinned version"
            assert f"python{published['python']}" == properties["Runtime"], logical_id
            assert [published["arch"]] == properties["Architectures"], logical_id


def test_the_lambda_requirements_are_the_venv_pins() -> None:
    # Given the one set of the functions' dependencies and the .venv's lock (the local stack runs with it)
    lambda_pins, dev_pins = _pins(LAMBDA_REQUIREMENTS), _pins(REPO / "requirements" / "dev.lock")
    # Then the local functions import the versions the layer carries, and this .venv has them installed
    assert {name: dev_pins.get(name) for name in lambda_pins} == lambda_pins
    assert {name: importlib.metadata.version(name) for name in lambda_pins} == lambda_pins


def _link_modules(dest: Path, modules: Iterable[str]) -> Path:
    """A folder holding (links to) the .venv's copies of these top-level modules."""
    dest.mkdir()
    for name in modules:
        module = importlib.import_module(name)
        source = Path(str(module.__file__))
        source = source.parent if source.name == "__init__.py" else source
        (dest / source.name).symlink_to(source)
    return dest


def _layer_modules() -> list[str]:
    """The top-level modules of requirements/lambda.txt's distributions (what the Powertools layer provides)."""
    wanted = set(_pins(LAMBDA_REQUIREMENTS))
    modules = {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if wanted & {_name(d) for d in distributions} and module.isidentifier()
    }
    return sorted(modules - set(RUNTIME_PACKAGES))


@pytest.mark.parametrize("stage", ["prod"])
def test_every_handler_starts_from_its_zip_the_layer_and_the_runtime_alone(
    packaged: dict[str, Packaged], stage: str, tmp_path: Path
) -> None:
    runtime = _link_modules(tmp_path / "runtime", RUNTIME_PACKAGES)
    layer = _link_modules(tmp_path / "layer", _layer_modules())
    for service in SERVICES:
        # Given the zip extracted, the layer's packages and the runtime's own boto3: nothing else of the .venv
        root = tmp_path / service
        with zipfile.ZipFile(packaged[stage].artifact(service)) as archive:
            archive.extractall(root)
        for function in functions_of(service, packaged[stage].templates[service]):
            module, attribute = function.handler.rsplit(".", 1)
            env = _lambda_environment(function)
            env.pop("PYTHONPATH")
            paths = [str(root), str(layer), str(runtime)]
            code = f"import sys\nsys.path[:0] = {paths!r}\n" + CHILD
            # When the handler module is imported and its settings and clients built, as Lambda's init does
            proc = subprocess.run(
                [sys.executable, "-I", "-S", "-c", code, module, attribute],
                env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=tmp_path,
            )
            # Then it starts: nothing it needs is missing
            assert proc.returncode == 0, f"{function.handler}:\n{proc.stderr[-3000:]}"
