"""framefleet's Chalice app: the REST API and the S3-upload event handler (the chunker).

Routes only parse, call ``chalicelib`` and shape the response.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable

from chalice import Chalice, CognitoUserPoolAuthorizer, Rate, Response

from chalicelib import api, chunker, openapi, metrics
from chalicelib.auth import authenticate
from chalicelib.errors import (ConflictError, FramefleetError, LimitExceededError, NotFoundError, StorageError,
                               UnauthorizedError, ValidationError)
from chalicelib.keys import Principal
from chalicelib.logs import get_logger
from chalicelib.services import get_services

app = Chalice(app_name="framefleet", configure_logs=False)  # Powertools logs as "framefleet"
app.api.cors = True
UPLOAD_QUEUE = os.environ.get("FRAMEFLEET_UPLOAD_QUEUE", "framefleet-upload-events")

_STATUS = {ValidationError: 400, UnauthorizedError: 401, NotFoundError: 404, ConflictError: 409,
           LimitExceededError: 429, StorageError: 502}
# On AWS with FRAMEFLEET_AUTH=cognito, API Gateway verifies the user pool's JWTs itself.
AUTHORIZER = (
    CognitoUserPoolAuthorizer("framefleet-users", provider_arns=[os.environ["FRAMEFLEET_COGNITO_USER_POOL_ARN"]])
    if os.environ.get("FRAMEFLEET_AUTH") == "cognito" else None
)


def domain_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain exceptions into JSON errors with the right status (never a stack trace)."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except FramefleetError as exc:
            status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 500)
            if status >= 500:
                get_logger().exception("request failed")
            return Response({"error": str(exc)}, status_code=status)
        except Exception:  # noqa: BLE001 - log the trace, never send it
            get_logger().exception("unexpected error")
            return Response({"error": "internal error"}, status_code=500)

    return wrapper


def _caller() -> Principal:
    request, svc = app.current_request, get_services()
    return authenticate(svc.settings, svc.keys, request.headers or {}, request.context)


def _body() -> Any:
    try:
        return app.current_request.json_body or {}
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


@app.route("/jobs", methods=["POST"], authorizer=AUTHORIZER)
@domain_errors
def create_job() -> Response:
    return Response(api.create_job(get_services(), _caller(), _body()), status_code=201)


@app.route("/jobs", methods=["GET"], authorizer=AUTHORIZER)
@domain_errors
def list_jobs() -> dict[str, Any]:
    return api.list_jobs(get_services(), _caller(), dict(app.current_request.query_params or {}))


@app.route("/jobs/delete", methods=["POST"], authorizer=AUTHORIZER)
@domain_errors
def delete_jobs() -> dict[str, Any]:
    return api.delete_jobs(get_services(), _caller(), _body())


@app.route("/jobs/{job_id}", methods=["GET"], authorizer=AUTHORIZER)
@domain_errors
def get_job(job_id: str) -> dict[str, Any]:
    return api.get_job(get_services(), _caller(), job_id)


@app.route("/jobs/{job_id}", methods=["DELETE"], authorizer=AUTHORIZER)
@domain_errors
def delete_job(job_id: str) -> Response:
    api.delete_job(get_services(), _caller(), job_id)
    return Response("", status_code=204)


@app.route("/jobs/{job_id}/cancel", methods=["POST"], authorizer=AUTHORIZER)
@domain_errors
def cancel_job(job_id: str) -> dict[str, Any]:
    return api.cancel_job(get_services(), _caller(), job_id)


@app.route("/jobs/{job_id}/multipart", methods=["POST"], authorizer=AUTHORIZER)
@domain_errors
def create_multipart(job_id: str) -> Response:
    return Response(api.create_multipart(get_services(), _caller(), job_id), status_code=201)


@app.route("/jobs/{job_id}/multipart/{upload_id}", methods=["GET"], authorizer=AUTHORIZER)
@domain_errors
def list_parts(job_id: str, upload_id: str) -> dict[str, Any]:
    return api.list_parts(get_services(), _caller(), job_id, upload_id)


@app.route("/jobs/{job_id}/multipart/{upload_id}", methods=["DELETE"], authorizer=AUTHORIZER)
@domain_errors
def abort_multipart(job_id: str, upload_id: str) -> Response:
    api.abort_multipart(get_services(), _caller(), job_id, upload_id)
    return Response("", status_code=204)


@app.route("/jobs/{job_id}/multipart/{upload_id}/parts/{part_number}", methods=["GET"], authorizer=AUTHORIZER)
@domain_errors
def sign_part(job_id: str, upload_id: str, part_number: str) -> dict[str, Any]:
    return api.sign_part(get_services(), _caller(), job_id, upload_id, part_number)


@app.route("/jobs/{job_id}/multipart/{upload_id}/complete", methods=["POST"], authorizer=AUTHORIZER)
@domain_errors
def complete_multipart(job_id: str, upload_id: str) -> dict[str, Any]:
    return api.complete_multipart(get_services(), _caller(), job_id, upload_id, _body())


@app.on_sqs_message(queue=UPLOAD_QUEUE, batch_size=1)
def on_upload(event: Any) -> None:
    """The chunking Lambda: S3 ObjectCreated (via SQS) → probe, plan, enqueue."""
    for record in event:
        chunker.handle_message(get_services(), record.body)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def publish_queue_depth(event: Any) -> dict[str, Any]:
    """Every minute: the work queues' depth as EMF metrics, which scale the Fargate workers."""
    return metrics.publish_queue_depth(get_services())
