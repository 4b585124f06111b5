"""Optimistic concurrency on a revision number: read, decide, write only if nobody wrote in between.

The use case runs ``retry_on_conflict`` around one round (read the item and its revision, compute, conditional
write); the DynamoDB adapter writes with ``revision_condition`` and raises the caller's conflict error when the
condition fails. Imports no AWS SDK: the service domains use it (import-linter contract).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REVISION_ATTRIBUTE = "revision"
# A lost race re-reads and decides again; a few rounds settle any real contention.
MAX_WRITE_ROUNDS = 8


def retry_on_conflict[T](
    write_round: Callable[[], T], *, conflict: type[Exception], subject: str, rounds: int = MAX_WRITE_ROUNDS
) -> T:
    """``write_round``'s result from the first round that does not raise ``conflict``.

    Each round must read again: a round that raised ``conflict`` wrote nothing, so the next one decides afresh.
    After ``rounds`` lost races, ``conflict`` is raised naming ``subject``.
    """
    for _ in range(rounds):
        try:
            return write_round()
        except conflict:
            continue
    raise conflict(f"{subject} kept changing during {rounds} write rounds")


def next_revision(expected_revision: int | None) -> int:
    """The revision a write stores: 1 for a new item, one more than the revision it was read at otherwise."""
    return 1 if expected_revision is None else expected_revision + 1


def revision_condition(expected_revision: int | None, *, key_attribute: str) -> dict[str, Any]:
    """A PutItem/DeleteItem condition (low-level client shape): the item is still at ``expected_revision``, or
    does not exist yet when it is None."""
    if expected_revision is None:
        return {"ConditionExpression": f"attribute_not_exists({key_attribute})"}
    return {
        "ConditionExpression": "#rev = :rev",
        "ExpressionAttributeNames": {"#rev": REVISION_ATTRIBUTE},
        "ExpressionAttributeValues": {":rev": {"N": str(expected_revision)}},
    }
