"""The committed pipeline templates are exactly what the generator produces from the one definition."""

import pytest

from pipelines import generate
from pipelines.definition import MAX_TRIGGER_PATHS, SERVICES, path_filters


@pytest.mark.parametrize("service", SERVICES)
def test_committed_template_matches_generator(service: str) -> None:
    committed = generate.template_path(service).read_text()
    assert committed == generate.render(service), "run: python -m pipelines.generate"


def test_check_mode_reports_drift(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "TEMPLATES", tmp_path)
    assert generate.main(["--check"]) == 1  # nothing written yet
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    path = tmp_path / "pipeline-nlp.yml"
    path.write_text(path.read_text().replace("vidsense-nlp", "vidsense-nlq"))
    assert generate.main(["--check"]) == 1


@pytest.mark.parametrize("service", SERVICES)
def test_trigger_paths_fit_codepipeline_limits(service: str) -> None:
    filters = path_filters(service)
    assert 1 <= len(filters) <= MAX_TRIGGER_PATHS
    assert all(1 <= len(f) <= 255 for f in filters)
    assert len(set(filters)) == len(filters)


def test_unknown_service_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        path_filters("billing")


def test_inline_source_is_one_module_without_package_imports() -> None:
    source = generate.inline_function_source()
    assert "from pipelines" not in source
    assert "def handler(" in source
    assert "def first_match(" in source
    compile(source, "index.py", "exec")
