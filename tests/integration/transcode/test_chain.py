"""The whole transcode chain, each step fed with what the previous one really produced.

VideoUploaded -> startTranscode (CreateJob) -> MediaConvert COMPLETE built from that request -> relay ->
TranscoderCompleted from the bus -> startTranscription (StartTranscriptionJob) -> Transcribe COMPLETED ->
transcriptionCompleted -> TranscriptReady. Checks the contracts between the steps line up: user metadata
round trip, destination + template extension = the audio key, job name, transcript key, causation chain.
"""

from __future__ import annotations

from typing import Any

from tests.unit.transcode.fixtures import (
    ANSWER_ID,
    TRANSCRIPT_KEY,
    VIDEO_UPLOADED_EVENT_ID,
    WORK_BUCKET,
    load,
    sns_message,
    with_sns_message,
)
from transcode.adapters.mediaconvert import load_template
from transcode.handlers import relay, start_transcode, start_transcription, transcription_completed


def _capture(stubber, operation: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    client = stubber.client
    client.meta.events.register(
        f"before-parameter-build.{client.meta.service_model.service_name}.{operation}",
        lambda params, **_: seen.append(dict(params)),
    )
    return seen


def test_a_video_becomes_a_transcript_ready_event(stack, mediaconvert, transcribe, context):
    # moto's SQS target leaves out the envelope's "account" (EventBridge's Lambda delivery has it): put it back
    def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
        return {"account": "123456789012", **event}

    # startTranscode: the job request as MediaConvert would receive it
    create_calls = _capture(mediaconvert, "CreateJob")
    mediaconvert.add_response("create_job", {"Job": {"Id": "1764379000000-chain1", "Role": "r", "Settings": {}}})
    start_transcode.handler(load("eventbridge_video_uploaded.json"), context)
    (request,) = create_calls

    # MediaConvert finishes: its COMPLETE event echoes the user metadata and names the written file
    destination = request["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["FileGroupSettings"]["Destination"]
    extension = load_template()["Settings"]["OutputGroups"][0]["Outputs"][0]["Extension"]
    envelope = load("sns_mediaconvert_complete.json")
    complete = sns_message(envelope)
    complete["detail"]["jobId"] = "1764379000000-chain1"
    complete["detail"]["userMetadata"] = request["UserMetadata"]
    complete["detail"]["outputGroupDetails"][0]["outputDetails"][0]["outputFilePaths"] = [f"{destination}.{extension}"]
    relay.handler(with_sns_message(envelope, complete), context)
    (transcoder_completed,) = stack.events.drain()
    assert transcoder_completed["detail-type"] == "TranscoderCompleted"

    # startTranscription, fed with the event as the bus delivered it
    start_calls = _capture(transcribe, "StartTranscriptionJob")
    transcribe.add_response("start_transcription_job", {"TranscriptionJob": {"TranscriptionJobStatus": "IN_PROGRESS"}})
    start_transcription.handler(as_delivered(transcoder_completed), context)
    (started,) = start_calls

    # Transcribe finishes where it was told to write
    state_change = load("eventbridge_transcribe_completed.json")
    state_change["detail"]["TranscriptionJobName"] = started["TranscriptionJobName"]
    job = load("get_transcription_job_completed.json")
    job["TranscriptionJob"]["TranscriptionJobName"] = started["TranscriptionJobName"]
    job["TranscriptionJob"]["Transcript"]["TranscriptFileUri"] = (
        f"https://s3.us-east-1.amazonaws.com/{started['OutputBucketName']}/{started['OutputKey']}"
    )
    transcribe.add_response("get_transcription_job", job)
    transcription_completed.handler(state_change, context)
    (ready,) = stack.events.drain()

    assert ready["detail-type"] == "TranscriptReady"
    assert ready["detail"]["data"]["transcript"] == {"bucket": WORK_BUCKET, "key": TRANSCRIPT_KEY, "version_id": None}
    assert ready["detail"]["data"]["duration_ms"] == 48213
    # one correlation id for the chain, each event caused by the previous one
    assert transcoder_completed["detail"]["metadata"]["correlation_id"] == ANSWER_ID
    assert ready["detail"]["metadata"]["correlation_id"] == ANSWER_ID
    assert transcoder_completed["detail"]["metadata"]["causation_id"] == VIDEO_UPLOADED_EVENT_ID
    assert ready["detail"]["metadata"]["causation_id"] == transcoder_completed["detail"]["metadata"]["event_id"]
