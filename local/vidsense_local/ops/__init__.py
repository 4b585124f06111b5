"""Operator tools behind the ``vidsense`` CLI: archive replays, dead-letter queues, answer status.

They use only the AWS APIs (boto3 with the usual credentials, region and ``AWS_ENDPOINT_URL``), so the same
commands work against AWS and against the embedded local stack (``--stage local``).
"""
