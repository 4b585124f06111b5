"""The cost arithmetic of one answer: pure functions over prices, settings, measurements and request counts.

Nothing here reads a file or the network (inputs.py does); the tests give fixed inputs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SECONDS_PER_MINUTE = 60
GB = 1024**3
KB = 1024
DAYS_PER_MONTH = 30.0


@dataclass(frozen=True)
class Prices:
    """USD per unit, us-east-1 (deploy/cost/prices-us-east-1.yml)."""

    lambda_gb_second_arm64: float
    lambda_gb_second_x86_64: float
    lambda_request: float
    mediaconvert_audio_minute: float
    mediaconvert_minimum_seconds: float
    transcribe_second: float
    transcribe_minimum_seconds: float
    comprehend_unit: float
    comprehend_unit_characters: int
    comprehend_minimum_units: int
    eventbridge_custom_event: float
    eventbridge_archive_gb: float
    sns_publish: float
    sqs_request: float
    s3_put_request: float
    s3_get_request: float
    s3_storage_gb_month: float
    dynamodb_write_request_unit: float
    dynamodb_read_request_unit: float
    dynamodb_storage_gb_month: float
    dynamodb_pitr_gb_month: float
    logs_ingest_gb: float
    logs_storage_gb_month: float
    xray_trace: float
    http_api_request: float
    kms_request: float
    kms_key_month: float
    cloudwatch_alarm_month: float


@dataclass(frozen=True)
class FunctionSettings:
    """One Lambda function as the packaged template configures it."""

    memory_mb: int
    architecture: str  # arm64 | x86_64
    tracing_active: bool
    log_retention_days: int | None  # None: never expires


@dataclass(frozen=True)
class StackSettings:
    """What the packaged templates say that changes the bill."""

    functions: Mapping[str, FunctionSettings]  # "service/function"
    mp3_bitrate_bps: int  # MediaConvert job template (audio-only output)
    audio_expiration_days: int | None
    transcript_expiration_days: int | None
    video_noncurrent_days: int | None
    pitr_tables: int
    kms_keys: int
    alarms: int
    schedule_invocations_per_month: Mapping[str, float]  # "service/function" -> scheduled runs per month


@dataclass(frozen=True)
class FunctionMeasure:
    warm_ms: float  # median billed duration of a warm invocation
    init_ms: float  # median cold init (billed since 2025-08-01 for managed runtimes)
    log_bytes: float  # log bytes ingested per invocation (INFO and above, platform lines included)


@dataclass(frozen=True)
class Measured:
    functions: Mapping[str, FunctionMeasure]
    video_bytes_per_second: float
    transcript_json_bytes_per_second: float
    transcript_characters_per_second: float


@dataclass(frozen=True)
class Assumptions:
    """What neither the templates nor the benchmarks give; each is stated in docs/cost.md."""

    poll_interval_seconds: float = 1.5  # web/record.js default pollIntervalMs
    pipeline_seconds_fixed: float = 30.0  # upload -> ANALYZED in AWS: job queueing and start-up...
    pipeline_seconds_per_audio_second: float = 0.5  # ...plus processing that grows with the answer
    cold_start_fraction: float = 0.5  # low volume: many invocations find no warm environment
    xray_sampled_fraction: float = 1.0  # the default rule's 1/s reservoir covers this volume
    storage_months: float = 1.0  # storage counted per answer: its first month (capped by lifecycle)
    logs_compression: float = 0.15  # CloudWatch bills stored logs compressed
    event_bytes: int = 1500  # one pipeline event as archived
    http_access_log_bytes: int = 400  # one HTTP API access log line
    kms_requests_per_sns_message: int = 2  # GenerateDataKey on publish, Decrypt on delivery (no key reuse)


@dataclass(frozen=True)
class Flow:
    """Requests of one answer (happy path, one attempt) for an answer of ``audio_seconds``."""

    invocations: Mapping[str, float]
    http_requests: float
    custom_events: float
    sns_publishes: float
    sqs_requests: float
    s3_puts: float
    s3_gets: float
    dynamodb_wru: float
    dynamodb_rru: float
    comprehend_chunks_characters: Sequence[int]
    polls: float
    notes: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class Item:
    name: str
    usd: float
    basis: str


def transcribe_cost(audio_seconds: float, prices: Prices) -> float:
    """Transcribe bills whole seconds with a minimum per job (15 s)."""
    billed = max(math.ceil(audio_seconds), prices.transcribe_minimum_seconds)
    return billed * prices.transcribe_second


def mediaconvert_cost(audio_seconds: float, prices: Prices) -> float:
    billed = max(math.ceil(audio_seconds), prices.mediaconvert_minimum_seconds)
    return billed / SECONDS_PER_MINUTE * prices.mediaconvert_audio_minute


def comprehend_units(characters: int, prices: Prices) -> int:
    """Units of one document: 100 characters each, at least 3 per document."""
    return max(math.ceil(characters / prices.comprehend_unit_characters), prices.comprehend_minimum_units)


def comprehend_cost(chunk_characters: Sequence[int], prices: Prices) -> float:
    return sum(comprehend_units(chars, prices) for chars in chunk_characters) * prices.comprehend_unit


def lambda_gb_seconds(milliseconds: float, memory_mb: int) -> float:
    return math.ceil(milliseconds) / 1000 * memory_mb / 1024


def lambda_gb_second_price(settings: FunctionSettings, prices: Prices) -> float:
    if settings.architecture == "arm64":
        return prices.lambda_gb_second_arm64
    if settings.architecture == "x86_64":
        return prices.lambda_gb_second_x86_64
    raise ValueError(f"unknown Lambda architecture {settings.architecture!r}")


def ratio_to_transcribe(total_usd: float, transcribe_usd: float) -> float:
    if transcribe_usd <= 0:
        raise ValueError("the Transcribe cost of the answer must be positive to compare against it")
    return total_usd / transcribe_usd


def _months_kept(retention_days: int | None, assumptions: Assumptions) -> float:
    months = assumptions.storage_months
    if retention_days is not None:
        months = min(months, retention_days / DAYS_PER_MONTH)
    return months


def answer_items(
    audio_seconds: float,
    *,
    flow: Flow,
    settings: StackSettings,
    measured: Measured,
    prices: Prices,
    assumptions: Assumptions,
) -> list[Item]:
    """Cost items of one answer of ``audio_seconds``, largest services first as the bill would list them."""
    compute = 0.0
    requests = 0.0
    log_bytes = flow.http_requests * assumptions.http_access_log_bytes
    traces = 0.0
    invocations = 0.0
    for name, count in flow.invocations.items():
        fn = settings.functions[name]
        m = measured.functions[name]
        billed_ms = m.warm_ms + assumptions.cold_start_fraction * m.init_ms
        compute += count * lambda_gb_seconds(billed_ms, fn.memory_mb) * lambda_gb_second_price(fn, prices)
        requests += count * prices.lambda_request
        log_bytes += count * m.log_bytes
        invocations += count
        if fn.tracing_active:
            traces += count * assumptions.xray_sampled_fraction
    retention = [fn.log_retention_days for name, fn in settings.functions.items() if name in flow.invocations]
    log_months = (
        math.inf if any(days is None for days in retention) else max((d or 0) for d in retention) / DAYS_PER_MONTH
    )
    if math.isinf(log_months):
        log_months = 120.0  # "never expire": ten years counted
    logs_stored = log_bytes * assumptions.logs_compression / GB * log_months * prices.logs_storage_gb_month

    mp3_bytes = settings.mp3_bitrate_bps / 8 * audio_seconds
    video_bytes = measured.video_bytes_per_second * audio_seconds
    transcript_bytes = measured.transcript_json_bytes_per_second * audio_seconds
    storage_gb_months = (
        video_bytes * assumptions.storage_months  # the current version never expires
        + mp3_bytes * _months_kept(settings.audio_expiration_days, assumptions)
        + transcript_bytes * _months_kept(settings.transcript_expiration_days, assumptions)
    ) / GB

    kms = flow.sns_publishes * assumptions.kms_requests_per_sns_message * prices.kms_request
    return [
        Item("Transcribe", transcribe_cost(audio_seconds, prices), "per second, 15 s minimum per job"),
        Item("MediaConvert (audio-only)", mediaconvert_cost(audio_seconds, prices), "output minutes, basic tier"),
        Item(
            "Comprehend",
            comprehend_cost(flow.comprehend_chunks_characters, prices),
            f"{sum(comprehend_units(c, prices) for c in flow.comprehend_chunks_characters)} units of 100 characters",
        ),
        Item("Lambda duration", compute, f"{invocations:.1f} invocations, GB-s at each function's memory"),
        Item("Lambda requests", requests, f"{invocations:.1f} invocations"),
        Item(
            "API Gateway HTTP API", flow.http_requests * prices.http_api_request, f"{flow.http_requests:.1f} requests"
        ),
        Item(
            "EventBridge",
            flow.custom_events * prices.eventbridge_custom_event
            + flow.custom_events * assumptions.event_bytes / GB * prices.eventbridge_archive_gb,
            f"{flow.custom_events:.0f} custom events (PutEvents) + archive; AWS service events free",
        ),
        Item("SNS", flow.sns_publishes * prices.sns_publish, f"{flow.sns_publishes:.0f} publish; Lambda delivery free"),
        Item("SQS", flow.sqs_requests * prices.sqs_request, "dead-letter queues only: none on the happy path"),
        Item("KMS requests", kms, "onComplete topic's customer managed key"),
        Item(
            "S3 requests",
            flow.s3_puts * prices.s3_put_request + flow.s3_gets * prices.s3_get_request,
            f"{flow.s3_puts:.0f} PUT/POST, {flow.s3_gets:.0f} GET/HEAD",
        ),
        Item(
            "S3 storage",
            storage_gb_months * prices.s3_storage_gb_month,
            f"video {video_bytes / KB:.0f} KiB, mp3 {mp3_bytes / KB:.0f} KiB, transcript "
            f"{transcript_bytes / KB:.0f} KiB; {assumptions.storage_months:g} month(s) or less per lifecycle",
        ),
        Item(
            "DynamoDB requests",
            flow.dynamodb_wru * prices.dynamodb_write_request_unit
            + flow.dynamodb_rru * prices.dynamodb_read_request_unit,
            f"{flow.dynamodb_wru:.0f} WRU, {flow.dynamodb_rru:.0f} RRU (on demand)",
        ),
        Item(
            "CloudWatch Logs",
            log_bytes / GB * prices.logs_ingest_gb + logs_stored,
            f"{log_bytes / KB:.1f} KiB ingested, kept {log_months * DAYS_PER_MONTH:.0f} days",
        ),
        Item("X-Ray", traces * prices.xray_trace, f"{traces:.1f} traces recorded"),
    ]


def fixed_monthly_items(
    settings: StackSettings, measured: Measured, prices: Prices, assumptions: Assumptions
) -> list[Item]:
    """What the stage costs per month whatever the volume (the scheduled reconciler, keys, alarms)."""
    scheduled = 0.0
    unmeasured: list[str] = []
    for name, runs in settings.schedule_invocations_per_month.items():
        fn = settings.functions[name]
        m = measured.functions.get(name)
        if m is None:  # not in the measured log (the local stack runs it rarely): the measured functions' medians
            unmeasured.append(name)
            m = FunctionMeasure(
                warm_ms=statistics.median(f.warm_ms for f in measured.functions.values()),
                init_ms=0.0,
                log_bytes=statistics.median(f.log_bytes for f in measured.functions.values()),
            )
        scheduled += runs * (
            lambda_gb_seconds(m.warm_ms, fn.memory_mb) * lambda_gb_second_price(fn, prices)
            + prices.lambda_request
            + m.log_bytes / GB * prices.logs_ingest_gb
            + (prices.xray_trace * assumptions.xray_sampled_fraction if fn.tracing_active else 0.0)
        )
    runs_total = sum(settings.schedule_invocations_per_month.values())
    return [
        Item(
            "scheduled functions",
            scheduled,
            f"{runs_total:.0f} runs per month"
            + (f"; {', '.join(unmeasured)} not measured: median duration of the others" if unmeasured else ""),
        ),
        Item("KMS keys", settings.kms_keys * prices.kms_key_month, f"{settings.kms_keys} customer managed keys"),
        Item("CloudWatch alarms", settings.alarms * prices.cloudwatch_alarm_month, f"{settings.alarms} alarms"),
    ]


@dataclass(frozen=True)
class Estimate:
    audio_seconds: float
    answers_per_month: float
    items: Sequence[Item]
    fixed: Sequence[Item]

    @property
    def per_answer(self) -> float:
        return sum(item.usd for item in self.items)

    @property
    def transcribe(self) -> float:
        return next(item.usd for item in self.items if item.name == "Transcribe")

    @property
    def ratio(self) -> float:
        return ratio_to_transcribe(self.per_answer, self.transcribe)

    @property
    def fixed_per_month(self) -> float:
        return sum(item.usd for item in self.fixed)

    @property
    def per_month(self) -> float:
        return self.per_answer * self.answers_per_month + self.fixed_per_month

    def per_answer_minute(self, usd: float) -> float:
        return usd / (self.audio_seconds / SECONDS_PER_MINUTE)

    def largest_above_transcribe(self) -> Item:
        """The largest item other than Transcribe: the first candidate for a cut."""
        return max((item for item in self.items if item.name != "Transcribe"), key=lambda item: item.usd)


def estimate(
    audio_seconds: float,
    answers_per_month: float,
    *,
    flow: Flow,
    settings: StackSettings,
    measured: Measured,
    prices: Prices,
    assumptions: Assumptions,
) -> Estimate:
    if audio_seconds <= 0:
        raise ValueError("the answer length must be positive")
    if answers_per_month < 0:
        raise ValueError("the number of answers per month cannot be negative")
    return Estimate(
        audio_seconds=audio_seconds,
        answers_per_month=answers_per_month,
        items=answer_items(
            audio_seconds, flow=flow, settings=settings, measured=measured, prices=prices, assumptions=assumptions
        ),
        fixed=fixed_monthly_items(settings, measured, prices, assumptions),
    )
