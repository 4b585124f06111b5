"""Requests of one answer, counted from the event flow (README diagram, docs/architecture.md, docs/events.md).

Happy path, one attempt, ending ANALYZED. Each count says where it comes from; change it here when the flow
changes. Counted from the code paths, not measured against AWS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nlp.domain.chunking import split_text
from vidsense_bench.cost.model import KB, Assumptions, Flow

# Lambda invocations per answer, beside the browser's polls (added to ingest/api below).
INVOCATIONS: dict[str, float] = {
    "ingest/api": 1,  # GET /presignedurl
    "ingest/uploadLanded": 1,  # S3 Object Created
    "transcode/startTranscode": 1,  # rule: VideoUploaded
    "transcode/relayTranscoderEvents": 1,  # SNS onComplete: MediaConvert COMPLETE (the rule passes only final states)
    "transcode/startTranscription": 1,  # rule: TranscoderCompleted
    "transcode/transcriptionCompleted": 1,  # default-bus rule: Transcribe COMPLETED
    "nlp/analyzeSentiment": 1,  # rule: TranscriptReady
    "ingest/projectAnswers": 3,  # rule: TranscoderCompleted, TranscriptReady, SentimentDetected (28 per 10 in e2e)
}
# PutEvents entries: VideoUploaded, TranscoderCompleted, TranscriptReady, SentimentDetected. MediaConvert's and
# Transcribe's state changes reach the default bus as AWS service events (free); rule deliveries are free.
CUSTOM_EVENTS = 4
SNS_PUBLISHES = 1  # MediaConvertEventsRule -> onComplete topic (COMPLETE only)
SQS_REQUESTS = 0  # every queue is a dead-letter or on-failure queue: nothing on the happy path
# browser POST (video), MediaConvert writes the mp3, Transcribe writes the transcript JSON
S3_PUTS = 3
# uploadLanded HEAD (video version), MediaConvert reads the video, Transcribe reads the mp3, nlp reads the transcript
S3_GETS = 4

# DynamoDB (on demand; 1 WRU per KiB written, 1 RRU per 4 KiB strongly consistent read; every read here is
# ConsistentRead). The answers item (about 1.5 KiB with its trail) is projected ALL into by_step: each write of it is
# written twice (base + index), 2 WRU each.
ANSWER_ITEM_WRITE_WRU = 2 * 2
DYNAMODB_WRU_FIXED = (
    1  # presign: recording window put (no project_step: not in by_step)
    + ANSWER_ITEM_WRITE_WRU  # presign: answers item put (new attempt)
    + 2 * ANSWER_ITEM_WRITE_WRU  # uploadLanded: answers item put (version) + put marking VideoUploaded published
    + 3 * ANSWER_ITEM_WRITE_WRU  # projectAnswers: one put per projected event
    + 6  # jobs table: claim, transcode started, emitted (relay), transcription recorded + started, emitted (final)
    + 3  # jobs table's open_attempts index (KEYS_ONLY): entered at claim, moved, left at the final event
)
DYNAMODB_RRU_FIXED = (
    2  # presign: recording window get + answers get
    + 1  # uploadLanded: answers get
    + 3  # projectAnswers: answers get per event
    + 3  # jobs table get: relay, startTranscription, transcriptionCompleted
    + 1  # nlp: metadata load before the analysis
)
METADATA_ITEM_OVERHEAD_BYTES = 600  # ids, scores, pointers of the nlp metadata item beside the transcript text

_SAMPLE_TEXT = (
    "I really love the new design. The team did a wonderful job and I am very happy with the result. "
    "This step was terrible. The upload kept failing and I am angry and disappointed with the whole process. "
)


def pipeline_seconds(audio_seconds: float, assumptions: Assumptions) -> float:
    return assumptions.pipeline_seconds_fixed + assumptions.pipeline_seconds_per_audio_second * audio_seconds


def polls(audio_seconds: float, assumptions: Assumptions) -> float:
    """GET /answers while the browser waits for a final status."""
    return math.ceil(pipeline_seconds(audio_seconds, assumptions) / assumptions.poll_interval_seconds)


def comprehend_chunks(characters: int) -> Sequence[int]:
    """Characters of each document nlp sends, cut by its own chunking (5,000 bytes, sentence ends)."""
    if characters <= 0:
        return ()
    text = (_SAMPLE_TEXT * (characters // len(_SAMPLE_TEXT) + 1))[:characters]
    return tuple(len(chunk) for chunk in split_text(text))


def answer_flow(audio_seconds: float, transcript_characters_per_second: float, assumptions: Assumptions) -> Flow:
    characters = round(transcript_characters_per_second * audio_seconds)
    metadata_item = METADATA_ITEM_OVERHEAD_BYTES + characters
    metadata_wru = 2 * math.ceil(metadata_item / KB)  # save, then mark published (billed on the item's size)
    metadata_rru = 0  # the load before the analysis finds nothing on the happy path: counted in the fixed reads
    n_polls = polls(audio_seconds, assumptions)
    invocations = dict(INVOCATIONS)
    invocations["ingest/api"] += n_polls
    return Flow(
        invocations=invocations,
        http_requests=1 + n_polls,
        custom_events=CUSTOM_EVENTS,
        sns_publishes=SNS_PUBLISHES,
        sqs_requests=SQS_REQUESTS,
        s3_puts=S3_PUTS,
        s3_gets=S3_GETS,
        dynamodb_wru=DYNAMODB_WRU_FIXED + metadata_wru,
        dynamodb_rru=DYNAMODB_RRU_FIXED + metadata_rru + n_polls,  # each poll: one answers get
        comprehend_chunks_characters=comprehend_chunks(characters),
        polls=n_polls,
    )
