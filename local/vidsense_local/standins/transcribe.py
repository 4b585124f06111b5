"""Amazon Transcribe stand-in (JSON 1.1, ``X-Amz-Target: Transcribe.<Operation>``): batch transcription jobs run
for real with faster-whisper tiny.en; the transcript is written in Transcribe's output format to
``OutputBucketName``/``OutputKey``; "Transcribe Job State Change" events (COMPLETED / FAILED) go to the default
bus.

Supported: StartTranscriptionJob, GetTranscriptionJob, ListTranscriptionJobs, DeleteTranscriptionJob.
Concurrent jobs are limited as by Transcribe's account quota (``VIDSENSE_TRANSCRIBE_MAX_CONCURRENT``, default 2):
a start beyond the limit is refused with LimitExceededException, unless it asks for deferred execution
(``JobExecutionSettings.AllowDeferredExecution`` with a ``DataAccessRoleArn``), which puts the job QUEUED until a
slot is free, first come first served.
Only English is transcribed (tiny.en is the only model shipped): a job with another LanguageCode FAILS with a
FailureReason, as AWS fails jobs it cannot process. Language identification is refused (BadRequestException).
``TranscriptFileUri`` has AWS's form ``https://s3.<region>.amazonaws.com/<bucket>/<key>`` so code that parses
it is exercised as in AWS; the object itself is in the local S3 under that bucket and key."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import av
from botocore.exceptions import ClientError

from vidsense_local.engines.speech import SpeechToText, shared_engine, transcribe_output
from vidsense_local.engines.transcode import MediaError
from vidsense_local.standins._common import (
    AwsError,
    AwsTarget,
    JobPhases,
    JobStandIn,
    bad_request,
    log,
    now,
    parse_s3_uri,
    s3_uri_member,
    serve_json11,
)
from vidsense_shared.aws_errors import error_code

SOURCE = "aws.transcribe"
DETAIL_TYPE = "Transcribe Job State Change"
TARGET_PREFIX = "Transcribe."
_NAME = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")
_OUTPUT_KEY = re.compile(r"^[a-zA-Z0-9\-_.!*'()/]{1,1024}$")
# DataAccessRoleArn as the StartTranscriptionJob model constrains it.
_ROLE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso-?[a-z]?):iam::[0-9]{0,63}:role/[A-Za-z0-9:_/+=,@.-]{0,1024}$")
#: The concurrent-job quota of the local Transcribe (AWS's is per account and region, in the hundreds).
MAX_CONCURRENT_ENV = "VIDSENSE_TRANSCRIBE_MAX_CONCURRENT"
DEFAULT_MAX_CONCURRENT = 2


def max_concurrent_from_env() -> int:
    """``VIDSENSE_TRANSCRIBE_MAX_CONCURRENT`` (a positive integer), else the default."""
    raw = os.environ.get(MAX_CONCURRENT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_CONCURRENT
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_CONCURRENT_ENV} must be a positive integer, not {raw!r}")
    return int(raw)


# FFmpeg demuxer names that count as each Transcribe MediaFormat.
_FORMATS = {
    "mp3": {"mp3"},
    "mp4": {"mov,mp4,m4a,3gp,3g2,mj2"},
    "m4a": {"mov,mp4,m4a,3gp,3g2,mj2"},
    "wav": {"wav"},
    "flac": {"flac"},
    "ogg": {"ogg"},
    "webm": {"matroska,webm"},
    "amr": {"amr"},
}


class _JobFailed(Exception):
    pass


class TranscribeStandIn(JobStandIn):
    signing_names: tuple[str, ...] = ("transcribe",)

    def __init__(
        self,
        target: AwsTarget,
        *,
        concurrency: int = DEFAULT_MAX_CONCURRENT,
        max_queued: int = 1000,
        engine: SpeechToText | None = None,
    ) -> None:
        #: Jobs IN_PROGRESS at once (the quota); one worker per slot, so an admitted job starts at once.
        self.max_concurrent = max(1, concurrency)
        super().__init__(target, self.max_concurrent)
        self._engine = engine
        self._max_queued = max_queued
        self._running = 0
        self._waiting: deque[str] = deque()  # QUEUED (deferred) jobs, oldest first
        self._outputs: dict[str, tuple[str, str]] = {}
        self._jobs: dict[str, dict[str, Any]] = {}

    @property
    def engine(self) -> SpeechToText:
        return self._engine if self._engine is not None else shared_engine()

    # -- WSGI ------------------------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        operations = {
            "StartTranscriptionJob": self.start_transcription_job,
            "GetTranscriptionJob": self.get_transcription_job,
            "ListTranscriptionJobs": self.list_transcription_jobs,
            "DeleteTranscriptionJob": self.delete_transcription_job,
        }
        return serve_json11(
            environ, start_response, target_prefix=TARGET_PREFIX, operations=operations, service="Transcribe"
        )

    # -- operations ------------------------------------------------------------------------------------------
    @staticmethod
    def _deferred(body: dict[str, Any]) -> bool:
        """Whether the start may wait in the queue: AWS requires both members of JobExecutionSettings."""
        settings = body.get("JobExecutionSettings")
        if settings is None:
            return False
        if not isinstance(settings, dict):
            raise bad_request("JobExecutionSettings must be an object")
        allow, role = settings.get("AllowDeferredExecution"), settings.get("DataAccessRoleArn")
        if allow is None or role is None:
            raise bad_request("JobExecutionSettings needs both AllowDeferredExecution and DataAccessRoleArn")
        if not isinstance(role, str) or not 20 <= len(role) <= 2048 or not _ROLE.match(role):
            raise bad_request("JobExecutionSettings.DataAccessRoleArn must be an IAM role ARN")
        return allow is True

    @staticmethod
    def _validate_start(body: dict[str, Any]) -> tuple[str, str, str, Any, Any, str, str]:
        """(name, media uri, language, media format, sample rate, output bucket, output key) or BadRequest."""
        name = body.get("TranscriptionJobName")
        if not isinstance(name, str) or not _NAME.match(name):
            raise bad_request("TranscriptionJobName must be 1-200 characters of [0-9a-zA-Z._-]")
        media_uri = s3_uri_member((body.get("Media") or {}).get("MediaFileUri"), "Media.MediaFileUri")
        if body.get("IdentifyLanguage") or body.get("IdentifyMultipleLanguages"):
            raise bad_request("language identification is not available in the local stand-in: set LanguageCode")
        language = body.get("LanguageCode")
        if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", language):
            raise bad_request("LanguageCode is required (for example en-US)")
        media_format = body.get("MediaFormat")
        if media_format is not None and media_format not in _FORMATS:
            raise bad_request(f"MediaFormat {media_format!r} is not one of {sorted(_FORMATS)}")
        rate = body.get("MediaSampleRateHertz")
        if rate is not None and (not isinstance(rate, int) or not 8000 <= rate <= 48000):
            raise bad_request("MediaSampleRateHertz must be an integer between 8000 and 48000")
        bucket = body.get("OutputBucketName")
        if not isinstance(bucket, str) or not bucket:
            raise bad_request("the local stand-in needs OutputBucketName (it has no service-managed bucket)")
        key = body.get("OutputKey")
        if key is not None and (not isinstance(key, str) or not _OUTPUT_KEY.match(key)):
            raise bad_request("OutputKey must match [a-zA-Z0-9-_.!*'()/]{1,1024}")
        if not key:
            key = f"{name}.json"
        elif key.endswith("/"):
            key = f"{key}{name}.json"
        return name, media_uri, language, media_format, rate, bucket, key

    def start_transcription_job(self, body: dict[str, Any]) -> dict[str, Any]:
        name, media_uri, language, media_format, rate, bucket, key = self._validate_start(body)
        deferred = self._deferred(body)
        with self._lock:
            if name in self._jobs:
                raise AwsError(
                    "ConflictException", "The requested job name already exists. Use a different job name.", 409
                )
            admitted = self._running < self.max_concurrent
            if not admitted and not deferred:
                raise AwsError(
                    "LimitExceededException",
                    f"You have reached the limit of {self.max_concurrent} concurrent transcription jobs. Try again "
                    "later, or allow deferred execution (JobExecutionSettings) to queue the job.",
                    429,
                )
            if not admitted and len(self._waiting) >= self._max_queued:
                raise AwsError(
                    "LimitExceededException",
                    f"You have reached the limit of {self._max_queued} queued jobs. Try again later.",
                    429,
                )
            created = now()
            job: dict[str, Any] = {
                "TranscriptionJobName": name,
                "TranscriptionJobStatus": "QUEUED",
                "LanguageCode": language,
                "Media": {"MediaFileUri": media_uri},
                "CreationTime": created,
                "Settings": body.get("Settings") or {"ChannelIdentification": False, "ShowAlternatives": False},
            }
            if media_format is not None:
                job["MediaFormat"] = media_format
            if rate is not None:
                job["MediaSampleRateHertz"] = rate
            if body.get("JobExecutionSettings"):
                job["JobExecutionSettings"] = dict(body["JobExecutionSettings"])
            self._jobs[name] = job
            self._outputs[name] = (bucket, key)
            if admitted:
                self._admit(name)
            else:
                self._waiting.append(name)
            answer = dict(job)
        if admitted:
            self._submit(name)
        return {"TranscriptionJob": answer}

    def _admit(self, name: str) -> None:
        """Called with the lock held: the job takes a slot and is IN_PROGRESS from now on."""
        self._running += 1
        self._jobs[name].update(TranscriptionJobStatus="IN_PROGRESS", StartTime=now())

    def _submit(self, name: str) -> None:
        output = self._outputs[name]
        self._pool.submit(lambda: self._run(name, output))

    def _release(self) -> None:
        """A job left its slot: the oldest QUEUED job (if any) takes it."""
        with self._lock:
            self._running = max(0, self._running - 1)
            if not self._waiting or self._pool.stopping.is_set():
                return
            name = self._waiting.popleft()
            self._admit(name)
        self._submit(name)

    def get_transcription_job(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("TranscriptionJobName")
        with self._lock:
            job = self._jobs.get(name) if isinstance(name, str) else None
            if job is None:
                raise AwsError(
                    "NotFoundException",
                    "The requested job couldn't be found. Check the job name and try your request again.",
                    404,
                )
            return {"TranscriptionJob": dict(job)}

    def delete_transcription_job(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("TranscriptionJobName")
        with self._lock:
            if not isinstance(name, str) or name not in self._jobs:
                raise bad_request("The requested job couldn't be found. Check the job name and try your request again.")
            if self._jobs[name]["TranscriptionJobStatus"] in ("IN_PROGRESS", "QUEUED"):
                raise bad_request("The job is queued or in progress; it can be deleted once it has finished.")
            del self._jobs[name]
        return {}

    def list_transcription_jobs(self, body: dict[str, Any]) -> dict[str, Any]:
        status = body.get("Status")
        contains = body.get("JobNameContains")
        limit = int(body.get("MaxResults") or 5)
        offset = int(body.get("NextToken") or 0)
        with self._lock:
            jobs = [
                j
                for j in self._jobs.values()
                if (status is None or j["TranscriptionJobStatus"] == status)
                and (not contains or str(contains).lower() in j["TranscriptionJobName"].lower())
            ]
            jobs.sort(key=lambda j: j["CreationTime"], reverse=True)
            fields = (
                "TranscriptionJobName",
                "CreationTime",
                "StartTime",
                "CompletionTime",
                "LanguageCode",
                "TranscriptionJobStatus",
                "FailureReason",
            )
            summaries = [
                {**{f: j[f] for f in fields if f in j}, "OutputLocationType": "CUSTOMER_BUCKET"}
                for j in jobs[offset : offset + limit]
            ]
        answer: dict[str, Any] = {"TranscriptionJobSummaries": summaries}
        if status is not None:
            answer["Status"] = status
        if offset + limit < len(jobs):
            answer["NextToken"] = str(offset + limit)
        return answer

    # -- work ------------------------------------------------------------------------------------------------
    def _run(self, name: str, output: tuple[str, str]) -> None:
        try:
            if self._injected("job-stuck") is not None:
                # An injected fault: the job stays IN_PROGRESS for good. Its slot is given back, so stuck jobs
                # cannot starve the stand-in (a real stuck job would hold it).
                log.warning("transcribe job %s is stuck (injected fault)", name)
                return
            self._work(name, output)
        finally:
            with self._lock:
                self._outputs.pop(name, None)
            self._release()

    def _work(self, name: str, output: tuple[str, str]) -> None:
        with self._lock:
            job = dict(self._jobs[name])
        phases = JobPhases()
        try:
            injected = self._injected("job-failed")
            if injected is not None:  # an injected fault (vidsense_local.faults)
                raise _JobFailed(injected[1])
            transcript = self._transcribe(name, job, phases)
            bucket, key = output
            try:
                self._s3_client().put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=json.dumps(transcript).encode(),
                    ContentType="application/json",
                )
            except ClientError as exc:
                raise _JobFailed(f"The specified S3 bucket can't be written to: {bucket} ({error_code(exc)}).") from exc
            phases.mark("transcript upload")
            if self._injected("transcript-missing") is not None:
                # An injected fault: the job completes but its output is gone (deleted after it was written).
                self._s3_client().delete_object(Bucket=bucket, Key=key)
        except _JobFailed as failure:
            self._finish(name, "FAILED", FailureReason=str(failure))
            return
        except Exception as exc:
            log.exception("transcribe job %s crashed", name)
            self._finish(name, "FAILED", FailureReason=f"Internal failure in the local stand-in: {exc}")
            return
        uri = f"https://s3.{self._target.region}.amazonaws.com/{bucket}/{key}"
        self._finish(name, "COMPLETED", Transcript={"TranscriptFileUri": uri})
        phases.mark("completion and its event")
        self._record(name, phases)

    def _transcribe(self, name: str, job: dict[str, Any], phases: JobPhases) -> dict[str, Any]:
        language = str(job["LanguageCode"])
        if not language.startswith("en-"):
            raise _JobFailed(
                f"Unsupported language code {language}: the local stand-in ships English speech to text only "
                "(Whisper tiny.en)."
            )
        bucket, key = parse_s3_uri(job["Media"]["MediaFileUri"])
        with tempfile.TemporaryDirectory(prefix="vidsense-transcribe-") as tmp:
            source = Path(tmp) / (PurePosixPath(key).name or "media")
            try:
                self._s3_client().download_file(bucket, key, str(source))
            except ClientError as exc:
                raise _JobFailed(
                    "The URI that you provided doesn't point to an S3 object. Make sure that the object exists "
                    "and try your request again."
                ) from exc
            phases.mark("media download")
            media_format, sample_rate = self._probe(source)
            if not any(media_format in names for names in _FORMATS.values()):
                raise _JobFailed(
                    f"The media format {media_format} isn't supported. Use AMR, FLAC, M4A, MP3, MP4, Ogg, WebM or WAV."
                )
            if "MediaFormat" in job and media_format not in _FORMATS[job["MediaFormat"]]:
                raise _JobFailed(
                    "The media format provided does not match the detected media format. Check the media format "
                    "and try your request again."
                )
            if "MediaSampleRateHertz" in job and job["MediaSampleRateHertz"] != sample_rate:
                raise _JobFailed(
                    f"The specified sample rate {job['MediaSampleRateHertz']} doesn't match the sample rate "
                    f"{sample_rate} detected in your input media file. Check the sample rate and try again."
                )
            phases.mark("probe")
            try:
                result = self.engine.transcribe_file(source)
            except MediaError as exc:
                raise _JobFailed(f"Failed to decode the input media file: {exc.message}") from exc
            phases.mark("speech to text (engine call)")
            phases.add("of which engine decode", result.decode_seconds)
            phases.add("of which engine model", result.compute_seconds)
            self.compute_seconds[name] = result.decode_seconds + result.compute_seconds
        with self._lock:
            if "MediaFormat" not in self._jobs[name]:
                self._jobs[name]["MediaFormat"] = next(f for f, names in _FORMATS.items() if media_format in names)
            self._jobs[name]["MediaSampleRateHertz"] = sample_rate
        return transcribe_output(name, self._target.account_id, result, language)

    @staticmethod
    def _probe(source: Path) -> tuple[str, int]:
        try:
            with av.open(str(source)) as container:
                if not container.streams.audio:
                    raise _JobFailed("The media file has no audio track. Check the media file and try again.")
                return str(container.format.name), int(container.streams.audio[0].rate)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise _JobFailed(
                f"Failed to parse the input media file. Make sure it is a valid audio or video file: {exc}"
            ) from exc

    def _finish(self, name: str, status: str, **fields: Any) -> None:
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                return
            job.update(TranscriptionJobStatus=status, CompletionTime=now(), **fields)
        detail: dict[str, Any] = {"TranscriptionJobName": name, "TranscriptionJobStatus": status}
        if status == "FAILED":
            detail["FailureReason"] = fields["FailureReason"]
        if self._injected("drop-event") is not None:
            # An injected fault: the job is finished, but its state-change event is lost (events are best effort).
            log.warning("transcribe job %s: %s event dropped (injected fault)", name, status)
            return
        self._events.publish(SOURCE, DETAIL_TYPE, detail, [])
