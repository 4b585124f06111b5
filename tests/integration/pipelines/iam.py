"""A small IAM policy evaluator for the pipeline tests: does a set of statements allow or deny an action on a
resource, with the template's pseudo parameters and references replaced by example values."""

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "vidsense-ingest-pipeline",
    "AWS::URLSuffix": "amazonaws.com",
}
ACCOUNT = PSEUDO["AWS::AccountId"]


def resolve(node: Any, refs: Mapping[str, str]) -> Any:
    """``node`` with Fn::Sub, Ref and Fn::Join replaced by strings (``refs``: logical id -> value, plus the pseudo
    parameters); anything else that cannot be decided stays as it is."""
    names = {**PSEUDO, **refs}
    if isinstance(node, list):
        return [resolve(v, refs) for v in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in names:
        return names[node["Ref"]]
    if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
        text = node["Fn::Sub"]
        for name, value in names.items():
            text = text.replace("${" + name + "}", value)
        return text
    if set(node) == {"Fn::Join"}:
        separator, parts = node["Fn::Join"]
        resolved = [resolve(p, refs) for p in parts]
        if all(isinstance(p, str) for p in resolved):
            return separator.join(resolved)
    return {k: resolve(v, refs) for k, v in node.items()}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: Any, value: str) -> bool:
    # IAM wildcards: `*` any run of characters (also `/` and `:`), `?` one character; nothing else is special.
    return isinstance(pattern, str) and fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            wanted = [str(v) for v in as_list(expected)]
            present = key in context
            if operator == "StringEquals" and not (present and context[key] in wanted):
                return False
            if operator == "StringNotEquals" and present and context[key] in wanted:
                return False
            if operator not in ("StringEquals", "StringNotEquals"):
                raise NotImplementedError(operator)
    return True


def applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if not any(_action_matches(a, action) for a in as_list(statement["Action"])):
        return False
    if not any(_matches(r, resource) for r in as_list(statement["Resource"])):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(
    statements: Iterable[Mapping[str, Any]], action: str, resource: str, context: Mapping[str, str] | None = None
) -> bool:
    """Some Allow applies and no Deny does (IAM's evaluation for one principal's identity policies)."""
    context = context or {}
    statements = list(statements)
    if any(s["Effect"] == "Deny" and applies(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and applies(s, action, resource, context) for s in statements)
