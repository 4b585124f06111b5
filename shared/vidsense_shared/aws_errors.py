"""Reading the error code AWS answered with, in one place.

Duck-typed on the ``response`` botocore's ``ClientError`` carries (its modelled subclasses and a client's
``exceptions.ClientError`` alias too), so this module imports no AWS SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


def _error(exc: BaseException) -> Mapping[str, object]:
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def error_code(exc: BaseException) -> str:
    """The AWS error code (``NoSuchKey``, ``ThrottlingException``, ...); "" for an error AWS did not answer."""
    return str(_error(exc).get("Code", ""))


def error_message(exc: BaseException) -> str:
    """AWS's own message for the error; "" when it sent none."""
    return str(_error(exc).get("Message", ""))


def is_conditional_check_failed(exc: BaseException) -> bool:
    """A DynamoDB condition was false: the caller lost a race or the item is not in the state it expected."""
    return error_code(exc) == CONDITIONAL_CHECK_FAILED


def conditional_write(operation: Callable[..., object], **request: Any) -> bool:
    """Call one conditional DynamoDB write (``client.put_item``, ``update_item``, ``delete_item``) with
    ``request``: True when it wrote, False when its condition was false; any other error is raised."""
    try:
        operation(**request)
    except Exception as exc:
        if is_conditional_check_failed(exc):
            return False
        raise
    return True
