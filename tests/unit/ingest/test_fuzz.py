"""Property tests: parameter, identity, cursor and object-key parsing only ever raise the domain's typed errors,
and accept every valid input (the siblings at the end), so a parser that refused everything fails here."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ingest.domain.errors import ForbiddenError, InvalidParameterError, UnauthorizedError
from ingest.domain.identity import caller_from_claims, require_group, verified_person
from ingest.domain.keys import AnswerKey, parse_video_key, validate_step_ref
from ingest.domain.views import decode_cursor, encode_cursor

# Every code point, lone surrogates included: JSON "\ud800" escapes decode to them.
ANY_TEXT = st.text(st.characters(codec=None, categories=None, exclude_categories=()), max_size=80)
ODD = ["..", "%2e%2e", "a/b", "a\x00b", "a\u202eb", "\uff11", "e\u0301", "p" * 5000, "\U0001f600", "abc\n", "\ud800"]
CLAIM_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)
CLAIM_NAMES = st.sampled_from(["email", "email_verified", "cognito:groups", "sub", "iss"]) | ANY_TEXT
CLAIMS = st.dictionaries(CLAIM_NAMES, CLAIM_VALUES, max_size=6)


@pytest.mark.parametrize("value", ODD)
def test_odd_values_are_refused_naming_the_parameter(value):
    for project, step, parameter in ((value, "3", "project"), ("p1", value, "step")):
        with pytest.raises(InvalidParameterError) as raised:
            validate_step_ref(project, step)
        assert raised.value.parameter == parameter


@given(ANY_TEXT | st.sampled_from(ODD), ANY_TEXT | st.sampled_from(["0", "3", "999"]))
@example("p1", "3")
def test_step_references_either_pass_as_ascii_or_raise_invalid_parameter(project, step):
    try:
        validate_step_ref(project, step)
    except InvalidParameterError as exc:
        assert exc.parameter in {"project", "step"}
        return
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", project, re.ASCII)
    assert re.fullmatch(r"0|[1-9][0-9]{0,2}", step, re.ASCII)


@given(CLAIMS, st.sampled_from(["reviewers", "admins"]))
@example(
    {
        "iss": "https://a.example",
        "sub": "s",
        "email": "ada@example.org",
        "email_verified": "true",
        "cognito:groups": "[reviewers]",
    },
    "reviewers",
)
def test_claims_yield_a_caller_or_a_typed_refusal(claims, group):
    try:
        caller = caller_from_claims(claims)
    except UnauthorizedError:
        assert not claims
        return
    try:
        person = verified_person(caller)
    except UnauthorizedError:
        pass
    else:
        # a usable issuer and subject are printable (no NUL, bidi override or surrogate) and the HMAC can encode them
        assert person.issuer.isprintable() and person.subject.isprintable()
        assert person.issuer.strip() and person.subject.strip() and (person.issuer + person.subject).encode()
        assert claims["iss"] == person.issuer and claims["sub"] == person.subject
    try:
        require_group(caller, group)
    except ForbiddenError:
        assert group not in caller.groups


@pytest.mark.parametrize("email", ["ada\x00@example.org", "ada@exam\u202eple.org", "ada\ud800@example.org"])
def test_emails_with_control_format_or_surrogate_characters_are_not_usable(email):
    with pytest.raises(UnauthorizedError, match="no usable email claim"):
        verified_person(
            caller_from_claims({"iss": "https://a.example", "sub": "s", "email": email, "email_verified": "true"})
        )


@given(ANY_TEXT)
@example("onboarding-2026/3/" + "ab" * 32 + ".webm")
def test_object_keys_parse_to_an_answer_or_none(key):
    answer = parse_video_key(key)
    assert answer is None or (isinstance(answer, AnswerKey) and answer.video_key == key)


USER_KEY = "ab" * 32


@given(ANY_TEXT)
def test_arbitrary_cursors_raise_only_invalid_parameter(cursor):
    try:
        start = decode_cursor(cursor, "p1/3")
    except InvalidParameterError as exc:
        assert exc.parameter == "cursor"
        return
    assert start["project_step"] == "p1/3"


@given(ANY_TEXT)
@example("")
def test_crafted_cursors_with_a_bad_user_key_are_refused(user_key):
    cursor = encode_cursor({"answer_id": f"p1/3/{user_key}", "project_step": "p1/3", "user_key": user_key})
    if re.fullmatch(r"[0-9a-f]{64}", user_key, re.ASCII):
        assert decode_cursor(cursor, "p1/3")["user_key"] == user_key
    else:
        with pytest.raises(InvalidParameterError):
            decode_cursor(cursor, "p1/3")


def test_a_cursor_this_api_returned_round_trips():
    start = {"answer_id": f"p1/3/{USER_KEY}", "project_step": "p1/3", "user_key": USER_KEY}
    assert decode_cursor(encode_cursor(start), "p1/3") == start


# --- valid input parses -----------------------------------------------------------------------------------

PROJECTS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
STEPS = st.integers(0, 999).map(str)
USER_KEYS = st.binary(min_size=32, max_size=32).map(bytes.hex)
# Issuers and subjects as identity providers issue them: printable, not blank.
PRINTABLE = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1, max_size=60)


@given(PROJECTS, STEPS)
def test_every_valid_step_reference_passes(project, step):
    validate_step_ref(project, step)


@given(PROJECTS, STEPS, USER_KEYS)
def test_every_video_key_vidsense_makes_parses_back_to_its_answer(project, step, user_key):
    answer = AnswerKey(project, step, user_key)
    assert parse_video_key(answer.video_key) == answer


@given(PRINTABLE, PRINTABLE, st.sampled_from([True, "true"]), st.lists(st.sampled_from(["reviewers", "admins"])))
def test_every_verified_token_yields_its_person_and_groups(issuer, subject, verified, groups):
    claims = {"iss": issuer, "sub": subject, "email": "ada@example.org", "email_verified": verified}
    if groups:
        claims["cognito:groups"] = f"[{' '.join(groups)}]"
    caller = caller_from_claims(claims)
    person = verified_person(caller)
    assert (person.issuer, person.subject) == (issuer, subject)
    for group in groups:
        require_group(caller, group)


@given(PROJECTS, STEPS, USER_KEYS)
def test_every_cursor_this_api_returns_decodes_to_its_start(project, step, user_key):
    project_step = f"{project}/{step}"
    start = {"answer_id": f"{project_step}/{user_key}", "project_step": project_step, "user_key": user_key}
    assert decode_cursor(encode_cursor(start), project_step) == start
