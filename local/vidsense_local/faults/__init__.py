"""Fault injection for the local AWS endpoint and the stand-ins, so tests can make AWS fail on purpose.

Public API::

    registry = FaultRegistry()
    app = faults.wrap(edge_app, registry, standins=standins)   # WSGI middleware
    registry.add(service="comprehend", operation="DetectSentiment", code="ThrottlingException", count=2)
    registry.add(service="dynamodb", operation="PutItem", code="ProvisionedThroughputExceededException",
                 probability=0.2, seed=7, count=None)
    registry.add(service="mediaconvert", effect="job-error", count=1)       # next job ends ERROR
    registry.add(service="transcribe", effect="job-failed", message="...")  # next job ends FAILED
    registry.add(service="transcribe", effect="transcript-missing")         # COMPLETED, output object deleted
    registry.add(service="transcribe", effect="drop-event")                 # finishes, no state-change event
    registry.add(service="mediaconvert", effect="job-stuck")                # stays PROGRESSING, never finishes
    registry.rules(); registry.remove(rule_id); registry.clear()

A rule (``FaultRule``): ``service`` (SigV4 signing name), ``operation`` (X-Amz-Target suffix for JSON protocols,
``Action`` for query, the model's operation name for REST such as ``CreateJob`` or ``PutObject``; ``*`` any),
``code``, ``status`` (default 400), ``message``, ``count`` (default 1; null: unlimited), ``probability`` with
``seed`` (each rule has its own ``random.Random(seed)``: the same requests fire the same way every run),
``effect`` (``error`` by default) and ``access_key`` (only requests signed with that key). The first rule in
order that matches and fires answers the request in the service's protocol (JSON ``__type`` + the
``x-amzn-ErrorType`` header, rest-json, S3 XML or query XML), so botocore raises the modelled exception and
its retry policy sees what it would see from AWS. Fired rules stay listed with ``fired``/``remaining``.

Control API on the wrapped endpoint (JSON): ``POST /_vidsense/faults`` (a rule or a list) -> 201,
``GET /_vidsense/faults`` -> ``{"rules": [...]}``, ``DELETE /_vidsense/faults`` (all),
``DELETE /_vidsense/faults/{id}``. ``FaultClient(endpoint_url)`` calls it from Python.
"""

from vidsense_local.faults.client import FaultClient
from vidsense_local.faults.middleware import CONTROL_PATH, FaultInjector, wrap
from vidsense_local.faults.registry import EFFECTS, FaultRegistry, FaultRule, RuleError

__all__ = [
    "CONTROL_PATH",
    "EFFECTS",
    "FaultClient",
    "FaultInjector",
    "FaultRegistry",
    "FaultRule",
    "RuleError",
    "wrap",
]
