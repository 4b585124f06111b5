"""The local deploy reuses a service's package exactly when nothing its packaging reads has changed."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from vidsense_local.deploy_cache import DeployCache, DeployFailed, deploy_stage, inputs_key, service_order

COMPOSE = """services:
  ingest:
    path: services/ingest
  transcode:
    path: services/transcode
    dependsOn:
      - ingest
  nlp:
    path: services/nlp
    dependsOn: [ingest]
"""


def _tree(root: Path) -> Path:
    """A deploy tree shaped like the repository's: compose file, deploy/ params, shared/, three services."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "serverless-compose.yml").write_text(COMPOSE)
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (root / "deploy" / "serverless").mkdir(parents=True)
    (root / "deploy" / "serverless" / "params.yml").write_text("jwtIssuer: http://127.0.0.1:${env:VIDSENSE_API_PORT}\n")
    (root / "deploy" / "plugins").mkdir()
    (root / "deploy" / "plugins" / "endpoint.js").write_text("const url = process.env.AWS_ENDPOINT_URL;\n")
    (root / "shared" / "vidsense_shared").mkdir(parents=True)
    (root / "shared" / "vidsense_shared" / "bus.py").write_text("BUS = 1\n")
    for service in ("ingest", "transcode", "nlp"):
        src = root / "services" / service / "src" / service
        src.mkdir(parents=True)
        (root / "services" / service / "serverless.yml").write_text(f"service: vidsense-{service}\n")
        (src / "handler.py").write_text("def handler(event, context): return 1\n")
    return root


class FakeServerless:
    """Stands in for `serverless deploy`: packaging writes .serverless (a zip and a state file naming the tree
    by absolute path, as the Framework's does); `--package DIR` needs that folder to be there."""

    def __init__(self, tree: Path, fail: str = "") -> None:
        self.tree = tree
        self.calls: list[tuple[str, list[str]]] = []
        self.fail = fail

    def __call__(self, command: list[str], cwd: Path) -> int:
        service = cwd.name
        self.calls.append((service, command[1:]))
        if service == self.fail:
            return 3
        package = cwd / ".serverless"
        if "--package" in command:
            state = json.loads((cwd / command[command.index("--package") + 1] / "serverless-state.json").read_text())
            assert Path(state["artifact"]).read_bytes() == (cwd / "src" / service / "handler.py").read_bytes()
            return 0
        package.mkdir()
        (package / f"vidsense-{service}.zip").write_bytes((cwd / "src" / service / "handler.py").read_bytes())
        state = {"artifact": str(package / f"vidsense-{service}.zip")}
        (package / "serverless-state.json").write_text(json.dumps(state))
        (package / "requirements").symlink_to(self.tree)  # the requirements plugin links into the tree
        return 0

    def reused(self) -> dict[str, bool]:
        return {service: "--package" in args for service, args in self.calls}


def _deploy(tree: Path, cache: DeployCache, env: dict[str, str] | None = None, fail: str = "") -> FakeServerless:
    sls = FakeServerless(tree, fail)
    deploy_stage(tree, "local", env or {}, sls, cache, serverless=tree / "serverless")
    return sls


def test_services_deploy_in_compose_order_ingest_first(tmp_path: Path) -> None:
    assert service_order(_tree(tmp_path)) == ["ingest", "transcode", "nlp"]


def test_the_web_site_stack_is_not_deployed_locally(tmp_path: Path) -> None:
    # Given the compose file with the site stack after ingest (make up serves web/ itself)
    tree = _tree(tmp_path)
    (tree / "serverless-compose.yml").write_text(COMPOSE + "  web:\n    path: deploy/web\n    dependsOn: [ingest]\n")
    # When the local stage deploys, Then only the three services are
    assert list(_deploy(tree, DeployCache(tmp_path / "cache")).reused()) == ["ingest", "transcode", "nlp"]


def test_a_restart_with_nothing_changed_reuses_every_package(tmp_path: Path) -> None:
    # Given a first deploy that packaged every service
    cache = DeployCache(tmp_path / "cache")
    first = _deploy(_tree(tmp_path / "one"), cache)
    assert first.reused() == {"ingest": False, "transcode": False, "nlp": False}
    # When a second stack (another deploy tree, same content) deploys
    second = _deploy(_tree(tmp_path / "two"), cache)
    # Then each service is still deployed, with the cached package, from its own folder of the new tree
    assert second.reused() == {"ingest": True, "transcode": True, "nlp": True}
    assert all(args[:3] == ["deploy", "--stage", "local"] for _, args in second.calls)
    state = json.loads((tmp_path / "two" / "services" / "nlp" / ".serverless" / "serverless-state.json").read_text())
    assert state["artifact"].startswith(str(tmp_path / "two"))


def test_a_changed_file_in_one_service_packages_that_service_again(tmp_path: Path) -> None:
    cache = DeployCache(tmp_path / "cache")
    _deploy(_tree(tmp_path / "one"), cache)
    tree = _tree(tmp_path / "two")
    (tree / "services" / "transcode" / "src" / "transcode" / "handler.py").write_text("def handler(e, c): return 2\n")
    second = _deploy(tree, cache)
    assert second.reused() == {"ingest": True, "transcode": False, "nlp": True}
    # and the new package is what a third start reuses
    assert _deploy(_tree_with_change(tmp_path / "three"), cache).reused()["transcode"] is True


def _tree_with_change(root: Path) -> Path:
    tree = _tree(root)
    (tree / "services" / "transcode" / "src" / "transcode" / "handler.py").write_text("def handler(e, c): return 2\n")
    return tree


@pytest.mark.parametrize(
    ("change", "repackaged"),
    [
        (
            lambda t: (t / "shared" / "vidsense_shared" / "bus.py").write_text("BUS = 2\n"),
            {"ingest", "transcode", "nlp"},
        ),
        (
            lambda t: (t / "deploy" / "serverless" / "params.yml").write_text("logLevel: DEBUG\n"),
            {"ingest", "transcode", "nlp"},
        ),
        (lambda t: (t / "package-lock.json").write_text('{"lockfileVersion": 2}'), {"ingest", "transcode", "nlp"}),
        (lambda t: (t / "services" / "nlp" / "requirements.txt").write_text("pydantic==2\n"), {"nlp"}),
    ],
    ids=["shared source", "deploy params", "npm lock", "requirements"],
)
def test_what_every_packaging_reads_is_part_of_the_key(tmp_path: Path, change, repackaged) -> None:  # type: ignore[no-untyped-def]
    cache = DeployCache(tmp_path / "cache")
    _deploy(_tree(tmp_path / "one"), cache)
    tree = _tree(tmp_path / "two")
    change(tree)
    assert {s for s, reused in _deploy(tree, cache).reused().items() if not reused} == repackaged


def test_environment_named_by_the_config_is_part_of_the_key_and_other_variables_are_not(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    key = inputs_key(tree, "ingest", "local", {"VIDSENSE_API_PORT": "3000"})
    # the API port is in the packaged template (the local issuer): another port, another package
    assert inputs_key(tree, "ingest", "local", {"VIDSENSE_API_PORT": "3001"}) != key
    assert inputs_key(tree, "ingest", "dev", {"VIDSENSE_API_PORT": "3000"}) != key
    # the endpoint is read only when deploying, and unrelated variables are read by nothing
    same = {"VIDSENSE_API_PORT": "3000", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "HOME": "/elsewhere"}
    assert inputs_key(tree, "ingest", "local", same) == key


def test_a_failed_deploy_stores_nothing_and_stops_before_the_next_service(tmp_path: Path) -> None:
    cache = DeployCache(tmp_path / "cache")
    tree = _tree(tmp_path / "one")
    with pytest.raises(DeployFailed, match="ingest failed with exit code 3"):
        _deploy(tree, cache, fail="ingest")
    assert not (tmp_path / "cache" / "ingest").exists() or not any((tmp_path / "cache" / "ingest").iterdir())
    assert not (tmp_path / "cache" / "transcode").exists()


def test_two_stacks_storing_the_same_package_at_once_leave_one_complete_entry(tmp_path: Path) -> None:
    cache = DeployCache(tmp_path / "cache")
    trees = [_tree(tmp_path / name) for name in ("one", "two", "three", "four")]
    errors: list[BaseException] = []

    def deploy(tree: Path) -> None:
        try:
            _deploy(tree, cache)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(tree,)) for tree in trees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for service in ("ingest", "transcode", "nlp"):
        entries = list((tmp_path / "cache" / service).iterdir())
        assert len(entries) == 1, entries  # no half-copied or leftover folders
        assert sorted(p.name for p in entries[0].iterdir()) == [
            "packaged-in",
            "serverless-state.json",
            f"vidsense-{service}.zip",
        ]


def test_old_entries_are_pruned_most_recently_used_last(tmp_path: Path) -> None:
    cache = DeployCache(tmp_path / "cache")
    for port in range(3000, 3007):
        _deploy(_tree(tmp_path / str(port)), cache, env={"VIDSENSE_API_PORT": str(port)})
    assert len(list((tmp_path / "cache" / "ingest").iterdir())) == 4
    assert _deploy(_tree(tmp_path / "again"), cache, env={"VIDSENSE_API_PORT": "3006"}).reused()["ingest"]


def test_the_ready_line_gives_each_phase_and_each_service_deploy() -> None:
    from vidsense_local.stack import READY_LINE, LocalStack, StackConfig  # noqa: PLC0415 - heavy, only here

    stack = LocalStack(StackConfig())
    stack.timings = {"edge": 0.5, "seed": 1.0, "deploy ingest (package reused)": 3.5, "deploy nlp (packaged)": 6.0}
    stack.timings |= {"deploy": 9.6, "api": 1.6, "prewarm": 0.6, "total": 13.3}
    first = stack.ready_message().splitlines()[0]
    assert first == (
        f"{READY_LINE} (started in 13.3 s: edge 0.5 s, seed 1.0 s, "
        "deploy 9.6 s (ingest package reused 3.5 s, nlp packaged 6.0 s), api 1.6 s, prewarm 0.6 s)"
    )
