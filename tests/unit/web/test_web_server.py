"""The local stack's web server (vidsense_local.web): the client's files, config.json from the stack, the single page
for the client's routes, and the deployed site's headers (CSP that allows exactly the API, issuer and media bucket)."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from vidsense_local.web import WEB_ROOT, WebApp, WebConfig

CONFIG = WebConfig(
    api_url="http://127.0.0.1:3000",
    issuer="http://127.0.0.1:3000",
    client_id="vidsense-local",
    media_origin="http://127.0.0.1:4566",
    max_recording_seconds=45,
)


@pytest.fixture
def client() -> Client:
    return Client(WebApp(CONFIG))


def test_config_json_comes_from_the_running_stack_not_from_the_build(client: Client) -> None:
    # Given a stack's API, issuer and client id, When the client asks for its settings
    response = client.get("/config.json")
    # Then they are the stack's, never cached
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {
        "apiUrl": "http://127.0.0.1:3000",
        "issuer": "http://127.0.0.1:3000",
        "clientId": "vidsense-local",
        "scope": "openid email profile",
        "maxRecordingSeconds": 45,
        "pollIntervalMs": 1000,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert not (WEB_ROOT / "config.json").exists()  # nothing baked into the files


@pytest.mark.parametrize("path", ["/", "/record?project=p&step=1", "/review?project=p&step=1", "/callback?code=x"])
def test_the_client_routes_answer_with_the_single_page(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_data() == (WEB_ROOT / "index.html").read_bytes()


def test_modules_are_served_as_javascript_and_nothing_outside_web(client: Client) -> None:
    assert client.get("/app.js").headers["Content-Type"].startswith("text/javascript")
    assert client.get("/../pyproject.toml").status_code == 404
    assert client.get("/%2e%2e/pyproject.toml").status_code == 404
    assert client.get("/missing.js").status_code == 404
    assert client.post("/config.json").status_code == 405


def test_every_answer_carries_the_sites_headers_with_a_csp_for_exactly_the_stacks_origins(client: Client) -> None:
    csp = client.get("/record").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["connect-src"].split() == ["'self'", "http://127.0.0.1:3000", "http://127.0.0.1:4566"]
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert client.get("/style.css").headers["X-Content-Type-Options"] == "nosniff"


def test_before_the_stack_is_up_the_site_says_so() -> None:
    # Given the web port bound before the API exists (its origin is part of the deployment)
    starting = Client(WebApp(None))
    # When a browser asks, Then it is told to come back shortly
    response = starting.get("/config.json")
    assert response.status_code == 503
    assert "starting" in response.get_data(as_text=True)
