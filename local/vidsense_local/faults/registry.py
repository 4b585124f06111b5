"""Fault rules and the registry that matches them, thread-safe (the edge serves requests on many threads)."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: What a rule does. ``error``: the edge answers the matched request with an AWS error. The others are acted on
#: by the stand-ins when a job runs: ``job-error`` (MediaConvert: the job ends ERROR), ``job-failed``
#: (Transcribe: the job ends FAILED), ``transcript-missing`` (Transcribe: COMPLETED, but the output is deleted).
EFFECTS: tuple[str, ...] = ("error", "job-error", "job-failed", "transcript-missing")
_JOB_EFFECTS = {"job-error": "mediaconvert", "job-failed": "transcribe", "transcript-missing": "transcribe"}
_DEFAULT_CODES = {"job-error": "1999", "job-failed": "", "transcript-missing": ""}
#: Job effects of either stand-in: ``drop-event`` (the job finishes, but its final "Job State Change" event is
#: not published: events are best effort) and ``job-stuck`` (the job stays PROGRESSING / IN_PROGRESS and never
#: finishes). Both exercise the reconciler.
_EITHER_SERVICE_EFFECTS = {"drop-event": ("mediaconvert", "transcribe"), "job-stuck": ("mediaconvert", "transcribe")}
EFFECTS += tuple(_EITHER_SERVICE_EFFECTS)
_JOB_EFFECTS_ANY = {**{effect: (service,) for effect, service in _JOB_EFFECTS.items()}, **_EITHER_SERVICE_EFFECTS}


class RuleError(ValueError):
    """A rule that cannot be registered (answered 400 by the control API)."""


@dataclass
class FaultRule:
    """One fault. ``service`` is the SigV4 signing name (``comprehend``, ``dynamodb``, ``s3``, ...); ``operation``
    the operation name (X-Amz-Target suffix, or the REST operation name such as ``CreateJob``), ``*`` for any.
    ``count`` limits how often it fires (None: no limit); ``probability`` fires it on that share of matching
    requests, drawn from ``random.Random(seed)`` so a run is reproducible."""

    service: str
    operation: str = "*"
    code: str = "ThrottlingException"
    status: int = 400
    message: str = ""
    count: int | None = 1
    probability: float | None = None
    seed: int = 0
    effect: str = "error"
    access_key: str | None = None  # only requests signed with this key (e.g. the functions', not the stand-ins')
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    fired: int = 0
    seen: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.service = self.service.lower()
        if self.effect not in EFFECTS:
            raise RuleError(f"effect must be one of {', '.join(EFFECTS)}, not {self.effect!r}")
        if self.effect in _JOB_EFFECTS_ANY:
            if self.service not in _JOB_EFFECTS_ANY[self.effect]:
                raise RuleError(f"effect {self.effect} applies to service {' or '.join(_JOB_EFFECTS_ANY[self.effect])}")
            if self.code == "ThrottlingException":
                self.code = _DEFAULT_CODES.get(self.effect, "")
            self.operation = "*"  # a job fault is about the next job, whichever call started it
        if not 100 <= self.status <= 599:
            raise RuleError("status must be an HTTP status code")
        if self.count is not None and self.count < 0:
            raise RuleError("count must be at least 0 (or null for no limit)")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise RuleError("probability must be between 0 and 1")
        if not self.message:
            self.message = f"Injected fault: {self.code or self.effect}"
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible test faults, not secrets

    @property
    def remaining(self) -> int | None:
        return None if self.count is None else max(0, self.count - self.fired)

    def _matches(self, service: str, operation: str | None, access_key: str | None) -> bool:
        return (
            self.service == service
            and self.operation in ("*", operation)
            and (self.access_key is None or self.access_key == access_key)
        )

    def _draw(self) -> bool:
        """Called with the registry lock held: one RNG draw per matching request keeps a seeded run reproducible."""
        if self.remaining == 0:
            return False
        self.seen += 1
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "service": self.service,
            "operation": self.operation,
            "effect": self.effect,
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "count": self.count,
            "probability": self.probability,
            "seed": self.seed,
            "access_key": self.access_key,
            "fired": self.fired,
            "seen": self.seen,
            "remaining": self.remaining,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        known = {"service", "operation", "code", "status", "message", "count", "probability", "seed", "effect"}
        unknown = set(data) - known - {"access_key"}
        if unknown:
            raise RuleError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("service"), str) or not data["service"]:
            raise RuleError("service (the SigV4 signing name) is required")
        try:
            return cls(
                service=str(data["service"]),
                operation=str(data.get("operation", "*")),
                code=str(data.get("code", "ThrottlingException")),
                status=int(data.get("status", 400)),
                message=str(data.get("message", "")),
                count=None if data.get("count", 1) is None else int(data.get("count", 1)),
                probability=None if data.get("probability") is None else float(data["probability"]),
                seed=int(data.get("seed", 0)),
                effect=str(data.get("effect", "error")),
                access_key=None if data.get("access_key") is None else str(data["access_key"]),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError(f"invalid rule: {exc}") from exc


class FaultRegistry:
    """The rules in the order they were added; the first that matches and fires wins."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """``add(FaultRule(...))`` or ``add(service=..., operation=..., ...)``; returns the registered rule."""
        if rule is None:
            rule = FaultRule.from_json(fields)
        elif fields:
            raise TypeError("pass a FaultRule or its fields, not both")
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def match(
        self, service: str, operation: str | None, access_key: str | None = None, effect: str = "error"
    ) -> FaultRule | None:
        """The rule that fires for this request (counting it), or None."""
        with self._lock:
            for rule in self._rules:
                if rule.effect == effect and rule._matches(service, operation, access_key) and rule._draw():
                    return rule
        return None

    def job_fault(self, service: str, effect: str) -> tuple[str, str] | None:
        """The stand-ins' hook: ``(code, message)`` when the job about to run must end with ``effect``."""
        rule = self.match(service, None, None, effect)
        return None if rule is None else (rule.code, rule.message)
