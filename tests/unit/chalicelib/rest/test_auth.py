"""Authentication decisions (pure: no server)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.model.errors import UnauthorizedError
from chalicelib.model.limits import Principal, limits_for
from chalicelib.model.settings import Settings
from chalicelib.rest.auth import authenticate, presented_key


class FakeKeys:
    def verify(self, token: str | None) -> Principal | None:
        return Principal("alice", {"max_active_jobs": 2}) if token == "ffk_good_secret" else None


def test_key_is_read_from_either_header_case_insensitively() -> None:
    assert presented_key({"X-API-KEY": " ffk_a_b "}) == "ffk_a_b"
    assert presented_key({"authorization": "Bearer ffk_c_d"}) == "ffk_c_d"
    assert presented_key({"Authorization": "Basic Zm9v"}) is None and presented_key({}) is None


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "ffk_bad"}, {"Authorization": "Bearer nope"}])
def test_apikey_mode_refuses_unknown_keys(headers: dict) -> None:
    with pytest.raises(UnauthorizedError):
        authenticate(Settings(), FakeKeys(), headers, None)


def test_apikey_mode_returns_the_keys_owner_and_limits() -> None:
    who = authenticate(Settings(), FakeKeys(), {"X-Api-Key": "ffk_good_secret"}, None)
    assert who.owner == "alice"
    assert limits_for(Settings(), who)["max_active_jobs"] == 2
    assert limits_for(Settings(), who)["max_upload_bytes"] == Settings().max_upload_bytes


def test_there_is_no_cognito_mode_any_more() -> None:
    """FRAMEFLEET_AUTH=cognito (removed) is API-key mode: claims in the context prove nothing."""
    settings = replace(Settings(), auth="cognito")
    context = {"authorizer": {"claims": {"sub": "1234-abcd"}}}
    with pytest.raises(UnauthorizedError):
        authenticate(settings, FakeKeys(), {}, context)
    assert authenticate(settings, FakeKeys(), {"X-Api-Key": "ffk_good_secret"}, context).owner == "alice"


def test_none_mode_is_one_anonymous_owner() -> None:
    assert authenticate(replace(Settings(), auth="none"), FakeKeys(), {}, None).owner == "anonymous"
