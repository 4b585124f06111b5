"""Route selection with API Gateway's rules (the routes are the deployment's: ``vidsense_local.discovery``).

API Gateway picks the most specific route: full literal matches first, then routes with path variables, then
greedy ``{proxy+}``, and a method-specific route before ``ANY``; ``$default`` catches what nothing else matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from vidsense_local.discovery.model import HttpRoute


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str] = field(default_factory=dict)


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment != ""]


def _match_template(template: str, path: str) -> tuple[dict[str, str], tuple[int, int, int]] | None:
    """Path parameters and a specificity score (higher wins), or None when the template does not match."""
    wanted = _segments(template)
    given = _segments(path)
    params: dict[str, str] = {}
    literals = variables = 0
    for index, part in enumerate(wanted):
        if part.startswith("{") and part.endswith("+}"):
            if index != len(wanted) - 1 or len(given) <= index:
                return None
            params[part[1:-2]] = "/".join(unquote(p) for p in given[index:])
            return params, (0, literals, variables)
        if index >= len(given):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(given[index])
            variables += 1
        elif part != given[index]:
            return None
        else:
            literals += 1
    if len(given) != len(wanted):
        return None
    return params, (1, literals, variables)


def select_route(routes: Sequence[HttpRoute], method: str, path: str) -> RouteMatch | None:
    best: tuple[tuple[int, int, int, int], RouteMatch] | None = None
    default: HttpRoute | None = None
    for route in routes:
        if route.path == "$default":
            default = route
            continue
        if route.method not in (method, "ANY"):
            continue
        matched = _match_template(route.path, path)
        if matched is None:
            continue
        params, score = matched
        rank = (*score, 1 if route.method == method else 0)
        if best is None or rank > best[0]:
            best = (rank, RouteMatch(route=route, path_parameters=params))
    if best is not None:
        return best[1]
    return RouteMatch(route=default) if default is not None else None
