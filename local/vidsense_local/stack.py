"""Orchestration of the embedded local stack (``make up``).

Order: local AWS endpoint (moto + stand-ins + function runtime) -> SSM user-key secret -> ``serverless deploy
--stage local`` against that endpoint -> runtime discovers what was deployed -> HTTP API. Runs in the foreground
until SIGINT/SIGTERM (a terminal and make may both deliver one) and then stops everything it started.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shlex
import shutil
import socket
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from vidsense_local.apigw import HttpApiApp, start_api
from vidsense_local.auth import DEFAULT_AUDIENCE, load_or_create_key
from vidsense_local.auth.userpool import LocalUserPool, local_app_client
from vidsense_local.clients import LOCAL_ACCOUNT_ID, LOCAL_REGION, aws_environment, local_client
from vidsense_local.deployer import (
    DEFAULT_DEPLOY_CMD,
    Interrupted,
    LocalDeploy,
    function_sources,
    stage_deploy_tree,
)
from vidsense_local.discovery import RouteTable
from vidsense_local.paths import state_dir
from vidsense_local.runtime.logs import FunctionLog
from vidsense_local.serving import Server, listen
from vidsense_local.shutdown import StopSignals, reap_children
from vidsense_shared.resources import LOCAL_STAGE, StageResources

LOG = logging.getLogger("vidsense_local.stack")

USER_KEY_PARAMETER = StageResources(LOCAL_STAGE).user_key_parameter
READY_LINE = "vidsense local stack ready"
STATE_FILE = "stack.json"


def _port_from_env(name: str, default: int) -> int:
    """The port asked for; 0 asks the kernel for a free one when the stack binds (read back from stack.json)."""
    value = os.environ.get(name)
    if not value:
        return default
    return max(int(value), 0)


@dataclass
class StackConfig:
    api_port: int = 3000
    aws_port: int = 4566
    web_port: int = 5173
    region: str = LOCAL_REGION
    account_id: str = LOCAL_ACCOUNT_ID
    deploy_command: Sequence[str] = field(default_factory=lambda: shlex.split(DEFAULT_DEPLOY_CMD))

    @classmethod
    def from_env(cls) -> StackConfig:
        return cls(
            api_port=_port_from_env("VIDSENSE_API_PORT", 3000),
            aws_port=_port_from_env("VIDSENSE_AWS_PORT", 4566),
            web_port=_port_from_env("VIDSENSE_WEB_PORT", 5173),
            deploy_command=shlex.split(os.environ.get("VIDSENSE_DEPLOY_CMD", DEFAULT_DEPLOY_CMD)),
        )


def user_key_secret(directory: Path) -> str:
    """The per-stage HMAC key for user keys, kept so the same email maps to the same key after a restart."""
    path = directory / "user-key-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


class LocalStack:
    """Everything ``make up`` runs, startable in-process (tests, demo, benchmark) or in the foreground."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._stop_requested = threading.Event()
        self._deploy: LocalDeploy | None = None
        self.runtime: Any = None
        self.edge: Any = None
        self.api: Server | None = None
        self.web: Any = None  # vidsense_local.web.WebHandle
        self.timings: dict[str, float] = {}
        self.stop_timings: dict[str, float] = {}  # seconds each part took to stop, for the last line it prints
        self.aws_url = f"http://127.0.0.1:{config.aws_port}"
        self.api_url = f"http://127.0.0.1:{config.api_port}"
        self.web_url = f"http://127.0.0.1:{config.web_port}"
        self.routes = RouteTable()
        self._function_log: FunctionLog | None = None

    # -- start -------------------------------------------------------------------------------------------
    def _phase(self, name: str, started: float) -> None:
        self.timings[name] = time.monotonic() - started
        if self._stop_requested.is_set():
            raise Interrupted(name)

    def start(self) -> None:
        """Start every part; raises ``Interrupted`` if ``request_stop`` came first (call ``stop`` either way)."""
        begin = time.monotonic()
        # Both ports are bound before anything uses them (port 0: the kernel's choice, read back here), and the
        # servers take these sockets over: no window in which another process could take a port chosen earlier.
        aws_socket = listen(self.config.aws_port)
        try:
            api_socket = listen(self.config.api_port)
        except BaseException:
            aws_socket.close()
            raise
        try:
            self._start(begin, aws_socket, api_socket)
        finally:
            # The servers hold their own duplicates of the descriptors.
            aws_socket.close()
            api_socket.close()

    def _start(self, begin: float, aws_socket: socket.socket, api_socket: socket.socket) -> None:
        # Heavy imports (moto, the engines) only when a stack really starts.
        from vidsense_local.edge import start_edge  # noqa: PLC0415
        from vidsense_local.runtime import FunctionRuntime  # noqa: PLC0415
        from vidsense_local.standins import build_standins  # noqa: PLC0415

        self.config.aws_port = int(aws_socket.getsockname()[1])
        self.config.api_port = int(api_socket.getsockname()[1])
        self.aws_url = f"http://127.0.0.1:{self.config.aws_port}"
        self.api_url = f"http://127.0.0.1:{self.config.api_port}"
        # The web client's origin is part of the deployment (the API's and media bucket's CORS origins, the user
        # pool's callback URLs): its port is bound first; config.json is served once the API is up.
        from vidsense_local.web import WebConfig, start_web  # noqa: PLC0415

        self.web = start_web(self.config.web_port)
        self.config.web_port = self.web.port
        self.web_url = self.web.url
        folder = state_dir()
        # This process and everything it spawns talk to the local endpoint only; the deployment derives the
        # local issuer and CORS origins from the API port.
        os.environ.update(aws_environment(self.aws_url, self.config.region))
        os.environ["VIDSENSE_API_PORT"] = str(self.config.api_port)
        os.environ["VIDSENSE_AWS_PORT"] = str(self.config.aws_port)
        os.environ["VIDSENSE_WEB_PORT"] = str(self.config.web_port)

        started = time.monotonic()
        self._function_log = FunctionLog(folder / "functions.log")
        # The functions run the code that is deployed, as in AWS: the deploy's private copy, taken now, so an
        # edit in the work tree while the stack runs cannot pair new handler code with the old configuration.
        self._deploy = LocalDeploy(
            self.config.deploy_command,
            stage_deploy_tree(),
            aws_environment(self.aws_url, self.config.region),
            self._stop_requested,
        )
        self.runtime = FunctionRuntime(
            self.aws_url,
            self.config.region,
            self.config.account_id,
            extra_pythonpath=function_sources(self._deploy.tree),
            log_sink=self._function_log,
        )
        standins = build_standins(self.aws_url, self.config.region, self.config.account_id, job_log=folder / "jobs.log")
        self.edge = start_edge(
            self.config.aws_port,
            self.runtime,
            standins,
            account_id=self.config.account_id,
            region=self.config.region,
            fd=aws_socket.fileno(),
        )
        self._phase("edge", started)

        started = time.monotonic()
        ssm = local_client("ssm", self.aws_url, self.config.region)
        ssm.put_parameter(Name=USER_KEY_PARAMETER, Value=user_key_secret(folder), Type="SecureString", Overwrite=True)
        self._phase("seed", started)

        started = time.monotonic()
        self._deploy.run(folder / "deploy.log")
        self.timings.update(self._deploy.timings)
        self._phase("deploy", started)

        started = time.monotonic()
        # Discovery also applies what moto's CloudFormation ignores (bucket versioning and CORS, subscriptions...).
        self.routes = self.runtime.refresh().http_api
        if not self.routes.routes:
            raise RuntimeError("the deployment has no HTTP API routes (was the ingest service deployed?)")
        key = load_or_create_key(folder)
        authorizer = self.routes.routes[0].authorizer
        issuer = (authorizer.issuer if authorizer else "") or self.api_url
        # The stand-in for the stage's user pool: its web client's id is the audience the API trusts.
        client = local_app_client(authorizer.audiences[0] if authorizer and authorizer.audiences else DEFAULT_AUDIENCE)
        app = HttpApiApp(
            lambda: self.routes,
            self._invoke,
            key,
            account_id=self.config.account_id,
            issuer_url=issuer,
            user_pool=LocalUserPool(key, issuer, client),
        )
        self.api = start_api(app, self.config.api_port, fd=api_socket.fileno())
        self.web.app.config = WebConfig(
            api_url=self.api_url, issuer=issuer, client_id=client.client_id, media_origin=self.aws_url
        )
        self._phase("api", started)

        started = time.monotonic()
        # The API's functions get their execution environment (imports) before the first request, as with
        # provisioned concurrency: a cold start on a loaded machine must not eat a request's 10 s timeout.
        self.runtime.prewarm({route.function for route in self.routes.routes})
        self._phase("prewarm", started)
        self.timings["total"] = time.monotonic() - begin
        self._write_state(folder)

    def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        result = self.runtime.invoke(function, event)
        if result.function_error:
            raise RuntimeError(f"{function} failed: {result.payload[:500]!r}")
        return result.json()

    def _write_state(self, folder: Path) -> None:
        authorizer = next((r.authorizer for r in self.routes.routes if r.authorizer), None)
        state = {
            "pid": os.getpid(),
            "aws_url": self.aws_url,
            "api_url": self.api_url,
            "web_url": self.web_url,
            # The ports really bound (VIDSENSE_*_PORT=0 lets the kernel choose them).
            "aws_port": self.config.aws_port,
            "api_port": self.config.api_port,
            "issuer": authorizer.issuer if authorizer else None,
            "audience": authorizer.audiences[0] if authorizer and authorizer.audiences else None,
            "timings": self.timings,
        }
        (folder / STATE_FILE).write_text(json.dumps(state, indent=2))

    # -- stop --------------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Safe from a signal handler or another thread; may be called any number of times."""
        self._stop_requested.set()
        if self._deploy is not None:
            self._deploy.request_stop()

    def wait(self) -> None:
        while not self._stop_requested.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop every part started (a deploy still running gets 3 s before SIGKILL)."""
        self._stop_requested.set()
        if self._deploy is not None:
            self._deploy.stop()
        # The API first (no new requests), then the edge and the function workers side by side: each worker
        # gets a grace period, and waiting for them one part after the other doubled the time to stop.
        _stop_quietly("api", self.api, self.stop_timings)
        _stop_quietly("web", self.web, self.stop_timings)
        stoppers = [
            threading.Thread(target=_stop_quietly, args=(part, stopper, self.stop_timings), name=f"stop-{part}")
            for part, stopper in (("edge", self.edge), ("runtime", self.runtime))
            if stopper is not None
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(timeout=20)
        self.api = self.web = self.edge = self.runtime = None
        if self._deploy is not None:
            shutil.rmtree(self._deploy.tree, ignore_errors=True)
            self._deploy = None
        if self._function_log is not None:
            self._function_log.close()
        with contextlib.suppress(FileNotFoundError):
            state = state_dir() / STATE_FILE
            if json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        reap_children()

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def phase_summary(self) -> str:
        """Each phase's seconds, the deploy's per service: "edge 1.2 s, ..., deploy 9.0 s (ingest package reused
        3.1 s, ...), api 0.4 s, prewarm 2.0 s"."""
        services = [
            f"{name.removeprefix('deploy ').replace(' (', ' ').rstrip(')')} {seconds:.1f} s"
            for name, seconds in self.timings.items()
            if name.startswith("deploy ")
        ]
        phases = []
        for name, seconds in self.timings.items():
            if name == "total" or name.startswith("deploy "):
                continue
            detail = f" ({', '.join(services)})" if name == "deploy" and services else ""
            phases.append(f"{name} {seconds:.1f} s{detail}")
        return ", ".join(phases)

    def ready_message(self) -> str:
        routes = "\n".join(f"    {route.route_key}" for route in self.routes.routes)
        return (
            f"{READY_LINE} (started in {self.timings.get('total', 0):.1f} s: {self.phase_summary()})\n"
            f"  local AWS endpoint: {self.aws_url}   (AWS_ENDPOINT_URL={self.aws_url}, "
            f"region {self.config.region}, any credentials)\n"
            f"  web client:         {self.web_url}/record?project=demo&step=1   (reviewers: /review?project=...)\n"
            f"  HTTP API:           {self.api_url}\n{routes}\n"
            f"  JWKS:               {self.api_url}/.well-known/jwks.json\n"
            f"  sign-in:            {self.api_url}/.well-known/openid-configuration (stands in for Cognito)\n"
            f"  token:              .venv/bin/vidsense token you@example.com [--groups reviewers]\n"
            f"  function logs:      {self._function_log.path if self._function_log else '-'}\n"
            "  stop with Ctrl-C"
        )


def _stop_quietly(part: str, stopper: Any, timings: dict[str, float]) -> None:
    if stopper is None:
        return
    started = time.monotonic()
    try:
        stopper.stop()
    except Exception:
        LOG.exception("stopping the %s failed", part)
    timings[part] = time.monotonic() - started


def configure_logging() -> None:
    logging.basicConfig(level=os.environ.get("VIDSENSE_LOG_LEVEL", "WARNING"), format="%(name)s: %(message)s")
    # Werkzeug logs every request at INFO unless its logger has a level of its own; moto warns about every
    # CloudFormation resource type it skips (the runtime applies those from the templates).
    logging.getLogger("werkzeug").setLevel(os.environ.get("VIDSENSE_LOG_LEVEL", "WARNING"))
    if "VIDSENSE_LOG_LEVEL" not in os.environ:
        logging.getLogger("moto").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", module="moto")


def main() -> int:
    configure_logging()
    stack = LocalStack(StackConfig.from_env())
    # No stack code in a signal handler (it deadlocked the main thread): see vidsense_local.shutdown.
    signals = StopSignals(stack.request_stop)
    signals.install()
    print("starting the vidsense local stack (local AWS, stand-ins, functions, deploy, HTTP API)...", flush=True)
    code = 0
    try:
        stack.start()
        print(stack.ready_message(), flush=True)
        stack.wait()
    except Interrupted:
        pass
    except Exception as exc:
        LOG.debug("start failed", exc_info=True)
        print(f"vidsense local stack failed to start: {exc!r}", file=sys.stderr, flush=True)
        code = 1
    finally:
        print("stopping the vidsense local stack...", flush=True)
        started = time.monotonic()
        stack.stop()
        parts = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in stack.stop_timings.items())
        print(f"stopped in {time.monotonic() - started:.1f} s ({parts})", flush=True)
    return code


def exit_now(code: int) -> NoReturn:
    """Exit without interpreter finalization: everything started is stopped by now, and unloading the native
    engine libraries (CTranslate2, FFmpeg) can take several seconds more with no Python frame to interrupt."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
