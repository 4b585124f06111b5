"""Amazon Transcribe batch jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcode.domain.ports import TranscriptionRejectedError
from transcode.domain.transcribe import TranscriptionJob, TranscriptionRequest
from vidsense_shared.aws_errors import error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_transcribe import TranscribeServiceClient

# How Transcribe answers a job name it does not know: as a bad request (or NotFound).
_NO_SUCH_JOB = frozenset({"BadRequestException", "NotFoundException"})


class TranscribeJobs:
    def __init__(self, client: TranscribeServiceClient, *, data_access_role_arn: str | None = None) -> None:
        """``data_access_role_arn``: starts use deferred execution (needed to start jobs, not to read them)."""
        self._client = client
        self._data_access_role_arn = data_access_role_arn

    def start(self, request: TranscriptionRequest) -> bool:
        params: dict[str, Any] = {
            "TranscriptionJobName": request.job_name,
            "LanguageCode": request.language_code,
            "MediaFormat": request.media_format,
            "Media": {"MediaFileUri": request.media_uri},
            "OutputBucketName": request.output_bucket,
            "OutputKey": request.output_key,
        }
        if request.sample_rate_hertz is not None:
            params["MediaSampleRateHertz"] = request.sample_rate_hertz
        if self._data_access_role_arn is not None:
            # Beyond the account's concurrent-job quota the job waits QUEUED instead of being refused with
            # LimitExceededException; Transcribe then reads and writes S3 with this role.
            params["JobExecutionSettings"] = {
                "AllowDeferredExecution": True,
                "DataAccessRoleArn": self._data_access_role_arn,
            }
        try:
            self._client.start_transcription_job(**params)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ConflictException":
                # Job names are unique per account and ours is derived from the attempt: it already runs.
                return False
            if code == "BadRequestException":
                raise TranscriptionRejectedError(code, error_message(exc) or str(exc)) from exc
            # LimitExceededException (quota or queue full: botocore's retry mode backs off on it first),
            # InternalFailureException: raise, so Lambda retries and the on-failure destination keeps the event.
            raise
        return True

    def describe(self, job_name: str) -> TranscriptionJob:
        job = self._client.get_transcription_job(TranscriptionJobName=job_name)["TranscriptionJob"]
        return self._job(job_name, job)

    def find(self, job_name: str) -> TranscriptionJob | None:
        try:
            return self.describe(job_name)
        except ClientError as exc:
            if error_code(exc) in _NO_SUCH_JOB:
                return None
            raise

    def delete(self, job_name: str) -> bool:
        try:
            self._client.delete_transcription_job(TranscriptionJobName=job_name)
        except ClientError as exc:
            if error_code(exc) not in _NO_SUCH_JOB:
                raise
            # Transcribe answers a missing job and one still running alike: only a missing one is done.
            if self.find(job_name) is None:
                return False
            raise
        return True

    @staticmethod
    def _job(job_name: str, job: Any) -> TranscriptionJob:
        return TranscriptionJob(
            name=job.get("TranscriptionJobName", job_name),
            status=job.get("TranscriptionJobStatus", "UNKNOWN"),
            language_code=job.get("LanguageCode"),
            transcript_uri=job.get("Transcript", {}).get("TranscriptFileUri"),
            failure_reason=job.get("FailureReason"),
            completed_at=job.get("CompletionTime"),
            created_at=job.get("CreationTime"),
        )
