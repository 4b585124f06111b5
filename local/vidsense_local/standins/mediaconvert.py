"""AWS Elemental MediaConvert stand-in: rest-json under ``/2017-08-29/``, audio-only FILE_GROUP jobs transcoded
for real with PyAV, and "MediaConvert Job State Change" events (PROGRESSING, then COMPLETE or ERROR) on the
default bus with the detail fields AWS documents. Fault rules (``vidsense_local.faults``) can end the next job
ERROR, leave it PROGRESSING for good (``job-stuck``) or drop its final event (``drop-event``).

Supported: CreateJob (audio-only outputs: MP3 in a RAW container), GetJob, ListJobs, DescribeEndpoints.
Anything else in a job that would make AWS produce video (VideoDescription) is refused with
BadRequestException rather than silently ignored."""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from botocore.exceptions import ClientError

from vidsense_local.engines.transcode import MediaError, transcode_to_mp3
from vidsense_local.standins._common import (
    AwsError,
    AwsTarget,
    JobPhases,
    JobStandIn,
    Request,
    bad_request,
    log,
    now,
    parse_s3_uri,
    respond,
    respond_error,
    s3_uri_member,
)

SOURCE = "aws.mediaconvert"
DETAIL_TYPE = "MediaConvert Job State Change"
_PREFIX = "/2017-08-29"
_JOB_PATH = re.compile(rf"^{_PREFIX}/jobs/([^/]+)$")
_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+")
# AWS's documented error codes (MediaConvert user guide, "Error codes"): 1010 is "file access error" (the input
# is missing, unreadable, corrupt or of an unsupported format). A missing audio track is reported with 1040 here;
# AWS's exact code for that case was not verified.
ERROR_INPUT_ACCESS = 1010
ERROR_NO_AUDIO = 1040
_SAMPLE_RATES = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000}
JSON = "application/json"


class _Output:
    def __init__(self, uri: str, sample_rate: int, channels: int, bitrate: int) -> None:
        self.uri = uri
        self.sample_rate = sample_rate
        self.channels = channels
        self.bitrate = bitrate


def _plan_outputs(settings: dict[str, Any], input_uri: str) -> list[tuple[int, list[_Output]]]:
    """Validate the output groups and say where each output goes: ``{destination}{nameModifier}.{ext}`` when the
    destination names a file base (no trailing slash), else ``{destination}{input basename}{nameModifier}.{ext}``,
    as MediaConvert names FILE_GROUP outputs."""
    groups = settings.get("outputGroups")
    if not isinstance(groups, list) or not groups:
        raise bad_request("/settings/outputGroups: at least one output group is required")
    input_base = PurePosixPath(parse_s3_uri(input_uri)[1]).stem
    planned: list[tuple[int, list[_Output]]] = []
    seen: set[str] = set()
    for gi, group in enumerate(groups):
        group_settings = group.get("outputGroupSettings") or {}
        if group_settings.get("type") != "FILE_GROUP_SETTINGS":
            raise bad_request(f"/outputGroups/{gi}: the local stand-in supports FILE_GROUP_SETTINGS output groups only")
        destination = (group_settings.get("fileGroupSettings") or {}).get("destination")
        if not isinstance(destination, str):
            raise bad_request(f"/outputGroups/{gi}/outputGroupSettings/fileGroupSettings/destination is required")
        try:
            parse_s3_uri(destination if not destination.endswith("/") else destination + "x")
        except ValueError as exc:
            raise bad_request(f"/outputGroups/{gi}: destination must be an s3:// URI: {exc}") from exc
        outputs = group.get("outputs")
        if not isinstance(outputs, list) or not outputs:
            raise bad_request(f"/outputGroups/{gi}/outputs: at least one output is required")
        planned_group: list[_Output] = []
        for oi, output in enumerate(outputs):
            planned_output = _plan_output(f"/outputGroups/{gi}/outputs/{oi}", output, destination, input_base)
            if planned_output.uri in seen:
                raise bad_request(
                    f"{planned_output.uri} is written twice; give the outputs different nameModifier values"
                )
            seen.add(planned_output.uri)
            planned_group.append(planned_output)
        planned.append((gi, planned_group))
    return planned


def _plan_output(where: str, output: dict[str, Any], destination: str, input_base: str) -> _Output:
    if output.get("videoDescription"):
        raise bad_request(f"{where}: the local stand-in makes audio-only outputs; remove videoDescription")
    container = (output.get("containerSettings") or {}).get("container", "RAW")
    if container != "RAW":
        raise bad_request(f"{where}/containerSettings/container: only RAW (audio-only) is supported, got {container}")
    audio = output.get("audioDescriptions")
    if not isinstance(audio, list) or len(audio) != 1:
        raise bad_request(f"{where}/audioDescriptions: exactly one audio description is required for RAW outputs")
    codec_settings = audio[0].get("codecSettings") or {}
    if codec_settings.get("codec") != "MP3":
        raise bad_request(f"{where}: the local stand-in encodes MP3 only, got {codec_settings.get('codec')}")
    mp3 = codec_settings.get("mp3Settings") or {}
    sample_rate = int(mp3.get("sampleRate", 48000))
    channels = int(mp3.get("channels", 2))
    bitrate = int(mp3.get("bitrate", 192000))
    if sample_rate not in _SAMPLE_RATES:
        raise bad_request(f"{where}/mp3Settings/sampleRate: {sample_rate} is not a supported sample rate")
    if channels not in (1, 2):
        raise bad_request(f"{where}/mp3Settings/channels: must be 1 or 2")
    if not 16000 <= bitrate <= 320000:
        raise bad_request(f"{where}/mp3Settings/bitrate: must be between 16000 and 320000")
    base = destination if not destination.endswith("/") else destination + input_base
    return _Output(
        f"{base}{output.get('nameModifier', '')}.{output.get('extension', 'mp3')}", sample_rate, channels, bitrate
    )


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


class MediaConvertStandIn(JobStandIn):
    signing_names: tuple[str, ...] = ("mediaconvert",)

    def __init__(self, target: AwsTarget, *, workers: int = 1) -> None:
        super().__init__(target, workers)
        self._jobs: dict[str, dict[str, Any]] = {}
        self._plans: dict[str, list[tuple[int, list[_Output]]]] = {}
        self._tokens: dict[str, str] = {}
        self.queue_arn = f"arn:aws:mediaconvert:{target.region}:{target.account_id}:queues/Default"

    # -- WSGI ------------------------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        try:
            status, body = self._route(request)
        except AwsError as error:
            return respond_error(start_response, error, rest_json=True)
        return respond(start_response, status, body, JSON)

    def _route(self, request: Request) -> tuple[int, dict[str, Any]]:
        path = request.path.rstrip("/")
        if request.method == "POST" and path == f"{_PREFIX}/jobs":
            return 201, {"job": self.create_job(request.json())}
        if request.method == "GET" and path == f"{_PREFIX}/jobs":
            return 200, self.list_jobs(request.query)
        match = _JOB_PATH.match(path)
        if request.method == "GET" and match:
            return 200, {"job": self.get_job(match.group(1))}
        if request.method == "POST" and path == f"{_PREFIX}/endpoints":
            return 200, {"endpoints": [{"url": self._target.endpoint_url}]}
        raise AwsError(
            "NotFoundException", f"the local MediaConvert stand-in has no {request.method} {request.path}", 404
        )

    # -- operations ------------------------------------------------------------------------------------------
    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        role = body.get("role")
        if not isinstance(role, str) or not _ROLE.match(role):
            raise bad_request("/role: an IAM role ARN (arn:aws:iam::<account>:role/<name>) is required")
        settings = body.get("settings")
        if not isinstance(settings, dict):
            raise bad_request("/settings is required")
        inputs = settings.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            raise bad_request("/settings/inputs: at least one input is required")
        if len(inputs) > 1:
            raise bad_request("/settings/inputs: the local stand-in transcodes one input per job")
        input_uri = s3_uri_member(inputs[0].get("fileInput"), "/settings/inputs/0/fileInput")
        plan = _plan_outputs(settings, input_uri)
        metadata = body.get("userMetadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise bad_request("/userMetadata must map strings to strings")
        token = body.get("clientRequestToken")
        with self._lock:
            if isinstance(token, str) and token in self._tokens:
                # Idempotent retry: the original job, not a second one.
                return dict(self._jobs[self._tokens[token]])
            created = now()
            job_id = f"{int(created.timestamp() * 1000)}-{secrets.token_hex(3)}"
            job: dict[str, Any] = {
                "id": job_id,
                "arn": f"arn:aws:mediaconvert:{self._target.region}:{self._target.account_id}:jobs/{job_id}",
                "createdAt": int(created.timestamp()),
                "role": role,
                "settings": settings,
                "queue": body.get("queue") or self.queue_arn,
                "status": "SUBMITTED",
                "userMetadata": metadata,
                "accelerationStatus": "NOT_APPLICABLE",
                "priority": int(body.get("priority", 0)),
                "statusUpdateInterval": body.get("statusUpdateInterval", "SECONDS_60"),
                "timing": {"submitTime": int(created.timestamp())},
                "messages": {"info": [], "warning": []},
                "jobPercentComplete": 0,
                "retryCount": 0,
            }
            if isinstance(token, str):
                job["clientRequestToken"] = token
                self._tokens[token] = job_id
            self._jobs[job_id] = job
            self._plans[job_id] = plan
            answer = dict(job)
        self._pool.submit(lambda: self._run(job_id))
        return answer

    def get_job(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise AwsError("NotFoundException", f"The specified job {job_id} was not found.", 404)
            return dict(job)

    def list_jobs(self, query: dict[str, list[str]]) -> dict[str, Any]:
        status = _first(query, "status")
        queue = _first(query, "queue")
        order = _first(query, "order") or "DESCENDING"
        limit = int(_first(query, "maxResults") or 20)
        offset = int(_first(query, "nextToken") or 0)
        with self._lock:
            jobs = [
                dict(j)
                for j in self._jobs.values()
                if (status is None or j["status"] == status) and (queue is None or queue in (j["queue"], "Default"))
            ]
        jobs.sort(key=lambda j: str(j["id"]), reverse=order != "ASCENDING")
        page = jobs[offset : offset + limit]
        answer: dict[str, Any] = {"jobs": page}
        if offset + limit < len(jobs):
            answer["nextToken"] = str(offset + limit)
        return answer

    # -- work ------------------------------------------------------------------------------------------------
    def _update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            job = self._jobs[job_id]
            for name, value in fields.items():
                if value is None:
                    job.pop(name, None)
                else:
                    job[name] = value
            return dict(job)

    def _event(self, job: dict[str, Any], status: str, **extra: Any) -> None:
        if status != "PROGRESSING" and self._injected("drop-event") is not None:
            # An injected fault: the job is finished, but its state-change event is lost (events are best effort).
            log.warning("mediaconvert job %s: %s event dropped (injected fault)", job["id"], status)
            return
        detail = {
            "timestamp": int(time.time() * 1000),
            "accountId": self._target.account_id,
            "queue": job["queue"],
            "jobId": job["id"],
            "status": status,
            "userMetadata": job["userMetadata"],
            **extra,
        }
        self._events.publish(SOURCE, DETAIL_TYPE, detail, [job["arn"]])

    def _run(self, job_id: str) -> None:
        phases = JobPhases()
        started = now()
        job = self._update(
            job_id,
            status="PROGRESSING",
            currentPhase="PROBING",
            timing={**self._jobs[job_id]["timing"], "startTime": int(started.timestamp())},
        )
        self._event(job, "PROGRESSING")
        if self._injected("job-stuck") is not None:
            # An injected fault: the job stays PROGRESSING for good (its worker moves on to the next job).
            log.warning("mediaconvert job %s is stuck (injected fault)", job_id)
            return
        injected = self._injected("job-error")
        if injected is not None:  # an injected fault (vidsense_local.faults): the job ends ERROR as told
            fault_code, fault_message = injected
            self._fail(job_id, int(fault_code) if fault_code.isdigit() else 1999, fault_message)
            return
        input_uri = job["settings"]["inputs"][0]["fileInput"]
        s3 = self._s3_client()
        try:
            with tempfile.TemporaryDirectory(prefix="vidsense-mediaconvert-") as tmp:
                source = Path(tmp) / (PurePosixPath(parse_s3_uri(input_uri)[1]).name or "input")
                bucket, key = parse_s3_uri(input_uri)
                try:
                    s3.download_file(bucket, key, str(source))
                except ClientError as exc:
                    raise MediaError(
                        "missing", f"Unable to open input file [{input_uri}]: [Failed probe/open: [{exc}]]"
                    ) from exc
                phases.mark("PROGRESSING event, input download")
                self._update(job_id, currentPhase="TRANSCODING")
                group_details: list[dict[str, Any]] = []
                compute = 0.0
                for _gi, outputs in self._plans[job_id]:
                    details: list[dict[str, Any]] = []
                    for index, output in enumerate(outputs):
                        target = Path(tmp) / f"output-{_gi}-{index}.mp3"
                        rendition = transcode_to_mp3(
                            source,
                            target,
                            sample_rate=output.sample_rate,
                            channels=output.channels,
                            bitrate=output.bitrate,
                        )
                        compute += rendition.compute_seconds
                        phases.mark("transcode (engine)")
                        out_bucket, out_key = parse_s3_uri(output.uri)
                        self._update(job_id, currentPhase="UPLOADING")
                        s3.upload_file(str(target), out_bucket, out_key, ExtraArgs={"ContentType": "audio/mpeg"})
                        phases.mark("output upload")
                        details.append({"outputFilePaths": [output.uri], "durationInMs": rendition.duration_ms})
                    group_details.append({"outputDetails": details, "type": "FILE_GROUP"})
                self.compute_seconds[job_id] = compute
        except MediaError as exc:
            code = ERROR_NO_AUDIO if exc.kind == "no_audio" else ERROR_INPUT_ACCESS
            message = exc.message if exc.kind == "missing" else f"Unable to process input [{input_uri}]: {exc.message}"
            self._fail(job_id, code, message)
            return
        except Exception as exc:  # anything else is ours, not the input's: AWS says 1999 (unknown error)
            log.exception("mediaconvert job %s crashed", job_id)
            self._fail(job_id, 1999, f"local stand-in error: {exc}")
            return
        finished = int(now().timestamp())
        timing = dict(self.get_job(job_id)["timing"])
        job = self._update(
            job_id,
            status="COMPLETE",
            jobPercentComplete=100,
            currentPhase=None,
            outputGroupDetails=[
                {"outputDetails": [{"durationInMs": d["durationInMs"]} for d in g["outputDetails"]]}
                for g in group_details
            ],
            timing={**timing, "finishTime": finished},
        )
        self._event(job, "COMPLETE", outputGroupDetails=group_details, paddingInserted=0, warnings=[])
        phases.mark("completion and its event")
        self._record(job_id, phases)

    def _fail(self, job_id: str, code: int, message: str) -> None:
        job = self._update(
            job_id,
            status="ERROR",
            currentPhase=None,
            errorCode=code,
            errorMessage=message,
            timing={**self._jobs[job_id]["timing"], "finishTime": int(now().timestamp())},
        )
        self._event(job, "ERROR", errorCode=code, errorMessage=message)
