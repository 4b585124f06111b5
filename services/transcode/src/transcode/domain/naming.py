"""Deterministic names and keys of one answer attempt (docs/architecture.md, "Names" and "Job identities").

Everything here is derived from the answer and the stage only, so a retry, a replay or a crash recovery
always arrives at the same job key, S3 keys and job names.
"""

from __future__ import annotations

import uuid
from urllib.parse import unquote, urlparse

from pydantic import ValidationError

from vidsense_shared.events import APP, AnswerRef, S3Pointer

AUDIO_EXTENSION = "mp3"
TRANSCRIPT_EXTENSION = "json"


class InvalidS3UriError(ValueError):
    """A string that should name an S3 object does not."""


def job_key(ref: AnswerRef) -> str:
    """Partition key of the transcode jobs table: one item per answer attempt."""
    return f"{ref.answer_id}#{ref.attempt}"


def parse_job_key(key: str) -> AnswerRef | None:
    """The answer attempt of a jobs-table key, or None when the key is not one ``job_key`` makes."""
    answer, _, attempt = key.rpartition("#")
    parts = answer.split("/")
    if len(parts) != 3 or not attempt.isdigit():
        return None
    project, step, user_key = parts
    try:
        return AnswerRef(project=project, step=step, user_key=user_key, attempt=int(attempt))
    except ValueError:
        return None


def audio_destination(stage: str, ref: AnswerRef) -> str:
    """The MediaConvert output prefix (without bucket): MediaConvert appends the extension."""
    return f"{stage}/audio/{ref.project}/{ref.step}/{ref.user_key}/attempt-{ref.attempt}/answer"


def transcript_key(stage: str, ref: AnswerRef) -> str:
    return f"{stage}/transcripts/{ref.project}/{ref.step}/{ref.user_key}/attempt-{ref.attempt}.{TRANSCRIPT_EXTENSION}"


def transcription_job_prefix(stage: str) -> str:
    return f"{APP}.{stage}."


def transcription_job_name(stage: str, ref: AnswerRef) -> str:
    # Project ids, step numbers and user keys cannot contain ".", so the name splits back unambiguously.
    return f"{transcription_job_prefix(stage)}{ref.project}.{ref.step}.{ref.user_key}.{ref.attempt}"


def parse_transcription_job_name(stage: str, name: str) -> AnswerRef | None:
    """The answer attempt a job name belongs to, or None when the name is not one of this stage's jobs."""
    prefix = transcription_job_prefix(stage)
    if not name.startswith(prefix):
        return None
    parts = name[len(prefix) :].split(".")
    if len(parts) != 4 or not parts[3].isdigit():
        return None
    project, step, user_key, attempt = parts
    try:
        return AnswerRef(project=project, step=step, user_key=user_key, attempt=int(attempt))
    except ValueError:
        return None


def client_request_token(stage: str, ref: AnswerRef, video: S3Pointer) -> str:
    """MediaConvert's idempotency token: the same for every CreateJob of one attempt of one uploaded video.

    The video's version is part of it: after an erasure the person's next answer is attempt 1 again, and with the
    attempt alone MediaConvert would hand back the erased answer's job instead of transcoding the new video.
    """
    video_id = video.version_id or video.key
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{APP}:{stage}:mediaconvert:{job_key(ref)}:{video_id}"))


def parse_s3_uri(uri: str) -> S3Pointer:
    """``s3://bucket/key`` (as MediaConvert reports its outputs) -> S3Pointer."""
    try:
        parsed = urlparse(uri)
        pointer = _pointer(parsed.netloc, parsed.path.lstrip("/")) if parsed.scheme == "s3" else None
    except ValueError:  # brackets urlparse cannot split
        pointer = None
    if pointer is None:
        raise InvalidS3UriError(f"not an s3://bucket/key URI: {uri!r}")
    return pointer


def _pointer(bucket: str, key: str) -> S3Pointer | None:
    """None for a bucket or key S3 would not accept (empty, too short or too long)."""
    try:
        return S3Pointer(bucket=bucket, key=key)
    except ValidationError:
        return None


def parse_s3_https_url(url: str) -> S3Pointer | None:
    """Bucket and key of an S3 HTTPS URL (path or virtual-hosted style, as Transcribe reports its output).

    Returns None when the URL is not recognisably S3 (a local endpoint, a presigned CDN URL, ...).
    """
    try:
        parsed = urlparse(url)
        host = parsed.hostname or ""
    except ValueError:  # brackets urlparse cannot split
        return None
    path = unquote(parsed.path).lstrip("/")
    if parsed.scheme == "s3":
        try:
            return parse_s3_uri(url)
        except InvalidS3UriError:
            return None
    if parsed.scheme != "https" or not path:
        return None
    if not host.endswith(".amazonaws.com"):
        return None
    marker = ".s3."
    if marker in host and not host.startswith("s3."):
        # Virtual-hosted style: <bucket>.s3.<region>.amazonaws.com
        return _pointer(host[: host.index(marker)], path)
    if host.startswith(("s3.", "s3-")):
        # Path style: s3.<region>.amazonaws.com/<bucket>/<key> (also s3-<region>, dualstack)
        bucket, _, key = path.partition("/")
        return _pointer(bucket, key)
    return None
