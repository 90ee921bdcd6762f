"""framefleet's Chalice app: the REST API and the S3-upload event handler (the chunker).

Routes only parse, call ``chalicelib`` and shape the response.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Rate, Request, Response

from chalicelib.events import chunker, keyadmin, metrics
from chalicelib.logs import get_logger
from chalicelib.model.errors import FramefleetError, ValidationError
from chalicelib.model.limits import Principal
from chalicelib.model.settings import get_settings
from chalicelib.rest import api, images, openapi, webhooks
from chalicelib.rest.auth import authenticate
from chalicelib.stores.services import get_services

app = Chalice(app_name="framefleet", configure_logs=False)  # Powertools logs as "framefleet"
app.api.cors = True
_SETTINGS = get_settings()  # what the decorators below need at import (packaging) time


def domain_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain exceptions into JSON errors with their status (never a stack trace)."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except FramefleetError as exc:
            if exc.STATUS_CODE >= 500:
                get_logger().exception("request failed")
            return Response({"error": str(exc)}, status_code=exc.STATUS_CODE)
        except Exception:  # noqa: BLE001 - log the trace, never send it
            get_logger().exception("unexpected error")
            return Response({"error": "internal error"}, status_code=500)

    return wrapper


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while serving a request"
    return request


def _caller() -> Principal:
    request, svc = _request(), get_services()
    return authenticate(svc.settings, svc.keys, request.headers or {}, request.context)


def _body() -> Any:
    request = _request()
    if not request.raw_body:  # no body at all: no fields
        return {}
    try:
        return request.json_body or {}
    except Exception as exc:  # Chalice raises its own BadRequestError subclass on invalid JSON
        raise ValidationError("request body must be JSON") from exc


@app.route("/health", methods=["GET"])
@domain_errors
def health() -> dict[str, Any]:
    return api.health(get_services())


@app.route("/openapi.json", methods=["GET"])
@domain_errors
def openapi_document() -> dict[str, Any]:
    return openapi.spec()


@app.route("/jobs", methods=["POST"])
@domain_errors
def create_job() -> Response:
    return Response(api.create_job(get_services(), _caller(), _body()), status_code=201)


@app.route("/jobs", methods=["GET"])
@domain_errors
def list_jobs() -> dict[str, Any]:
    return api.list_jobs(get_services(), _caller(), dict(_request().query_params or {}))


@app.route("/jobs/delete", methods=["POST"])
@domain_errors
def delete_jobs() -> dict[str, Any]:
    return api.delete_jobs(get_services(), _caller(), _body())


@app.route("/jobs/{job_id}", methods=["GET"])
@domain_errors
def get_job(job_id: str) -> dict[str, Any]:
    return api.get_job(get_services(), _caller(), job_id, dict(_request().query_params or {}))


@app.route("/jobs/{job_id}", methods=["DELETE"])
@domain_errors
def delete_job(job_id: str) -> Response:
    api.delete_job(get_services(), _caller(), job_id)
    return Response("", status_code=204)


@app.route("/jobs/{job_id}/cancel", methods=["POST"])
@domain_errors
def cancel_job(job_id: str) -> dict[str, Any]:
    return api.cancel_job(get_services(), _caller(), job_id)


@app.route("/jobs/{job_id}/multipart", methods=["POST"])
@domain_errors
def create_multipart(job_id: str) -> Response:
    return Response(api.create_multipart(get_services(), _caller(), job_id, _body()), status_code=201)


@app.route("/jobs/{job_id}/multipart/{upload_id}", methods=["GET"])
@domain_errors
def list_parts(job_id: str, upload_id: str) -> dict[str, Any]:
    return api.list_parts(get_services(), _caller(), job_id, upload_id)


@app.route("/jobs/{job_id}/multipart/{upload_id}", methods=["DELETE"])
@domain_errors
def abort_multipart(job_id: str, upload_id: str) -> Response:
    api.abort_multipart(get_services(), _caller(), job_id, upload_id)
    return Response("", status_code=204)


@app.route("/jobs/{job_id}/multipart/{upload_id}/parts/{part_number}", methods=["GET"])
@domain_errors
def sign_part(job_id: str, upload_id: str, part_number: str) -> dict[str, Any]:
    return api.sign_part(get_services(), _caller(), job_id, upload_id, part_number)


@app.route("/jobs/{job_id}/multipart/{upload_id}/complete", methods=["POST"])
@domain_errors
def complete_multipart(job_id: str, upload_id: str) -> dict[str, Any]:
    return api.complete_multipart(get_services(), _caller(), job_id, upload_id, _body())


@app.route("/jobs/{job_id}/thumbnail.jpg", methods=["GET"])
@app.route("/jobs/{job_id}/thumbnail.webp", methods=["GET"])
@domain_errors
def thumbnail(job_id: str) -> Response:
    """302 to the image's token URL; its facts as JSON instead when asked (a cross-origin page)."""
    request = _request()
    fmt = str(request.context.get("resourcePath", "")).rsplit(".", 1)[-1]  # the route this is
    image = images.thumbnail(get_services(), _caller(), job_id, fmt, dict(request.query_params or {}))
    if "application/json" in str(request.headers.get("accept") or ""):
        return Response(image, headers={"Cache-Control": "no-store"})
    return Response(image, status_code=302, headers={"Location": image["url"], "Cache-Control": "no-store"})


@app.route("/webhooks", methods=["POST"])
@domain_errors
def create_webhook() -> Response:
    return Response(webhooks.create_endpoint(get_services(), _caller(), _body()), status_code=201)


@app.route("/webhooks", methods=["GET"])
@domain_errors
def list_webhooks() -> dict[str, Any]:
    return webhooks.list_endpoints(get_services(), _caller())


@app.route("/webhooks/{endpoint_id}", methods=["GET"])
@domain_errors
def get_webhook(endpoint_id: str) -> dict[str, Any]:
    return webhooks.get_endpoint(get_services(), _caller(), endpoint_id)


@app.route("/webhooks/{endpoint_id}", methods=["PATCH"])
@domain_errors
def update_webhook(endpoint_id: str) -> dict[str, Any]:
    return webhooks.update_endpoint(get_services(), _caller(), endpoint_id, _body())


@app.route("/webhooks/{endpoint_id}", methods=["DELETE"])
@domain_errors
def delete_webhook(endpoint_id: str) -> Response:
    webhooks.delete_endpoint(get_services(), _caller(), endpoint_id)
    return Response("", status_code=204)


@app.route("/webhooks/{endpoint_id}/rotate", methods=["POST"])
@domain_errors
def rotate_webhook_secret(endpoint_id: str) -> dict[str, Any]:
    return webhooks.rotate_secret(get_services(), _caller(), endpoint_id)


@app.route("/webhooks/{endpoint_id}/deliveries", methods=["GET"])
@domain_errors
def list_webhook_deliveries(endpoint_id: str) -> dict[str, Any]:
    return webhooks.list_deliveries(get_services(), _caller(), endpoint_id, dict(_request().query_params or {}))


@app.route("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver", methods=["POST"])
@domain_errors
def redeliver_webhook(endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    return webhooks.redeliver(get_services(), _caller(), endpoint_id, delivery_id)


@app.on_sqs_message(queue=_SETTINGS.upload_queue, batch_size=1)
def on_upload(event: Any) -> None:
    """The chunking Lambda: S3 ObjectCreated (via SQS) → probe, plan, enqueue."""
    for record in event:
        chunker.handle_message(get_services(), record.body)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def publish_queue_depth(event: Any) -> dict[str, Any]:
    """Every minute: the work queues' depth as EMF metrics, which scale the Fargate workers."""
    return metrics.publish_queue_depth(get_services())


@app.lambda_function(name="admin")
def admin(event: Any, context: Any) -> dict[str, Any]:
    """API keys on AWS, where Valkey is private: invoked only with ``aws lambda invoke`` (the end
    of infra/deploy.sh, infra/admin.sh), never through API Gateway."""
    return keyadmin.handle(get_services().keys, event)
