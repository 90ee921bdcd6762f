"""API keys: who is calling, and that caller's limits. Only SHA-256 hashes are stored.

A key is ``ffk_<id>_<secret>``: ``id`` names it (for listing and revoking), the 256-bit secret
makes it unguessable, and because it is random a fast hash is enough (nothing to brute-force).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import redis

from chalicelib.model.errors import NotFoundError, ValidationError
from chalicelib.model.limits import Principal, parse_limits


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeys:
    """The key registry in Redis: ``{prefix}:apikeys`` maps hash → record, ``…:apikey-ids`` id → hash."""

    def __init__(self, r: redis.Redis, prefix: str) -> None:
        self.r: Any = r  # redis-py types replies as bytes | str; ours decode (decode_responses=True)
        self.by_hash = f"{prefix}:apikeys"
        self.by_id = f"{prefix}:apikey-ids"

    def create(self, owner: str, name: str = "", limits: dict[str, Any] | None = None) -> str:
        """Issue a key for ``owner``; the only time the plaintext exists. Returns it."""
        if not owner or len(owner) > 128 or not all(c.isalnum() or c in "-_.@" for c in owner):
            raise ValidationError("owner must be 1-128 characters of letters, digits, - _ . @")
        key_id = secrets.token_hex(4)
        token = f"ffk_{key_id}_{secrets.token_urlsafe(32)}"
        record = {"id": key_id, "owner": owner, "name": name, "created_at": time.time(),
                  "limits": parse_limits(limits or {})}
        digest = _digest(token)
        pipe = self.r.pipeline()
        pipe.hset(self.by_hash, digest, json.dumps(record))
        pipe.hset(self.by_id, key_id, digest)
        pipe.execute()
        return token

    def verify(self, token: str | None) -> Principal | None:
        """The principal of a presented key, or None if unknown/revoked/malformed."""
        if not token or not token.startswith("ffk_") or len(token) > 200:
            return None
        digest = _digest(token)
        raw = self.r.hget(self.by_hash, digest)
        if raw is None:
            return None
        record = json.loads(raw)
        # Defence in depth against a forged hash field: the id embedded in the token must match.
        if not hmac.compare_digest(token.split("_")[1] if token.count("_") >= 2 else "", record["id"]):
            return None
        return Principal(record["owner"], record.get("limits", {}), record["id"])

    def revoke(self, key_id: str) -> None:
        """Revoke a key by id (NotFoundError if unknown)."""
        digest = self.r.hget(self.by_id, key_id)
        if digest is None:
            raise NotFoundError(f"no key with id {key_id}")
        pipe = self.r.pipeline()
        pipe.hdel(self.by_hash, digest)
        pipe.hdel(self.by_id, key_id)
        pipe.execute()

    def list(self) -> list[dict[str, Any]]:
        """Every key's record (never the secret or its hash)."""
        return sorted((json.loads(v) for v in self.r.hvals(self.by_hash)), key=lambda r: r["created_at"])
