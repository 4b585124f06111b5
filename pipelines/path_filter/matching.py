"""Path filters in the glob language of CodePipeline's file-path triggers (pure, no AWS).

Rules, as CodePipeline documents them for trigger filters:
- ``*`` matches zero or more characters of one path component (it never crosses ``/``);
- ``**`` matches zero or more characters across directory boundaries (``a/**/b`` also matches ``a/b``);
- ``?`` matches one character of a component, ``[abc]`` / ``[a-z]`` / ``[!abc]`` one character of a set;
- ``{x,y}`` matches any of the comma-separated alternatives (each may contain globs);
- ``\\`` escapes the next character.
A pattern matches the whole path from the repository root (``Makefile`` matches only the root Makefile).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any


def _translate(pattern: str) -> str:
    """The regular-expression body for one glob pattern."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 1
        elif c == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            if negate:
                body = body[1:]
            escaped = "".join(ch if ch == "-" else re.escape(ch) for ch in body)
            out.append(f"[^/{escaped}]" if negate else f"[{escaped}]")
            i = end
        elif c == "{" and (end := pattern.find("}", i + 1)) != -1:
            alternatives = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(_translate(alt) for alt in alternatives) + ")")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A compiled matcher for ``pattern``; raises ValueError for an empty pattern."""
    cleaned = pattern.strip().lstrip("/")
    if not cleaned:
        raise ValueError("empty path filter")
    return re.compile(_translate(cleaned))


def path_matches(path: str, pattern: str) -> bool:
    """True when the repository path ``path`` matches the glob ``pattern``."""
    return compile_glob(pattern).fullmatch(path.lstrip("/")) is not None


def first_match(paths: Iterable[str], patterns: Sequence[str]) -> str | None:
    """The first path that matches any of ``patterns``, or None."""
    matchers = [compile_glob(p) for p in patterns]
    for path in paths:
        candidate = path.lstrip("/")
        if any(m.fullmatch(candidate) for m in matchers):
            return path
    return None


def changed_paths(differences: Iterable[Mapping[str, Any]]) -> list[str]:
    """The paths touched by CodeCommit ``GetDifferences`` entries.

    An added file has only ``afterBlob``, a deleted one only ``beforeBlob``, a modified or renamed one both;
    a rename counts for both its old and its new path (moving a file out of a service changes that service).
    """
    seen: dict[str, None] = {}
    for entry in differences:
        for side in ("beforeBlob", "afterBlob"):
            blob = entry.get(side)
            if isinstance(blob, Mapping):
                path = blob.get("path")
                if isinstance(path, str) and path:
                    seen.setdefault(path, None)
    return list(seen)
