"""What the ``/webhooks`` routes do: an owner's endpoints, their secrets and deliveries."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from chalicelib.model.errors import ValidationError
from chalicelib.model.limits import Principal
from chalicelib.model.webhooks import EndpointState, check_events, check_url, forbidden_address, literal_address
from chalicelib.stores.services import Services

_PUBLIC = ("id", "url", "events", "description", "state", "created_at", "updated_at", "failing_since",
           "disabled_at", "disabled_reason")
_DELIVERY = ("id", "type", "status", "attempts", "redeliveries", "created_at", "last_attempt_at", "next_attempt_at",
             "succeeded_at", "last_status", "last_error", "last_response")
MAX_DESCRIPTION = 200


def endpoint_view(endpoint: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    """An endpoint as the API shows it; its secret only right after it was made."""
    view = {k: endpoint.get(k) for k in _PUBLIC}
    if with_secret:
        view["secret"] = endpoint["secret"]
    return view


def delivery_view(delivery: dict[str, Any]) -> dict[str, Any]:
    """A delivery as the API shows it (``event_id`` is the ``webhook-id`` header it was sent with)."""
    view = {k: delivery.get(k) for k in _DELIVERY}
    view.update(event_id=delivery.get("msg"), job_id=delivery.get("job") or None)
    return view


def _url(svc: Services, body: dict[str, Any]) -> str:
    url = check_url(body.get("url"))
    address = literal_address(urlsplit(url).hostname or "")
    reason = address and forbidden_address(address, svc.settings.webhook_allow_loopback)
    if reason:
        raise ValidationError(f"'url' points at {reason}; webhooks only go to public addresses")
    return url


def _description(body: dict[str, Any]) -> str | None:
    text = body.get("description")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_DESCRIPTION):
        raise ValidationError(f"'description' must be a string of at most {MAX_DESCRIPTION} characters")
    return text


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object")
    return body


def create_endpoint(svc: Services, who: Principal, body: Any) -> dict[str, Any]:
    """Register a receiver: its id and signing secret (``whsec_…``)."""
    body = _object(body)
    endpoint = svc.webhooks.create_endpoint(who.owner, _url(svc, body), check_events(body.get("events")),
                                            _description(body) or "")
    return endpoint_view(endpoint, with_secret=True)


def list_endpoints(svc: Services, who: Principal) -> dict[str, Any]:
    """The caller's endpoints (without secrets)."""
    return {"webhooks": [endpoint_view(e) for e in svc.webhooks.endpoints(who.owner)]}


def get_endpoint(svc: Services, who: Principal, endpoint_id: str) -> dict[str, Any]:
    """One endpoint (without its secret)."""
    return endpoint_view(svc.webhooks.endpoint(who.owner, endpoint_id))


def update_endpoint(svc: Services, who: Principal, endpoint_id: str, body: Any) -> dict[str, Any]:
    """Change an endpoint's URL, events or description; ``enabled`` switches it on or off
    (switching on a disabled endpoint forgets its failures)."""
    body = _object(body)
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValidationError("'enabled' must be true or false")
    state = None if enabled is None else (EndpointState.ENABLED if enabled else EndpointState.DISABLED)
    endpoint = svc.webhooks.update_endpoint(
        who.owner, endpoint_id, url=_url(svc, body) if "url" in body else None,
        events=check_events(body["events"]) if "events" in body else None, description=_description(body),
        state=state)
    return endpoint_view(endpoint)


def rotate_secret(svc: Services, who: Principal, endpoint_id: str) -> dict[str, Any]:
    """A new signing secret; the old one keeps signing beside it for a grace period."""
    endpoint = svc.webhooks.rotate_secret(who.owner, endpoint_id, svc.settings.webhook_secret_grace_seconds)
    return {**endpoint_view(endpoint, with_secret=True), "previous_secret_expires_at": endpoint.get("previous_until")}


def delete_endpoint(svc: Services, who: Principal, endpoint_id: str) -> None:
    """Delete an endpoint; nothing more is sent to it."""
    svc.webhooks.delete_endpoint(who.owner, endpoint_id)


def list_deliveries(svc: Services, who: Principal, endpoint_id: str, params: dict[str, str]) -> dict[str, Any]:
    """The endpoint's latest deliveries, newest first (status, attempts, last response, next retry)."""
    try:
        limit = min(max(int(params.get("limit") or 50), 1), 1000)
    except ValueError as exc:
        raise ValidationError("'limit' must be an integer") from exc
    return {"deliveries": [delivery_view(d) for d in svc.webhooks.deliveries(who.owner, endpoint_id, limit)]}


def redeliver(svc: Services, who: Principal, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    """Send a finished delivery again, now, with the same ``webhook-id``."""
    return delivery_view(svc.webhooks.redeliver(who.owner, endpoint_id, delivery_id))
