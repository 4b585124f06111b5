"""Powertools Logger, Tracer and Metrics, configured the same way in every function."""

from __future__ import annotations

import hashlib

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "vidsense"

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)


def redact_email(email: str) -> str:
    """A short stable fingerprint for logs: never log the address itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]
