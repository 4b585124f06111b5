"""The physical names of one stage's resources, for the operator CLI, the local stack, the pipelines and the tests.

services/*/serverless.yml and deploy/serverless/params.yml declare these names for CloudFormation and stay the
source of truth; tests/unit/shared/test_resources.py keeps this module equal to them. The functions themselves read
the names from the environment variables their serverless.yml sets, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass

APP = "vidsense"
# The stage the embedded local stack deploys (make up, the e2e tests).
LOCAL_STAGE = "local"


@dataclass(frozen=True)
class StageResources:
    """Names of what the three services deploy to ``stage`` (``service`` is ingest, transcode or nlp)."""

    stage: str

    @property
    def prefix(self) -> str:
        """Every service's own resource names start with this (``custom.prefix``)."""
        return f"{APP}-{self.stage}"

    @property
    def bus(self) -> str:
        return f"{self.prefix}-bus"

    @property
    def archive(self) -> str:
        return f"{self.prefix}-archive"

    @property
    def answers_table(self) -> str:
        return f"{self.prefix}-answers"

    @property
    def transcode_jobs_table(self) -> str:
        return f"{self.prefix}-transcode-jobs"

    @property
    def metadata_table(self) -> str:
        return f"{self.prefix}-metadata"

    @property
    def mediaconvert_role(self) -> str:
        return f"{self.prefix}-mediaconvert"

    @property
    def transcribe_data_access_role(self) -> str:
        return f"{self.prefix}-transcribe-data-access"

    @property
    def user_key_parameter(self) -> str:
        """The SSM parameter of the user-key secret (stage parameter ``userKeyParameter``, as no stage overrides)."""
        return f"/{APP}/{self.stage}/user-key-secret"

    @property
    def site_stack(self) -> str:
        """The web client's site stack (deploy/web, after ingest), which ``vidsense_ops.website`` publishes to."""
        return self.stack("web")

    def media_bucket(self, account: str) -> str:
        return f"{self.prefix}-media-{account}"

    def work_bucket(self, account: str) -> str:
        return f"{self.prefix}-work-{account}"

    def service_prefix(self, service: str) -> str:
        """The start of ``service``'s rule, dead-letter queue and alarm names (``failurePaths.namePrefix``)."""
        return f"{self.prefix}-{service}"

    def stack(self, service: str) -> str:
        """The Framework's stack of ``service`` (or of ``web``, the site): ``<service:>-<stage>``."""
        return f"{APP}-{service}-{self.stage}"

    def function(self, service: str, function: str) -> str:
        """The Framework's name of ``function`` (its key under ``functions:``): ``<stack>-<function>``."""
        return f"{self.stack(service)}-{function}"
