"""Operator tools behind the ``vidsense`` CLI: archive replays, dead-letter queues, answer status, smoke test.

A package of its own (ops/pyproject.toml) needing only boto3 and vidsense_shared: ``pip install ./shared ./ops``
gives ``vidsense`` with these commands; the repository's .venv adds the local stack's (``vidsense_local.cli``).

They use only the AWS APIs, so the same commands work against AWS and against the embedded local stack: see
``clients`` for how a stage's clients are made (``--stage local`` needs no environment) and how their failures
become one line for the operator.
"""
