"""``vidsense smoke --stage S``: one answer through a deployed stage, as a person and a browser would send it.

Finds the stage from the ingest stack's outputs, signs a throw-away person in (a user of the stage's pool created
with the admin API for ``identity: cognito``; ``VIDSENSE_SMOKE_TOKEN`` for ``identity: external``; the local
stand-in's OAuth code flow with PKCE for ``--stage local``), records the bundled sample answer through presign and
the presigned POST, waits for ``ANALYZED``, checks transcript and sentiment, erases the answer and removes the user.
Each step prints one line with its time; the first failure names its step and what it saw.

Only boto3 and the standard library here (HTTP with urllib): the operator package needs only boto3 and
vidsense_shared. The local sign-in imports the local stack's client registration (vidsense_local) lazily, so
``--stage local`` works where the local stack is installed (the repository's ``.venv``) and says so in one line
where it is not (the standalone operator install).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from botocore.exceptions import ClientError

from vidsense_ops.clients import OperatorError, explain, ingest_outputs
from vidsense_shared.aws_errors import error_code, error_message
from vidsense_shared.resources import LOCAL_STAGE, StageResources

API_URL_OUTPUT = "HttpApiUrl"  # the Framework's output for the HTTP API
IDENTITY_OUTPUT = "IdentityProvider"
ISSUER_OUTPUT = "Issuer"
USER_POOL_OUTPUT = "UserPoolId"
CLIENT_OUTPUT = "UserPoolClientId"
COGNITO, EXTERNAL = "cognito", "external"
TOKEN_VARIABLE = "VIDSENSE_SMOKE_TOKEN"  # noqa: S105 - the variable's name
TIMEOUT_VARIABLE = "VIDSENSE_SMOKE_TIMEOUT"
DEFAULT_TIMEOUT = 300.0
SAMPLE = Path(__file__).resolve().parent / "samples" / "answer.webm"  # package data of vidsense_ops
STEP = "1"
SENTIMENTS = frozenset({"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"})
SCORE_KEYS = frozenset({"Positive", "Negative", "Neutral", "Mixed"})
# Final statuses other than ANALYZED: waiting longer will not change them.
DEAD_ENDS = frozenset({"FAILED", "NO_SPEECH", "DELETING"})
HTTP_TIMEOUT = 60.0
EXCERPT = 300
# Polling backs off from 1 s to 10 s: each poll is a function invocation, cheap but not free.
FIRST_INTERVAL, MAX_INTERVAL = 1.0, 10.0

# Step names, in order (the e2e test and the docs quote them).
STEPS = (
    "find stage",
    "create user",
    "sign in",
    "presign",
    "upload",
    "wait for ANALYZED",
    "check transcript",
    "check sentiment",
    "erase",
    "wait until erased",
    "remove user",
)


class SmokeFailure(Exception):
    """A step of the smoke test failed: the stage does not work as it should."""

    def __init__(self, step: str, saw: str) -> None:
        super().__init__(f"{step}: {saw}")
        self.step = step
        self.saw = saw


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def excerpt(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= EXCERPT else text[:EXCERPT] + "..."


class Http(Protocol):
    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to look at (the sign-in flow reads its Location), not something to follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def urllib_http(
    method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
) -> Response:
    """One HTTP request; any status is a Response, an unreachable host raises ``OSError``."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}), method=method)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=HTTP_TIMEOUT) as reply:
            return Response(reply.status, dict(reply.headers.items()), reply.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers.items()), exc.read())


@dataclass(frozen=True)
class SmokeStage:
    """What the smoke test needs of a deployed stage, from the ingest stack's outputs."""

    stage: str
    api_url: str
    identity: str
    issuer: str
    user_pool_id: str | None = None
    client_id: str | None = None


def find_stage(cloudformation: Any, stage: str) -> SmokeStage:
    """The stage's API and sign-in, read from its ingest stack; OperatorError (exit 2) when not deployed."""
    otherwise = "check --stage and the region and account of your credentials"
    outputs = ingest_outputs(cloudformation, stage, otherwise=otherwise)

    def output(key: str) -> str:
        if not outputs.get(key):
            raise OperatorError(
                f"the stack {StageResources(stage).stack('ingest')} has no {key} output (deployed before it had"
                " one?): deploy the ingest service again"
            )
        return outputs[key]

    identity = output(IDENTITY_OUTPUT)
    issuer = output(ISSUER_OUTPUT)
    # moto creates no HTTP API: the local stage's API is the local issuer's origin (the stand-in serves both).
    api_url = issuer if stage == LOCAL_STAGE else output(API_URL_OUTPUT)
    if identity == COGNITO:
        return SmokeStage(stage, api_url.rstrip("/"), identity, issuer, output(USER_POOL_OUTPUT), output(CLIENT_OUTPUT))
    return SmokeStage(stage, api_url.rstrip("/"), identity, issuer)


def throwaway_email(run_id: str) -> str:
    return f"vidsense-{run_id}@example.com"


def strong_password() -> str:
    """Random, and meets any pool policy: lower and upper case, digits and a symbol, 30+ characters."""
    return secrets.token_urlsafe(24) + "aZ7!"


def create_user(cognito: Any, pool: str, email: str) -> None:
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )


def cognito_id_token(cognito: Any, pool: str, client_id: str, email: str) -> str:
    """A permanent random password, then the admin password flow (the web client allows it for this test)."""
    password = strong_password()
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    token = result.get("AuthenticationResult", {}).get("IdToken")
    if not token:
        challenge = result.get("ChallengeName")
        raise SmokeFailure("sign in", f"AdminInitiateAuth returned no ID token (challenge {challenge})")
    return str(token)


def remove_user(cognito: Any, pool: str, email: str) -> None:
    cognito.admin_delete_user(UserPoolId=pool, Username=email)


def _s256(verifier: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def require_local_sign_in() -> None:
    """OperatorError (exit 2) when the local stack's package, which the local sign-in uses, is not installed."""
    try:
        import vidsense_local.auth.userpool  # noqa: F401, PLC0415 - the local path only
    except ImportError:
        raise OperatorError(
            "--stage local signs in through the local stack's package (vidsense_local), which this install lacks:"
            " run `.venv/bin/vidsense smoke --stage local` from the repository (make setup)"
        ) from None


def local_id_token(http: Http, issuer: str, email: str) -> str:
    """Sign in at the local stand-in as the web client does: authorize with PKCE, the sign-in form, the code."""
    from vidsense_local.auth.userpool import local_app_client  # noqa: PLC0415 - the local path only

    web = local_app_client()
    step = "sign in"
    discovery = _expect(http("GET", f"{issuer}/.well-known/openid-configuration"), 200, step, "OpenID discovery")
    endpoints = discovery.json()
    verifier = secrets.token_urlsafe(48)
    callback = web.callback_urls[0]
    query = {
        "response_type": "code",
        "client_id": web.client_id,
        "redirect_uri": callback,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(8),
        "code_challenge": _s256(verifier),
        "code_challenge_method": "S256",
    }
    authorize_url = f"{endpoints['authorization_endpoint']}?{urlencode(query)}"
    authorize = _expect(http("GET", authorize_url), 302, step, "authorize")
    form_url = urljoin(authorize_url, authorize.headers.get("Location", ""))
    form = _expect(http("GET", form_url), 200, step, "sign-in form")
    action = re.search(r'<form[^>]*action="([^"]+)"', form.text)  # the form's own target, as a browser posts it
    hidden = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text)
    }
    posted = _expect(
        http(
            "POST",
            urljoin(form_url, action.group(1) if action else "/login"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode({**hidden, "email": email}).encode(),
        ),
        302,
        step,
        "sign-in form post",
    )
    location = urlsplit(posted.headers.get("Location", ""))
    codes = parse_qs(location.query).get("code")
    if not codes:
        raise SmokeFailure(step, f"the sign-in form sent the browser to {posted.headers.get('Location')!r}, no code")
    tokens = _expect(
        http(
            "POST",
            endpoints["token_endpoint"],
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": web.web_origins[0]},
            body=urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": codes[0],
                    "redirect_uri": callback,
                    "client_id": web.client_id,
                    "code_verifier": verifier,
                }
            ).encode(),
        ),
        200,
        step,
        "token",
    )
    token = tokens.json().get("id_token")
    if not token:
        raise SmokeFailure(step, f"the token endpoint returned no id_token: {tokens.excerpt()}")
    return str(token)


def _expect(response: Response, status: int, step: str, what: str) -> Response:
    if response.status != status:
        raise SmokeFailure(step, f"{what} answered {response.status}, not {status}: {response.excerpt()}")
    return response


def multipart(fields: Mapping[str, str], file_name: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    """A browser's form POST: every field, then the file (S3 ignores fields after it)."""
    boundary = f"vidsense-smoke-{secrets.token_hex(12)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Api:
    """The stage's HTTP API as the signed-in person."""

    http: Http
    base_url: str
    token: str

    def call(self, method: str, path: str) -> Response:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return self.http(method, self.base_url + path, headers=headers)


@dataclass
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def wait_for_analysis(api: Api, path: str, timeout: float, clock: Clock) -> dict[str, Any]:
    """GET the answer with backoff until ANALYZED; a dead-end status, a 4xx other than 404 or the deadline fail."""
    step = "wait for ANALYZED"
    deadline = clock.monotonic() + timeout
    interval, last = FIRST_INTERVAL, "no answer yet (404)"
    while True:
        response = api.call("GET", path)
        if response.status == 200:
            view: dict[str, Any] = response.json()
            status = view.get("status")
            if status == "ANALYZED":
                return view
            last = f"status {status}" + (f" (error {view['error']})" if view.get("error") else "")
            if status in DEAD_ENDS:
                raise SmokeFailure(step, f"the answer ended {last}, not ANALYZED")
        elif response.status == 404:
            last = "no answer yet (404)"
        elif 400 <= response.status < 500:
            raise SmokeFailure(step, f"GET {path} answered {response.status}: {response.excerpt()}")
        else:
            last = f"GET answered {response.status}: {response.excerpt()}"
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise SmokeFailure(step, f"not ANALYZED within {timeout:.0f} s; last seen: {last}")
        clock.sleep(min(interval, remaining))
        interval = min(interval * 1.5, MAX_INTERVAL)


def wait_until_erased(api: Api, path: str, timeout: float, clock: Clock) -> None:
    step = "wait until erased"
    deadline = clock.monotonic() + timeout
    interval = FIRST_INTERVAL
    while True:
        response = api.call("GET", path)
        if response.status == 404:
            return
        last = f"GET answered {response.status}: {response.excerpt()}"
        if response.status != 200 and 400 <= response.status < 500:
            raise SmokeFailure(step, last)
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise SmokeFailure(step, f"still there after {timeout:.0f} s; last seen: {last}")
        clock.sleep(min(interval, remaining))
        interval = min(interval * 1.5, MAX_INTERVAL)


def check_transcript(view: Mapping[str, Any]) -> str:
    transcript = view.get("transcript")
    if not isinstance(transcript, str) or not transcript.strip():
        raise SmokeFailure("check transcript", f"the ANALYZED answer has no transcript ({transcript!r})")
    return transcript


def check_sentiment(view: Mapping[str, Any]) -> str:
    label, scores = view.get("sentiment"), view.get("sentiment_score")
    if label not in SENTIMENTS:
        raise SmokeFailure("check sentiment", f"sentiment {label!r} is none of {', '.join(sorted(SENTIMENTS))}")
    if (
        not isinstance(scores, dict)
        or set(scores) != SCORE_KEYS
        or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in scores.values())
    ):
        raise SmokeFailure("check sentiment", f"sentiment_score is not four scores from 0 to 1: {scores!r}")
    return str(label)


@dataclass
class Report:
    """One line per step: its name, its time and what it found."""

    out: TextIO
    clock: Clock
    started: float = field(default=0.0)

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Yields a list the step may append details to; a failure is printed (and re-raised) with its time."""
        begin = self.clock.monotonic()
        details: list[str] = []
        try:
            yield details
        except SmokeFailure as exc:
            self.line(f"FAIL {name:<18} {self.clock.monotonic() - begin:6.1f} s  {exc.saw}")
            raise
        except ClientError as exc:
            if explain(exc, None) is not None:
                raise  # credentials or permissions: the error boundary says it in one line (exit 2)
            saw = f"{exc.operation_name}: {error_code(exc)}: {error_message(exc)}"
            self.line(f"FAIL {name:<18} {self.clock.monotonic() - begin:6.1f} s  {saw}")
            raise SmokeFailure(name, saw) from exc
        except OSError as exc:  # unreachable API or sign-in endpoint
            self.line(f"FAIL {name:<18} {self.clock.monotonic() - begin:6.1f} s  request failed: {exc}")
            raise SmokeFailure(name, f"request failed: {exc}") from exc
        except (ValueError, KeyError) as exc:  # an answer that is not the JSON the API documents
            self.line(f"FAIL {name:<18} {self.clock.monotonic() - begin:6.1f} s  unexpected answer: {exc!r}")
            raise SmokeFailure(name, f"unexpected answer: {exc!r}") from exc
        self.line(f"ok   {name:<18} {self.clock.monotonic() - begin:6.1f} s  {' '.join(details)}".rstrip())


@dataclass(frozen=True)
class SmokeOptions:
    stage: str
    timeout: float = DEFAULT_TIMEOUT
    sample: Path = SAMPLE
    token: str | None = None  # VIDSENSE_SMOKE_TOKEN, for identity: external


def new_run_id(now: datetime | None = None) -> str:
    """Unique per run: runs never share a project (nor, with cognito, a person and their daily limit)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dt%H%M%S")
    return f"smoke-{stamp}-{secrets.token_hex(3)}"


def run_smoke(
    options: SmokeOptions,
    client: Callable[[str], Any],
    *,
    out: TextIO,
    http: Http = urllib_http,
    clock: Clock | None = None,
    run_id: str | None = None,
) -> None:
    """Every step in order; raises SmokeFailure at the first that fails, after removing what it created."""
    if options.stage == LOCAL_STAGE:
        require_local_sign_in()
    clock = clock or Clock()
    report = Report(out, clock)
    run = _Run(options, report, http, clock, run_id or new_run_id(), options.sample.read_bytes())
    with report.step("find stage") as found:
        stage = find_stage(client("cloudformation"), options.stage)
        found.append(f"{stage.api_url} (identity {stage.identity}; project {run.project})")
    if stage.identity == EXTERNAL and options.stage != LOCAL_STAGE and not options.token:
        raise OperatorError(
            f"stage {options.stage} signs people in with its own provider (identity external, issuer"
            f" {stage.issuer}): set {TOKEN_VARIABLE} to an ID token of a test person of that provider"
        )
    cognito = client("cognito-idp") if stage.identity == COGNITO and options.stage != LOCAL_STAGE else None
    try:
        api = Api(http, stage.api_url, run.sign_in(stage, cognito))
        run.record(api)
        run.check_analysis(api)
        run.erase(api)
    except BaseException:
        # The step's failure is what the run reports; cleaning up after it must not replace it.
        with suppress(Exception):
            run.clean_up(stage, cognito)
        raise
    run.clean_up(stage, cognito)


@dataclass
class _Run:
    """One smoke run: its unique project and person, and what it created so far (to remove after a failure)."""

    options: SmokeOptions
    report: Report
    http: Http
    clock: Clock
    run_id: str
    sample: bytes
    user_created: bool = False
    uploaded_with: Api | None = None
    erase_asked: bool = False

    @property
    def project(self) -> str:
        return self.run_id

    @property
    def email(self) -> str:
        return throwaway_email(self.run_id)

    @property
    def path(self) -> str:
        return f"/answers/{self.project}/{STEP}"

    def sign_in(self, stage: SmokeStage, cognito: Any) -> str:
        if cognito is not None:
            assert stage.user_pool_id is not None and stage.client_id is not None
            with self.report.step("create user") as done:
                create_user(cognito, stage.user_pool_id, self.email)
                self.user_created = True
                done.append(f"{self.email} in {stage.user_pool_id}")
        with self.report.step("sign in") as done:
            if self.options.stage == LOCAL_STAGE:
                done.append("local stand-in: authorize with PKCE, sign-in form, code")
                return local_id_token(self.http, stage.issuer, self.email)
            if cognito is not None:
                assert stage.user_pool_id is not None and stage.client_id is not None
                done.append("AdminInitiateAuth ADMIN_USER_PASSWORD_AUTH")
                return cognito_id_token(cognito, stage.user_pool_id, stage.client_id, self.email)
            assert self.options.token is not None
            done.append(f"token from {TOKEN_VARIABLE}")
            return self.options.token

    def record(self, api: Api) -> None:
        with self.report.step("presign") as done:
            url = f"/presignedurl/{self.project}/{STEP}"
            presigned = _expect(api.call("GET", url), 200, "presign", f"GET {url}")
            form = presigned.json()
            upload = form.get("upload") or {}
            if not upload.get("url") or not isinstance(upload.get("fields"), dict):
                raise SmokeFailure("presign", f"no upload form in {presigned.excerpt()}")
            done.append(str(form.get("key", "")))
        with self.report.step("upload") as done:
            body, content_type = multipart(upload["fields"], "answer.webm", self.sample, "video/webm")
            # Before the POST: S3 may store the object and the connection drop before its answer (an OSError here),
            # and the clean-up must still erase it. Erasing an answer that never landed is harmless (a 404).
            self.uploaded_with = api
            sent = self.http("POST", upload["url"], headers={"Content-Type": content_type}, body=body)
            if not 200 <= sent.status < 300:
                raise SmokeFailure("upload", f"POST {upload['url']} answered {sent.status}: {sent.excerpt()}")
            done.append(f"{len(self.sample)} bytes, {sent.status}")

    def check_analysis(self, api: Api) -> None:
        with self.report.step("wait for ANALYZED") as done:
            view = wait_for_analysis(api, self.path, self.options.timeout, self.clock)
            done.append("ANALYZED")
        with self.report.step("check transcript") as done:
            done.append(f"{len(check_transcript(view).split())} words")
        with self.report.step("check sentiment") as done:
            done.append(check_sentiment(view))

    def erase(self, api: Api) -> None:
        with self.report.step("erase") as done:
            self.erase_asked = True  # whatever the answer, cleaning up would only ask again
            _expect(api.call("DELETE", self.path), 202, "erase", f"DELETE {self.path}")
            done.append("202")
        with self.report.step("wait until erased") as done:
            wait_until_erased(api, self.path, self.options.timeout, self.clock)
            done.append("404")

    def clean_up(self, stage: SmokeStage, cognito: Any) -> None:
        if self.uploaded_with is not None and not self.erase_asked:
            _erase_quietly(self.uploaded_with, self.path, self.report)
        if cognito is not None and self.user_created:
            assert stage.user_pool_id is not None
            with self.report.step("remove user") as done:
                remove_user(cognito, stage.user_pool_id, self.email)
                done.append(self.email)


def _erase_quietly(api: Api, path: str, report: Report) -> None:
    """After a failure, ask for the answer's erasure anyway: a smoke test leaves nothing of its own behind."""
    try:
        response = api.call("DELETE", path)
        report.line(f"     cleanup: DELETE {path} answered {response.status}")
    except OSError as exc:
        report.line(f"     cleanup: DELETE {path} failed: {exc}")
