"""The path-filter globs: CodePipeline trigger semantics, and each service's filters select its own changes."""

from typing import Any

import pytest

from pipelines.definition import SERVICES, path_filters
from pipelines.path_filter.matching import changed_paths, compile_glob, first_match, path_matches


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("services/nlp/serverless.yml", "services/nlp/**"),
        ("services/nlp/src/nlp/handlers/analyze.py", "services/nlp/**"),
        ("Makefile", "Makefile"),
        ("/Makefile", "Makefile"),
        ("package-lock.json", "package*.json"),
        ("package.json", "package*.json"),
        ("pipelines/buildspec-build.yml", "pipelines/buildspec-*.yml"),
        ("a/b", "a/**/b"),
        ("a/x/y/b", "a/**/b"),
        ("pyproject.toml", "{Makefile,pyproject.toml}"),
        ("tests/unit/nlp/test_x.py", "tests/*/nlp/**"),
        ("file1.txt", "file?.txt"),
        ("v2.py", "v[0-9].py"),
        ("va.py", "v[!0-9].py"),
        ("a*b", "a\\*b"),
        ("docs/x.java", "docs/*.{java,class}"),
    ],
)
def test_matches(path: str, pattern: str) -> None:
    assert path_matches(path, pattern)


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("services/nlpx/serverless.yml", "services/nlp/**"),
        ("services/ingest/serverless.yml", "services/nlp/**"),
        ("docs/Makefile", "Makefile"),
        ("Makefile.bak", "Makefile"),
        ("pipelines/templates/pipeline-nlp.yml", "pipelines/buildspec-*.yml"),
        ("pipelines/sub/buildspec-x.yml", "pipelines/buildspec-*.yml"),
        ("tests/unit/x/nlp/t.py", "tests/*/nlp/**"),
        ("file12.txt", "file?.txt"),
        ("a/bc", "a/?"),
        ("ab/c", "ab?c"),
        ("v1.py", "v[!0-9].py"),
        ("axb", "a\\*b"),
        ("README.md", "{Makefile,pyproject.toml}"),
        ("a/b/c", "a/*"),
    ],
)
def test_does_not_match(path: str, pattern: str) -> None:
    assert not path_matches(path, pattern)


def test_empty_pattern_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        compile_glob("  ")


def test_first_match_returns_first_matching_path_in_order() -> None:
    paths = ["docs/cicd.md", "services/nlp/a.py", "shared/x.py"]
    assert first_match(paths, ["shared/**", "services/nlp/**"]) == "services/nlp/a.py"
    assert first_match(["docs/cicd.md", "README.md"], ["shared/**"]) is None
    assert first_match([], ["shared/**"]) is None


def test_changed_paths_covers_adds_deletes_and_both_sides_of_renames() -> None:
    differences: list[dict[str, Any]] = [
        {"afterBlob": {"path": "services/nlp/new.py"}, "changeType": "A"},
        {"beforeBlob": {"path": "services/ingest/gone.py"}, "changeType": "D"},
        {
            "beforeBlob": {"path": "services/transcode/old.py"},
            "afterBlob": {"path": "docs/moved.py"},
            "changeType": "M",
        },
        {"beforeBlob": {"path": "shared/a.py"}, "afterBlob": {"path": "shared/a.py"}, "changeType": "M"},
        {"changeType": "M"},
    ]
    assert changed_paths(differences) == [
        "services/nlp/new.py",
        "services/ingest/gone.py",
        "services/transcode/old.py",
        "docs/moved.py",
        "shared/a.py",
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_selects_its_own_folder_and_the_shared_files_only(service: str) -> None:
    filters = path_filters(service)
    own = [f"services/{service}/serverless.yml", f"tests/unit/{service}/test_a.py"]
    shared = [
        "shared/vidsense_shared/events.py",
        "deploy/plugins/vidsense-bundle.js",
        "requirements/dev.lock",
        "Makefile",
        "package.json",
        "package-lock.json",
        "serverless-compose.yml",
        "pyproject.toml",
        "pipelines/buildspec-build.yml",
        "pipelines/buildspec-deploy.yml",
    ]
    for path in own + shared:
        assert first_match([path], filters) == path, path
    others = [s for s in SERVICES if s != service]
    for other in others:
        assert first_match([f"services/{other}/serverless.yml", f"tests/unit/{other}/t.py"], filters) is None
    for unrelated in ["README.md", "docs/cicd.md", "local/vidsense_local/cli.py", "pipelines/generate.py"]:
        assert first_match([unrelated], filters) is None, unrelated
