"""Answer keys, the user key and the caller's identity from JWT claims."""

from __future__ import annotations

import pytest

from ingest.domain.errors import ForbiddenError, InvalidParameterError, UnauthorizedError
from ingest.domain.identity import caller_from_claims, parse_groups, require_group, verified_email
from ingest.domain.keys import AnswerKey, parse_video_key, user_key_for, validate_step_ref

# Computed independently: printf '%s' ada.lovelace@example.org | openssl dgst -sha256 -hmac local-user-key-secret
ADA_KEY = "570e853b8ba466b0286724b6e4fdff039dad3531c1d2b8447537537891c5613c"


@pytest.mark.parametrize("email", ["ada.lovelace@example.org", "  Ada.Lovelace@Example.ORG\t"])
def test_user_key_is_the_hmac_of_the_trimmed_lowercased_email(email):
    # Given the stage secret, When the key is derived, Then it matches openssl's HMAC-SHA256 hex digest
    assert user_key_for("local-user-key-secret", email) == ADA_KEY


def test_user_key_depends_on_the_secret():
    assert user_key_for("another-secret", "ada.lovelace@example.org") != ADA_KEY


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
    caller = caller_from_claims({"email": " ada@example.org ", "email_verified": verified})
    assert verified_email(caller) == "ada@example.org"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (None, "no identity in the request"),
        ({}, "no identity in the request"),
        ({"sub": "x", "email_verified": "true"}, "the token carries no usable email claim"),
        ({"email": "", "email_verified": "true"}, "the token carries no usable email claim"),
        ({"email": "not-an-email", "email_verified": "true"}, "the token carries no usable email claim"),
        ({"email": ["ada@example.org"], "email_verified": "true"}, "the token carries no usable email claim"),
        ({"email": "ada@example.org", "email_verified": "false"}, "the email address is not verified"),
        ({"email": "ada@example.org", "email_verified": False}, "the email address is not verified"),
        ({"email": "ada@example.org"}, "the email address is not verified"),
        ({"email": "ada@example.org", "email_verified": "yes"}, "the email address is not verified"),
    ],
)
def test_unusable_identities_are_unauthorized(claims, message):
    with pytest.raises(UnauthorizedError, match=f"^{message}$"):
        verified_email(caller_from_claims(claims))


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
