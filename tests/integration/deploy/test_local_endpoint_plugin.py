"""deploy/plugins/vidsense-local-endpoint.js skips ValidateTemplate for the local stage only (issue 15, item 10).

The plugin runs in node under the Framework's hook, against a stand-in AwsDeploy whose validateTemplate reports
whether it still runs: a real deploy of any other stage is validated even when AWS_ENDPOINT_URL is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.integration.deploy.conftest import REPO

PLUGIN = REPO / "deploy" / "plugins" / "vidsense-local-endpoint.js"
# argv: plugin path, stage. Prints "validated" when AwsDeploy.validateTemplate still validates, else "skipped".
HARNESS = r"""
const Plugin = require(process.argv[1]);
const stage = process.argv[2];
class AwsDeploy {
  async validateTemplate() { return 'validated'; }
}
const deploy = new AwsDeploy();
const serverless = {
  getProvider: (name) => (name === 'aws' ? { getStage: () => stage } : undefined),
  pluginManager: { plugins: [{}, deploy] },
  classes: { Error },
  service: { provider: { name: 'aws', stage } },
};
const plugin = new Plugin(serverless, { stage }, { log: { info: () => {} } });
(async () => {
  await plugin.hooks['before:aws:deploy:deploy:validateTemplate']();
  process.stdout.write((await deploy.validateTemplate()) === 'validated' ? 'validated' : 'skipped');
})().catch((error) => { console.error(error); process.exit(1); });
"""
LOCAL_ENDPOINT = "http://127.0.0.1:4566"


def _validation_after_hook(stage: str, endpoint: str | None) -> str:
    node = shutil.which("node")
    assert node, "node is required by the deployment tests (make node_modules)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    proc = subprocess.run(
        [node, "-e", HARNESS, str(PLUGIN), stage], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("stage", "endpoint", "expected"),
    [
        ("prod", LOCAL_ENDPOINT, "validated"),
        ("dev", "https://vpce-0abc.cloudformation.us-east-1.vpce.amazonaws.com", "validated"),
        ("itest", LOCAL_ENDPOINT, "validated"),
        ("local", None, "validated"),
        ("local", LOCAL_ENDPOINT, "skipped"),
    ],
)
def test_template_validation_is_skipped_only_for_the_local_stage_on_a_local_endpoint(
    stage: str, endpoint: str | None, expected: str
) -> None:
    # Given a deploy of `stage` with AWS_ENDPOINT_URL set (or not)
    # When the plugin's hook runs before CloudFormation ValidateTemplate
    # Then the template is still validated unless the stage is local and the endpoint is set
    assert _validation_after_hook(stage, endpoint) == expected
