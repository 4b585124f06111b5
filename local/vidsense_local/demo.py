"""``make demo``: one video answer through the whole local pipeline, as a browser and a person would see it.

Uses a running ``make up`` stack when its ports answer, otherwise starts one for the run and stops it after.
Each run uses a fresh email, so the answer is new every time and the demo passes on every run.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from vidsense_local.auth import DEFAULT_AUDIENCE, default_issuer, issue_token, load_or_create_key
from vidsense_local.clients import LOCAL_REGION, local_client
from vidsense_local.paths import REPO_ROOT, state_dir
from vidsense_local.serving import port_in_use
from vidsense_local.stack import (
    STATE_FILE,
    LocalStack,
    StackConfig,
    configure_logging,
    exit_now,
)
from vidsense_shared.answers_table import AnswerItems
from vidsense_shared.resources import LOCAL_STAGE, StageResources

SAMPLE = REPO_ROOT / "local" / "samples" / "answer.webm"
FINAL_STATUSES = frozenset({"ANALYZED", "NO_SPEECH", "FAILED"})
ANSWERS_TABLE = StageResources(LOCAL_STAGE).answers_table


@dataclass(frozen=True)
class StackEndpoints:
    api_url: str
    aws_url: str
    issuer: str
    audience: str
    # Where the stack keeps its key pair (None: .local/ or VIDSENSE_LOCAL_DIR).
    state_dir: Path | None = None


def _stack_state() -> dict[str, Any]:
    """What the running stack recorded (stack.json), or nothing when none has."""
    path = state_dir() / STATE_FILE
    state: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return state


def endpoints_from_env() -> StackEndpoints:
    api_port = int(os.environ.get("VIDSENSE_API_PORT") or 3000)
    aws_port = int(os.environ.get("VIDSENSE_AWS_PORT") or 4566)
    # The running stack records the issuer and audience its deployed authorizer trusts.
    state = _stack_state()
    issuer = state.get("issuer") or default_issuer()
    audience = state.get("audience") or DEFAULT_AUDIENCE
    return StackEndpoints(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", issuer, audience)


def web_url() -> str:
    """The web client's address: the running stack's (stack.json), else ``VIDSENSE_WEB_PORT`` (5173)."""
    return str(_stack_state().get("web_url") or f"http://127.0.0.1:{os.environ.get('VIDSENSE_WEB_PORT') or 5173}")


def stack_is_running(endpoints: StackEndpoints) -> bool:
    try:
        response = requests.get(f"{endpoints.api_url}/.well-known/jwks.json", timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200 and "keys" in response.json()


@contextmanager
def running_stack(say: Any = print) -> Iterator[StackEndpoints]:
    """A stack to talk to: the running one, or one started in this process for the duration."""
    endpoints = endpoints_from_env()
    if stack_is_running(endpoints):
        say(f"using the running stack at {endpoints.api_url} and {endpoints.aws_url}")
        yield endpoints
        return
    config = StackConfig.from_env()
    for port in (config.api_port, config.aws_port):
        if port_in_use(port):
            raise RuntimeError(f"port {port} is taken by something that is not a vidsense stack")
    say("no running stack: starting one for this run (stopped at the end)...")
    with LocalStack(config) as stack:
        say(f"stack ready in {stack.timings['total']:.1f} s")
        yield endpoints_from_env()


class ApiClient:
    """What a browser does against the HTTP API, with a bearer token."""

    def __init__(self, endpoints: StackEndpoints, email: str, groups: list[str] | None = None) -> None:
        self.endpoints = endpoints
        self.email = email
        key = load_or_create_key(endpoints.state_dir)
        self.token = issue_token(
            key, email, groups=groups, issuer=endpoints.issuer, audience=endpoints.audience, expires_in=3600
        )
        self.session = requests.Session()
        # A page served by the local stack's own origin (the local stage's CORS configuration allows it).
        self.origin = "http://localhost:" + endpoints.api_url.rsplit(":", 1)[1]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.origin, "Accept": "application/json"}

    def preflight(self, path: str) -> requests.Response:
        return self.session.options(
            self.endpoints.api_url + path,
            headers={
                "Origin": self.origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
            timeout=10,
        )

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.endpoints.api_url + path, headers=self._headers(), timeout=120)

    def presign(self, project: str, step: str) -> requests.Response:
        return self.get(f"/presignedurl/{project}/{step}")

    def upload(self, presigned: dict[str, Any], video: bytes, filename: str = "answer.webm") -> requests.Response:
        upload = presigned["upload"]
        if upload["method"] == "POST":
            return requests.post(
                upload["url"], data=upload["fields"], files={"file": (filename, video, "video/webm")}, timeout=60
            )
        return requests.put(upload["url"], data=video, headers=upload.get("headers", {}), timeout=60)

    def wait_final(
        self, project: str, step: str, timeout: float = 300.0, *, interval: float = 0.2, max_interval: float = 1.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        # Polling backs off to 1 s by default: each poll is a function invocation, and on a small machine a tight
        # loop competes with the pipeline it waits for (the benchmark polls at a short fixed interval instead).
        while time.monotonic() < deadline:
            response = self.get(f"/answers/{project}/{step}")
            if response.status_code == 200:
                last = response.json()
                if last.get("status") in FINAL_STATUSES:
                    return last
            elif response.status_code != 404:
                raise RuntimeError(f"GET /answers/{project}/{step}: {response.status_code} {response.text}")
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.5, max_interval)
        raise TimeoutError(f"answer {project}/{step} not final after {timeout:.0f} s (last: {last})")


def answer_item(endpoints: StackEndpoints, answer_id: str) -> dict[str, Any]:
    """The read-model item, straight from the answers table at the local AWS endpoint, as plain values (the one
    mapping of the table's items, vidsense_shared.answers_table, as ingest writes it and `vidsense status` reads it);
    empty when there is none."""
    dynamodb = local_client("dynamodb", endpoints.aws_url, LOCAL_REGION)
    return AnswerItems(ANSWERS_TABLE, dynamodb).get(answer_id) or {}


def trail_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    trail = item.get("trail") or {}
    entries = list(trail.values()) if isinstance(trail, dict) else list(trail)
    return sorted(entries, key=lambda e: str(e.get("occurred_at", "")))


def answer_id_from_key(key: str) -> str:
    return key.removesuffix(".webm")


def run_demo(endpoints: StackEndpoints, say: Any = print, sample: Path = SAMPLE) -> bool:
    project, step = "demo", "1"
    email = f"demo-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}@example.com"
    client = ApiClient(endpoints, email)
    say(f"\n1. a person ({email}) signs in: token from the local issuer {endpoints.issuer}")

    preflight = client.preflight(f"/presignedurl/{project}/{step}")
    say(f"2. the browser asks for an upload: preflight OPTIONS -> {preflight.status_code}, ", end="")
    response = client.presign(project, step)
    say(f"GET /presignedurl/{project}/{step} -> {response.status_code}")
    if response.status_code != 200:
        say(f"   unexpected answer: {response.text}")
        return False
    presigned = response.json()
    say(f"   key {presigned['key']} ({presigned['upload']['method']} form, expires in {presigned['expires_in']} s)")

    video = sample.read_bytes()
    uploaded_at = time.time()
    upload = client.upload(presigned, video)
    say(f"3. upload {sample.name} ({len(video) / 1024:.0f} KiB) -> {upload.status_code}")
    if upload.status_code >= 300:
        say(f"   upload refused: {upload.text[:500]}")
        return False

    say("4. waiting for the pipeline (transcode -> speech to text -> sentiment)...")
    answer = client.wait_final(project, step)
    elapsed = time.time() - uploaded_at
    say(f"   status {answer['status']} after {elapsed:.1f} s")
    if answer["status"] != "ANALYZED":
        say(f"   error: {answer.get('error')}")
        return False
    say(f'\n   transcript: "{answer["transcript"]}"')
    scores = answer.get("sentiment_score") or {}
    rendered = ", ".join(f"{name} {value:.2f}" for name, value in scores.items())
    say(f"   sentiment:  {answer['sentiment']} ({rendered})")

    item = answer_item(endpoints, answer_id_from_key(presigned["key"]))
    trail = trail_of(item)
    say(f"\n5. event trail of the answer (answers table {ANSWERS_TABLE}, time since the upload):")
    for entry in trail:
        offset = datetime.fromisoformat(str(entry["occurred_at"])).timestamp() - uploaded_at
        say(f"   +{offset:6.2f} s  {entry['detail_type']:<22} attempt {entry.get('attempt')}  {entry['event_id']}")

    again = client.presign(project, step)
    say(f"\n6. the same person asks to upload again: GET /presignedurl/{project}/{step} -> {again.status_code}")
    say(f"   {again.headers.get('Content-Type')}: {again.text}")
    say(f"\n7. the same in a browser (while `make up` runs): {web_url()}/record?project=demo&step=2")
    say(f"   reviewers (tick Reviewer when signing in): {web_url()}/review?project={project}&step={step}")
    return again.status_code == 403 and bool(trail)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM (from make) unwinds like Ctrl-C, so a stack started for the run is stopped, not orphaned.
    raise KeyboardInterrupt


def main() -> int:
    def say(text: str, end: str = "\n") -> None:
        print(text, end=end, flush=True)

    signal.signal(signal.SIGTERM, _interrupt)
    configure_logging()

    try:
        with running_stack(say) as endpoints:
            ok = run_demo(endpoints, say)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    print("\ndemo passed" if ok else "\ndemo FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    exit_now(main())
