"""Operator tools behind the ``vidsense`` CLI: archive replays, dead-letter queues, answer status.

They use only the AWS APIs, so the same commands work against AWS and against the embedded local stack: see
``clients`` for how a stage's clients are made (``--stage local`` needs no environment) and how their failures
become one line for the operator.
"""
