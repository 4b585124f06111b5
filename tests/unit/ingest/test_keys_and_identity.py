"""Answer keys, the user key and the caller's identity from JWT claims."""

from __future__ import annotations

import pytest

from ingest.domain.errors import ForbiddenError, InvalidParameterError, UnauthorizedError
from ingest.domain.identity import Person, caller_from_claims, parse_groups, require_group, verified_person
from ingest.domain.keys import AnswerKey, parse_video_key, user_key_for, validate_step_ref

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
SUBJECT = "7d3f0c2e-1b4a-4c8e-9f2a-5b6c7d8e9f01"
# Computed independently: printf '%s' '["<ISSUER>","<SUBJECT>"]' | openssl dgst -sha256 -hmac local-user-key-secret
ADA_KEY = "be220197efda98466ff38bd58864419ad008042045502f120d05f571d1eacd43"
VERIFIED = {"iss": ISSUER, "sub": SUBJECT, "email": "ada@example.org", "email_verified": "true"}


def test_user_key_is_the_hmac_of_the_issuer_and_subject():
    # Given the stage secret, When the key is derived, Then it matches openssl's HMAC-SHA256 hex digest
    assert user_key_for("local-user-key-secret", ISSUER, SUBJECT) == ADA_KEY


def test_user_key_depends_on_the_secret():
    assert user_key_for("another-secret", ISSUER, SUBJECT) != ADA_KEY


def test_the_same_subject_from_two_issuers_is_two_people():
    other_provider = "https://login.example.net/"
    assert user_key_for("local-user-key-secret", other_provider, SUBJECT) != ADA_KEY


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("https://a.example/x", "y"), ("https://a.example/", "xy")),  # the boundary moved
        (("i", 'a","b'), ('i","a', "b")),  # a quote inside a claim
        (("i", "s"), ("i ", "s")),  # exact strings: no trimming
        (("i", "S"), ("i", "s")),  # nor case folding
    ],
)
def test_different_issuer_subject_pairs_never_share_a_key(first, second):
    assert user_key_for("k", *first) != user_key_for("k", *second)


def test_the_email_plays_no_part_in_the_person():
    # Given the same account before and after its email changed
    before = caller_from_claims(VERIFIED)
    after = caller_from_claims({**VERIFIED, "email": "ada.king@example.net"})
    # Then it is the same person; and another account that later holds the old address is someone else
    assert verified_person(before) == verified_person(after) == Person(ISSUER, SUBJECT)
    newcomer = caller_from_claims({**VERIFIED, "sub": "0b8f2d6e-0000-4000-8000-000000000000"})
    assert verified_person(newcomer) != verified_person(before)


def test_the_caller_keeps_no_email_address():
    caller = caller_from_claims(VERIFIED)
    assert "ada@example.org" not in repr(caller) and "ada@example.org" not in repr(verified_person(caller))


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (f"onboarding-2026/3/{ADA_KEY}.webm", AnswerKey("onboarding-2026", "3", ADA_KEY)),
        (f"P_1/0/{ADA_KEY}.webm", AnswerKey("P_1", "0", ADA_KEY)),
        (f"{'p' * 64}/999/{ADA_KEY}.webm", AnswerKey("p" * 64, "999", ADA_KEY)),
    ],
)
def test_video_keys_of_the_right_shape_parse(key, expected):
    assert parse_video_key(key) == expected
    assert expected.video_key == key


@pytest.mark.parametrize(
    "key",
    [
        f"onboarding-2026/03/{ADA_KEY}.webm",  # leading zero
        f"onboarding-2026/1000/{ADA_KEY}.webm",  # step too large
        f"{'p' * 65}/3/{ADA_KEY}.webm",  # project too long
        f"on boarding/3/{ADA_KEY}.webm",
        f"onboarding-2026/3/{ADA_KEY.upper()}.webm",  # user key must be lowercase hex
        f"onboarding-2026/3/{ADA_KEY[:-1]}.webm",
        f"onboarding-2026/3/{ADA_KEY}.mp4",
        f"extra/onboarding-2026/3/{ADA_KEY}.webm",
        "onboarding-2026/3/ada.lovelace@example.org.webm",
        "",
    ],
)
def test_keys_that_do_not_fit_are_refused(key):
    assert parse_video_key(key) is None


@pytest.mark.parametrize(
    ("project", "step", "parameter"),
    [
        ("bad.project", "3", "project"),
        ("", "3", "project"),
        ("p" * 65, "3", "project"),
        ("p", "01", "step"),
        ("p", "1000", "step"),
        ("p", "-1", "step"),
        ("p", "", "step"),
    ],
)
def test_step_reference_errors_name_the_parameter(project, step, parameter):
    with pytest.raises(InvalidParameterError) as raised:
        validate_step_ref(project, step)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"invalid {parameter}: ")


@pytest.mark.parametrize("verified", [True, "true", "True", " TRUE "])
def test_verified_email_accepts_boolean_and_string_true(verified):
    caller = caller_from_claims({**VERIFIED, "email": " ada@example.org ", "email_verified": verified})
    assert verified_person(caller) == Person(ISSUER, SUBJECT)


def _without(name: str) -> dict[str, object]:
    return {k: v for k, v in VERIFIED.items() if k != name}


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (None, "no identity in the request"),
        ({}, "no identity in the request"),
        (_without("iss"), "the token carries no usable iss claim"),
        ({**VERIFIED, "iss": "  "}, "the token carries no usable iss claim"),
        ({**VERIFIED, "iss": ["https://a.example"]}, "the token carries no usable iss claim"),
        (_without("sub"), "the token carries no usable sub claim"),
        ({**VERIFIED, "sub": ""}, "the token carries no usable sub claim"),
        ({**VERIFIED, "sub": 42}, "the token carries no usable sub claim"),
        ({**VERIFIED, "sub": "a\x00b"}, "the token carries no usable sub claim"),
        ({**VERIFIED, "sub": "a\u202eb"}, "the token carries no usable sub claim"),
        ({**VERIFIED, "sub": "a\ud800"}, "the token carries no usable sub claim"),
        (_without("email"), "the token carries no usable email claim"),
        ({**VERIFIED, "email": ""}, "the token carries no usable email claim"),
        ({**VERIFIED, "email": "not-an-email"}, "the token carries no usable email claim"),
        ({**VERIFIED, "email": ["ada@example.org"]}, "the token carries no usable email claim"),
        ({**VERIFIED, "email_verified": "false"}, "the email address is not verified"),
        ({**VERIFIED, "email_verified": False}, "the email address is not verified"),
        (_without("email_verified"), "the email address is not verified"),
        ({**VERIFIED, "email_verified": "yes"}, "the email address is not verified"),
    ],
)
def test_unusable_identities_are_unauthorized(claims, message):
    with pytest.raises(UnauthorizedError, match=f"^{message}$"):
        verified_person(caller_from_claims(claims))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[reviewers admins]", {"reviewers", "admins"}),
        ("[reviewers]", {"reviewers"}),
        ("reviewers", {"reviewers"}),
        ('["reviewers","admins"]', {"reviewers", "admins"}),
        (["reviewers", "admins"], {"reviewers", "admins"}),
        ("[]", set()),
        (None, set()),
        (42, set()),
    ],
)
def test_groups_claim_accepts_http_api_strings_and_real_lists(value, expected):
    assert parse_groups(value) == expected


def test_group_membership_is_exact():
    caller = caller_from_claims({"sub": "x", "cognito:groups": "[reviewers-old admins]"})
    with pytest.raises(ForbiddenError, match="reviewers"):
        require_group(caller, "reviewers")
    require_group(caller, "admins")
