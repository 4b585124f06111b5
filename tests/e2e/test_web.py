"""The web client in a real headless Chromium against the local stack (issue 13): a person signs in through the
stack's stand-in for Cognito, records with a fake camera and microphone that play a spoken sample, submits (presign,
then the presigned form upload across origins: the API's and the media bucket's CORS for real), follows the answer
to its sentiment, meets the API's 403 when coming back, retakes after a corrupt upload FAILED, deletes; a reviewer
lists the step's answers with a chart. Every screen: no console errors, no serious or critical axe-core violation,
a screenshot under docs/screenshots/. Run: flock /tmp/vidsense-stack.lock .venv/bin/pytest -q -p no:xdist
tests/e2e/test_web.py"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from vidsense_local.demo import ApiClient, StackEndpoints
from vidsense_local.engines.wer import word_error_rate

from .browser import (
    CHROMIUM,
    ConsoleLog,
    axe_violations,
    chromium_args,
    moving_y4m,
    page_report,
    replace_file_part,
    screenshot,
    speech_wav,
)
from .support import MEDIA, PIPELINE_TIMEOUT, email, new_project
from .support import submit as submit_through_api

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (make browser installs it)"),
]

ANSWER_EXISTS = "The resource you requested does already exist"
WER_BOUND = 0.15  # as tests/e2e/test_pipeline.py
SAMPLE = "positive.webm"
UI_TIMEOUT_MS = 60_000


@dataclass
class Browser:
    playwright: Any
    chromium: Any
    web_url: str
    stack: StackEndpoints
    speech_seconds: float
    sample: dict[str, Any]
    log_file: Path  # Chromium's own log, quoted by a step that did not happen


@pytest.fixture(scope="module")
def browser(
    stack: StackEndpoints, manifest: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only where a browser runs

    folder = tmp_path_factory.mktemp("fake-devices")
    audio, video, log_file = folder / "speech.wav", folder / "camera.y4m", folder / "chromium.log"
    speech_seconds = speech_wav(MEDIA / SAMPLE, audio)
    moving_y4m(video)
    state = json.loads((Path(stack.state_dir or ".") / "stack.json").read_text())
    web_url = state.get("web_url") or f"http://127.0.0.1:{os.environ.get('VIDSENSE_WEB_PORT', '5173')}"
    sample = next(s for s in manifest["files"] if s["file"] == SAMPLE)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args(video, audio, log_file))
        try:
            yield Browser(playwright, chromium, web_url, stack, speech_seconds, sample, log_file)
        finally:
            chromium.close()


@dataclass
class Person:
    page: Any
    console: ConsoleLog
    email: str
    log_file: Path

    def report(self) -> str:
        return page_report(self.page, self.console, self.log_file)

    def assert_clean(self, screen: str) -> None:
        """The screen: no console error, no serious or critical accessibility violation, a screenshot."""
        screenshot(self.page, screen)
        assert self.console.errors == [], f"{screen}: console errors {self.console.errors}"
        violations = axe_violations(self.page)
        assert violations == [], f"{screen}: axe-core {json.dumps(violations, indent=1)}"


def _person(browser: Browser, *, reviewer: bool = False) -> Iterator[Person]:
    context = browser.chromium.new_context(viewport={"width": 960, "height": 720}, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    console = ConsoleLog()
    console.attach(page)
    try:
        yield Person(page, console, email("web-reviewer" if reviewer else "web"), browser.log_file)
    finally:
        context.close()


@pytest.fixture
def person(browser: Browser) -> Iterator[Person]:
    yield from _person(browser)


@pytest.fixture
def reviewer(browser: Browser) -> Iterator[Person]:
    yield from _person(browser, reviewer=True)


@pytest.fixture(scope="module")
def project() -> str:
    return new_project("web")


@pytest.fixture(scope="module")
def reviewed_project(browser: Browser) -> str:
    """A step with two analyzed answers of its own, uploaded through the API by two people, so the reviewer's test
    does not depend on what the other tests left behind (or on their order)."""
    project = new_project("web-review")
    answers = [submit_through_api(browser.stack, project, "1", SAMPLE) for _ in range(2)]
    for answer in answers:
        assert answer.wait_final()["status"] == "ANALYZED", answer
    return project


def sign_in(browser: Browser, who: Person, path: str, *, reviewer: bool = False, shot: str | None = None) -> None:
    page = who.page
    page.goto(browser.web_url + path)
    # Sent to the issuer's sign-in form, then back to where the person was going
    page.get_by_label("Email").fill(who.email)
    if reviewer:
        page.get_by_label("Reviewer").check()
    if shot:
        screenshot(page, shot)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(browser.web_url + path.split("?", maxsplit=1)[0])))


# What the page says when the browser's capture did not answer (web/record.js cameraMessage): it asks to try again.
DEVICE_SILENT = "did not respond"


def start_recording(who: Person) -> None:
    """Start a take: the recorder's Stop button shows, or the test fails with the page's message and a report of
    what the page was doing. A capture that did not answer (the page asked the browser four times) gets one more
    Start, as a person would click again: headless Chromium's fake devices have, rarely and only under load, left a
    capture request unanswered."""
    page = who.page
    for attempt in (1, 2):
        page.get_by_role("button", name="Start recording").click()
        try:
            page.locator("button:visible:has-text('Stop'), [role=alert]").first.wait_for(timeout=UI_TIMEOUT_MS)
        except Exception as error:
            raise AssertionError(f"recording did not start, and the page said nothing.\n{who.report()}") from error
        alerts = page.get_by_role("alert")
        if alerts.count() == 0:
            return
        message = alerts.first.inner_text()
        if attempt == 2 or DEVICE_SILENT not in message:
            raise AssertionError(f"recording did not start: {message}\n{who.report()}")
        warnings.warn(f"the browser's capture did not answer; Start clicked again ({message})", stacklevel=2)


def record(browser: Browser, who: Person) -> None:
    page = who.page
    start_recording(who)
    # Half a second of silence, the sample, and a little more: the fake microphone starts with the recording.
    page.wait_for_timeout(int((browser.speech_seconds + 1.0) * 1000))
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("button", name="Submit answer").wait_for()


def submit(who: Person) -> None:
    """Submit the recording: the upload ends in the answer's status, or the test fails with the page's message."""
    page = who.page
    page.get_by_role("button", name="Submit answer").click()
    try:
        page.locator("[role=status], [role=alert]").first.wait_for(timeout=UI_TIMEOUT_MS)
    except Exception as error:
        raise AssertionError(f"the submission showed neither a status nor a message.\n{who.report()}") from error
    alerts = page.get_by_role("alert")
    assert alerts.count() == 0, f"the submission failed: {alerts.first.inner_text()}"


def wait_status(page: Any, *final: str) -> str:
    status = page.get_by_role("status")
    pattern = re.compile("^(" + "|".join(final) + ")$")
    from playwright.sync_api import expect  # noqa: PLC0415

    expect(status).to_have_text(pattern, timeout=PIPELINE_TIMEOUT * 1000)
    text: str = status.inner_text()
    return text


def test_a_person_records_submits_and_reads_the_sentiment_then_meets_the_403(
    browser: Browser, person: Person, project: str
) -> None:
    page = person.page
    # Given a person who opens the record page of a step and signs in
    sign_in(browser, person, f"/record?project={project}&step=1", shot="sign-in")
    # Then the camera preview plays and the recorder waits
    page.get_by_role("button", name="Start recording").wait_for()
    page.wait_for_function("() => document.querySelector('video').readyState >= 2")
    person.assert_clean("record")
    # When they record the spoken sample, play it back and submit
    record(browser, person)
    assert page.get_by_label("Your recording").is_visible()
    assert page.get_by_role("button", name="Record again").is_visible()
    person.assert_clean("recorded")
    submit(person)
    # Then the answer is followed live to ANALYZED, with the expected sentiment and a transcript within the bound
    assert wait_status(page, "ANALYZED", "NO_SPEECH", "FAILED") == "ANALYZED"
    assert page.get_by_label("Sentiment").inner_text() == browser.sample["expected_label"]
    transcript = page.get_by_label("Transcript").inner_text()
    wer = word_error_rate(browser.sample["text"], transcript)
    assert wer <= WER_BOUND, f"WER {wer:.0%}: {transcript!r} vs {browser.sample['text']!r}"
    assert page.get_by_label("Positive", exact=False).count() >= 1
    person.assert_clean("analyzed")
    # When they come back later
    page.reload()
    # Then the page shows the API's 403 text and the stored answer instead of a recorder
    page.get_by_text(ANSWER_EXISTS).wait_for()
    assert wait_status(page, "ANALYZED") == "ANALYZED"
    assert page.get_by_role("button", name="Start recording").count() == 0
    assert page.get_by_label("Transcript").inner_text() == transcript
    person.assert_clean("answer-exists")


def test_a_corrupt_upload_fails_with_its_reason_and_a_retake_is_analyzed(
    browser: Browser, person: Person, project: str
) -> None:
    page = person.page
    sign_in(browser, person, f"/record?project={project}&step=1")
    corrupt = (MEDIA / "corrupt.webm").read_bytes()

    def corrupt_upload(route: Any) -> None:
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        route.continue_(post_data=replace_file_part(request.post_data_buffer, request.headers["content-type"], corrupt))

    # Given an upload whose bytes are not a video (the form is the presigned one; only the file part changes);
    # the browser intercepts requests only once the take is recorded (every failed run had a route in place while
    # a take started)
    record(browser, person)
    page.route(re.compile(re.escape(browser.stack.aws_url) + r"/.*"), corrupt_upload)
    submit(person)
    # Then the answer FAILS with its reason and a retake is offered
    assert wait_status(page, "ANALYZED", "NO_SPEECH", "FAILED") == "FAILED"
    page.get_by_text(re.compile("Processing failed: .+")).wait_for()
    person.assert_clean("failed")
    # When the person records again and submits a real recording
    page.unroute(re.compile(re.escape(browser.stack.aws_url) + r"/.*"))
    page.get_by_role("button", name="Record again").click()
    page.get_by_role("button", name="Start recording").wait_for()
    record(browser, person)
    submit(person)
    # Then the retake is analyzed
    assert wait_status(page, "ANALYZED", "NO_SPEECH", "FAILED") == "ANALYZED"
    assert page.get_by_label("Sentiment").inner_text() == browser.sample["expected_label"]
    assert person.console.errors == []


def test_a_reviewer_lists_the_step_exports_csv_and_sees_the_chart(
    browser: Browser, reviewer: Person, reviewed_project: str
) -> None:
    page = reviewer.page
    # Given a step with two analyzed answers and a reviewer
    sign_in(browser, reviewer, f"/review?project={reviewed_project}&step=1", reviewer=True)
    # Then the answers are rows of a table, and the chart counts them per label
    rows = page.locator("table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert page.locator("table tbody").inner_text().count("ANALYZED") == 2
    # And each row shows its answer's transcript (a long one in a details element: its full text is the <p>)
    cells = page.locator("table tbody td.transcript-cell")
    assert cells.count() == 2
    for n in range(2):
        cell = cells.nth(n)
        full = cell.locator("details p")
        text = (full if full.count() else cell).text_content() or ""
        wer = word_error_rate(browser.sample["text"], text)
        assert wer <= WER_BOUND, f"row {n}: WER {wer:.0%}: {text!r} vs {browser.sample['text']!r}"
    chart = page.locator("svg[data-chart=labels]")
    chart.wait_for()
    assert f"{browser.sample['expected_label']} 2" in (chart.locator("title").text_content() or "")
    assert page.locator("svg[data-chart=scores] circle").count() == 8  # four scores of two answers
    reviewer.assert_clean("review")
    # When the reviewer exports the listing
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    # Then the CSV holds the same answers, with their transcripts
    assert len(exported) == 2 and {row["sentiment"] for row in exported} == {browser.sample["expected_label"]}
    assert all(word_error_rate(browser.sample["text"], row["transcript"]) <= WER_BOUND for row in exported)


def test_someone_who_is_not_a_reviewer_gets_the_apis_refusal(browser: Browser, person: Person, project: str) -> None:
    page = person.page
    sign_in(browser, person, f"/review?project={project}&step=1")
    page.get_by_role("alert").filter(has_text="may list answers").wait_for()
    screenshot(page, "review-refused")
    assert page.locator("table").count() == 0
    assert person.console.errors == []


def test_a_person_deletes_their_answer_after_confirming(browser: Browser, person: Person, project: str) -> None:
    page = person.page
    # Given an analyzed answer of a step
    sign_in(browser, person, f"/record?project={project}&step=2")
    record(browser, person)
    submit(person)
    wait_status(page, "ANALYZED", "NO_SPEECH", "FAILED")
    # When the person deletes it and confirms
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete answer").click()
    # Then the answer is gone and the recorder is back
    page.get_by_text("Your answer was deleted").wait_for()
    page.get_by_role("button", name="Start recording").wait_for()
    page.reload()
    page.get_by_role("button", name="Start recording").wait_for()
    assert page.get_by_role("status").count() == 0
    assert person.console.errors == []


def test_refused_camera_missing_recorder_expired_sign_in_and_network_errors_each_say_so(
    browser: Browser, person: Person, project: str
) -> None:
    page = person.page
    path = f"/record?project={project}&step=3"
    sign_in(browser, person, path)
    page.get_by_role("button", name="Start recording").wait_for()
    cases = {
        "camera-refused": (
            "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no', 'NotAllowedError'))",
            "Access to the camera or microphone was refused",
        ),
        "no-mediarecorder": ("delete window.MediaRecorder", "This browser cannot record video"),
    }
    for name, (script, message) in cases.items():
        page.add_init_script(script)
        page.reload()
        page.get_by_role("alert").filter(has_text=message).wait_for()
        screenshot(page, name)
    # A network failure of the API
    page.route(re.compile(re.escape(browser.stack.api_url) + r"/answers/.*"), lambda route: route.abort())
    page.reload()
    page.get_by_role("alert").filter(has_text="The service cannot be reached").wait_for()
    page.unroute(re.compile(re.escape(browser.stack.api_url) + r"/answers/.*"))
    # An expired sign-in (and no refresh token left)
    page.evaluate(
        """() => {
        const tokens = JSON.parse(sessionStorage.getItem('vidsense.tokens'));
        sessionStorage.setItem('vidsense.tokens', JSON.stringify({...tokens, expires_at: 0, refresh_token: null}));
    }"""
    )
    page.reload()
    page.get_by_role("alert").filter(has_text="Your sign-in has expired").wait_for()
    page.get_by_role("button", name="Sign in").wait_for()
    screenshot(page, "sign-in-expired")
    uncaught = [e for e in person.console.errors if e.startswith("uncaught")]
    assert uncaught == []


def test_the_media_bucket_admits_the_web_origin_only(browser: Browser) -> None:
    # Given the presigned form of a person (its URL is the media bucket's)
    client = ApiClient(browser.stack, email("web-cors"))
    presigned = client.presign(new_project("web-cors"), "1")
    assert presigned.status_code == 200, presigned.text
    url = presigned.json()["upload"]["url"]

    def preflight(origin: str) -> requests.Response:
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        return requests.options(url, headers=headers, timeout=30)

    # When the web client's origin and another one ask before uploading
    allowed, other = preflight(browser.web_url), preflight("http://evil.example")
    # Then the bucket's CORS rules (from the deployed template) admit the web client's origin only, as S3 does
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == browser.web_url
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other.headers


def _api_json(route: Any, web_url: str, status: int, body: dict[str, Any], **headers: str) -> None:
    """Answer an API call in place of the stack (a cross-origin response: the web origin is allowed)."""
    route.fulfill(
        status=status,
        json=body,
        headers={"Access-Control-Allow-Origin": web_url, "Access-Control-Expose-Headers": "Retry-After", **headers},
    )


def test_an_answer_left_deleting_offers_the_delete_retry_and_a_later_404_means_deleted(
    browser: Browser, person: Person, project: str
) -> None:
    page = person.page
    step = "4"
    answer_url = re.compile(re.escape(f"{browser.stack.api_url}/answers/{project}/{step}") + r"$")
    deleting = {"status": "DELETING", "transcript": None, "sentiment": None, "sentiment_score": None, "error": None}
    calls: dict[str, int] = {"GET": 0, "DELETE": 0}
    gets_before_gone = [10**6]  # the stored answer stays DELETING for this many reads, then it is gone

    def stored_answer(route: Any) -> None:
        method = route.request.method
        if method not in calls:
            route.continue_()
            return
        calls[method] += 1
        if method == "DELETE":
            _api_json(route, browser.web_url, 200, {"project": project, "step": step})
        elif calls["GET"] > gets_before_gone[0]:
            _api_json(route, browser.web_url, 404, {"message": "The resource you requested does not exist"})
        else:
            _api_json(route, browser.web_url, 200, deleting)

    sign_in(browser, person, f"/record?project={project}&step={step}")
    # Given an answer whose erasure stopped halfway (DELETING)
    page.route(answer_url, stored_answer)
    page.reload()
    assert wait_status(page, "DELETING") == "DELETING"
    # When the person presses Delete answer (offered again) and confirms
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete answer").click()
    # Then the DELETE is sent again (it continues the erasure) and the recorder is back
    page.get_by_text("Your answer was deleted").wait_for()
    page.get_by_role("button", name="Start recording").wait_for()
    assert calls["DELETE"] == 1
    # Given a DELETING answer whose erasure then completes (the API answers 404)
    calls["GET"], gets_before_gone[0] = 0, 2
    page.reload()
    assert wait_status(page, "DELETING") == "DELETING"
    # Then the page stops following it, says it was deleted and offers the recorder
    page.get_by_text("Your answer was deleted").wait_for()
    page.get_by_role("button", name="Start recording").wait_for()
    reads = calls["GET"]
    page.wait_for_timeout(2500)
    assert calls["GET"] == reads, "the page kept polling a deleted answer"
    assert [e for e in person.console.errors if e.startswith("uncaught")] == []


def test_a_rate_limited_upload_shows_the_apis_message_as_is(browser: Browser, person: Person, project: str) -> None:
    page = person.page
    step = "5"
    message = "at most 20 new recordings per person in 24 hours: try again in 12 min"
    sign_in(browser, person, f"/record?project={project}&step={step}")
    page.get_by_role("button", name="Start recording").wait_for()
    # Given a recording (taken before any request is intercepted, as in the corrupt-upload test)
    start_recording(person)
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Stop").click()
    # And the API refuses the presigned URL with 429 (and Retry-After)
    page.route(
        re.compile(re.escape(f"{browser.stack.api_url}/presignedurl/{project}/{step}") + r"$"),
        lambda route: _api_json(route, browser.web_url, 429, {"message": message}, **{"Retry-After": "720"}),
    )
    # When the person submits it
    page.get_by_role("button", name="Submit answer").click()
    # Then the page shows the API's words, which already say how long to wait, and nothing added
    alert = page.get_by_role("alert").filter(has_text=message)
    alert.wait_for()
    assert alert.inner_text().strip() == message


def test_the_csv_export_keeps_cells_that_look_like_formulas_as_text(
    browser: Browser, person: Person, project: str
) -> None:
    page = person.page
    sign_in(browser, person, f"/record?project={project}&step=6")
    transcripts = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tcmd", 'plain, with "quotes"\r\nand a line']
    items = [
        {
            "user_key": f"u{n}",
            "status": "ANALYZED",
            "sentiment": "POSITIVE",
            "sentiment_score": None,
            "attempt": 1,
            "updated_at": "2026-01-01T00:00:00Z",
            "transcript": text,
        }
        for n, text in enumerate(transcripts)
    ]
    # When the review page's CSV export renders answers whose transcripts start like formulas
    text: str = page.evaluate("async (items) => (await import('/review.js')).toCsv(items)", items)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    # Then each such cell starts with a quote (text in a spreadsheet), and RFC 4180 quoting still round-trips
    assert [row["transcript"] for row in rows] == [
        '\'=HYPERLINK("http://x","y")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tcmd",
        'plain, with "quotes"\r\nand a line',
    ]
    assert [row["user_key"] for row in rows] == [f"u{n}" for n in range(len(transcripts))]


def test_a_callback_this_tab_did_not_start_shows_no_text_from_its_query(browser: Browser, person: Person) -> None:
    page = person.page
    # Given a callback link with an unknown state and an error description chosen by whoever wrote the link
    planted = "Your account is locked, call 555-0100"
    page.goto(f"{browser.web_url}/callback?error=access_denied&error_description={planted}&state=forged")
    # Then the page says the sign-in did not complete, and not the planted text
    alert = page.get_by_role("alert").filter(has_text="Sign-in did not complete")
    alert.wait_for()
    assert planted not in page.locator("body").inner_text()
