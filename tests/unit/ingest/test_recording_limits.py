"""The limit of new recordings per person in a rolling day (domain/limits.py), with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.domain.limits import (
    WINDOW,
    Grant,
    RecordingLimitError,
    RecordingWindow,
    admit,
    attempt_tag,
    release,
)
from tests.unit.ingest.builders import T0, at

LIMIT = 3


def window_of(*grants: tuple[float, str | None]) -> RecordingWindow:
    return RecordingWindow(tuple(Grant(at(seconds), attempt) for seconds, attempt in grants))


def test_a_first_recording_opens_the_window():
    window = admit(None, "p/1#1", limit=LIMIT, now=T0)
    assert window == RecordingWindow((Grant(T0, "p/1#1"),))


def test_recordings_count_up_to_the_limit_then_are_refused_until_the_oldest_leaves_the_window():
    # Given three recordings at 0 s, 60 s and 120 s
    window = window_of((0, "p/1#1"), (60, "p/2#1"), (120, "p/3#1"))
    # When a fourth is asked for an hour later
    with pytest.raises(RecordingLimitError) as refused:
        admit(window, "p/4#1", limit=LIMIT, now=at(3600))
    # Then it is refused, naming the limit, until the first one is 24 h old
    assert refused.value.limit == LIMIT
    assert refused.value.retry_after_seconds == int(WINDOW.total_seconds()) - 3600
    assert str(refused.value) == "at most 3 new recordings per person in 24h: try again in 23 h 0 min"


def test_the_window_rolls_a_grant_leaves_exactly_24_hours_after_it_was_given():
    window = window_of((0, "p/1#1"), (60, "p/2#1"), (120, "p/3#1"))
    day = WINDOW.total_seconds()
    with pytest.raises(RecordingLimitError) as refused:
        admit(window, "p/4#1", limit=LIMIT, now=at(day - 0.5))
    assert refused.value.retry_after_seconds == 1  # rounded up: never "retry in 0 s"
    admitted = admit(window, "p/4#1", limit=LIMIT, now=at(day))
    # The expired grant is dropped: the item never holds more than the limit
    assert admitted == window_of((60, "p/2#1"), (120, "p/3#1"), (day, "p/4#1"))


def test_presigning_the_same_attempt_again_is_not_counted_twice():
    window = window_of((0, "p/1#1"), (60, "p/2#1"), (120, "p/3#1"))
    # At the limit, the attempts already granted may still be presigned again (the form expired)
    assert admit(window, "p/2#1", limit=LIMIT, now=at(600)) is None


def test_a_retake_after_failed_is_a_new_attempt_and_counts():
    window = window_of((0, attempt_tag("p/1", 1)))
    admitted = admit(window, attempt_tag("p/1", 2), limit=LIMIT, now=at(60))
    assert admitted is not None and len(admitted.grants) == 2


def test_an_attempt_granted_more_than_a_day_ago_counts_again():
    window = window_of((0, "p/1#1"))
    admitted = admit(window, "p/1#1", limit=LIMIT, now=T0 + WINDOW + timedelta(seconds=1))
    assert admitted == RecordingWindow((Grant(T0 + WINDOW + timedelta(seconds=1), "p/1#1"),))


def test_after_an_erasure_recording_the_step_again_counts():
    # Given a person who recorded p/1 (attempts 1 and 2) and p/10
    window = window_of((0, "p/1#1"), (60, "p/1#2"), (120, "p/10#1"))
    # When the answer to p/1 is erased
    released = release(window, "p/1")
    # Then its grants still count but no longer stand for an attempt; p/10 is untouched
    assert released == window_of((0, None), (60, None), (120, "p/10#1"))
    # And recording p/1 again (attempt 1 once more) is a new recording
    assert admit(released, "p/1#1", limit=4, now=at(180)) is not None
    with pytest.raises(RecordingLimitError):
        admit(released, "p/1#1", limit=LIMIT, now=at(180))


def test_release_without_a_grant_of_that_step_writes_nothing():
    assert release(None, "p/1") is None
    assert release(window_of((0, "p/10#1"), (1, None)), "p/1") is None


def test_a_lowered_limit_refuses_even_when_more_grants_are_stored():
    window = window_of((0, "a#1"), (1, "b#1"), (2, "c#1"))
    with pytest.raises(RecordingLimitError):
        admit(window, "d#1", limit=2, now=at(10))


def test_the_window_expires_a_day_after_its_newest_grant():
    assert RecordingWindow().expires_at() is None
    assert window_of((0, "a#1"), (50, None)).expires_at() == at(50) + WINDOW


@pytest.mark.parametrize(
    ("wait", "said"),
    [(1, "1 s"), (59, "59 s"), (60, "1 min"), (61, "2 min"), (3600, "1 h 0 min"), (86399, "24 h 0 min")],
)
def test_the_message_says_how_long_to_wait_in_words_a_person_reads(wait, said):
    assert str(RecordingLimitError(50, wait)).endswith(f"try again in {said}")
