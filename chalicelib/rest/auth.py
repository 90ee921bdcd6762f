"""Authentication of API calls: API keys (locally and on AWS), or none at all."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.model.errors import UnauthorizedError
from chalicelib.model.limits import Principal
from chalicelib.model.settings import Settings
from chalicelib.stores.protocols import KeyStoreProtocol

API_KEY_HEADER = "x-api-key"
AUTH_MODES = ("apikey", "none")


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The API key in ``X-Api-Key`` or ``Authorization: Bearer …`` (headers are case-insensitive)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get(API_KEY_HEADER):
        return lowered[API_KEY_HEADER].strip()
    bearer = lowered.get("authorization", "")
    return bearer[7:].strip() if bearer.lower().startswith("bearer ") else None


def authenticate(settings: Settings, keys: KeyStoreProtocol, headers: Mapping[str, str],
                 context: Mapping[str, Any] | None) -> Principal:
    """Who is calling; UnauthorizedError if nobody we know."""
    if settings.auth == "none":
        return Principal("anonymous")
    principal = keys.verify(presented_key(headers))
    if principal is None:
        raise UnauthorizedError("missing or invalid API key (send it as X-Api-Key)")
    return principal
