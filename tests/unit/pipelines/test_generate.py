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


def test_only_the_site_pipeline_is_started_by_the_web_client() -> None:
    assert "web/**" in path_filters("ingest")
    assert not any(f.startswith("web/") for s in ("transcode", "nlp") for f in path_filters(s))


def test_unknown_service_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        path_filters("billing")


def test_inline_source_is_one_module_without_package_imports() -> None:
    source = generate.inline_function_source()
    assert "from pipelines" not in source
    assert "def handler(" in source
    assert "def first_match(" in source
    compile(source, "index.py", "exec")


def _statement(sid: str, n_resources: int) -> dict:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [
            {"Fn::Sub": "arn:${AWS::Partition}:s3:::bucket-" + str(i) + "-${AWS::AccountId}"}
            for i in range(n_resources)
        ],
    }


def test_resolved_size_counts_pseudo_parameters_at_their_longest() -> None:
    doc = {"Resource": {"Fn::Sub": "${AWS::AccountId}"}}
    assert generate.resolved_size(doc) == len('{"Resource":"123456789012"}')


def test_pack_statements_keeps_order_and_budget() -> None:
    statements = [_statement(f"S{i}", 20) for i in range(12)]
    chunks = generate.pack_statements(statements, budget=3000)
    assert len(chunks) > 1
    assert [s for chunk in chunks for s in chunk] == statements
    assert all(generate.resolved_size(generate.policy_document(c)) <= 3000 for c in chunks)
    assert generate.pack_statements(statements[:1], budget=3000) == [statements[:1]]


def test_pack_statements_rejects_a_statement_larger_than_the_budget() -> None:
    with pytest.raises(ValueError, match="S0 alone exceeds"):
        generate.pack_statements([_statement("S0", 200)], budget=3000)
