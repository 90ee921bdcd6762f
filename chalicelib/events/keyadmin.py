"""The admin Lambda's requests: API keys on AWS, where only the Lambdas reach Valkey.

``{"action": "create_key", "owner": "alice", "name": "laptop", "limits": {...}}`` →
``{"key": "ffk_…", "id": …}`` (the only time the plaintext exists);
``{"action": "list_keys"}`` → ``{"keys": [records, never secrets]}``;
``{"action": "revoke_key", "key_id": "3f9a1c2b"}`` → ``{"revoked": "3f9a1c2b"}``;
a refused request → ``{"error": "..."}``.
"""
from __future__ import annotations

from typing import Any

from chalicelib.model.errors import FramefleetError
from chalicelib.stores.protocols import KeyStoreProtocol

ACTIONS = ("create_key", "list_keys", "revoke_key")


def handle(keys: KeyStoreProtocol, event: Any) -> dict[str, Any]:
    """Carry out one admin request."""
    request = event if isinstance(event, dict) else {}
    action = request.get("action")
    try:
        if action == "create_key":
            key = keys.create(str(request.get("owner") or ""), str(request.get("name") or ""),
                              request.get("limits") or None)
            return {"key": key, "id": key.split("_")[1]}
        if action == "list_keys":
            return {"keys": keys.list()}
        if action == "revoke_key":
            keys.revoke(str(request.get("key_id") or ""))
            return {"revoked": request["key_id"]}
    except FramefleetError as exc:
        return {"error": str(exc)}
    return {"error": f"unknown action {action!r}: {', '.join(ACTIONS)}"}
