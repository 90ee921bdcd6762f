"""framefleet's Chalice app: the REST API and the S3-upload event handler (the chunker).

Routes only parse, call ``chalicelib`` and shape the response.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from chalice import Chalice, Response

from chalicelib import api, chunker
from chalicelib.errors import ConflictError, FramefleetError, NotFoundError, StorageError, ValidationError
from chalicelib.logs import get_logger
from chalicelib.services import get_services

app = Chalice(app_name="framefleet")
app.api.cors = True
UPLOAD_QUEUE = os.environ.get("FRAMEFLEET_UPLOAD_QUEUE", "framefleet-upload-events")

_STATUS = {ValidationError: 400, NotFoundError: 404, ConflictError: 409, StorageError: 502}


@app.middleware("http")
def domain_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Turn domain exceptions into JSON errors with the right status (no stack traces)."""
    try:
        return get_response(event)
    except FramefleetError as exc:
        status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 500)
        if status >= 500:
            get_logger().exception("request failed")
        return Response({"error": str(exc)}, status_code=status)


def _body() -> Any:
    try:
        return app.current_request.json_body or {}
    except Exception as exc:  # Chalice raises its own BadRequestError subclass on invalid JSON
        raise ValidationError("request body must be JSON") from exc


@app.route("/health", methods=["GET"])
def health() -> dict[str, Any]:
    return api.health(get_services())


@app.route("/jobs", methods=["POST"])
def create_job() -> Response:
    return Response(api.create_job(get_services(), _body()), status_code=201)


@app.route("/jobs", methods=["GET"])
def list_jobs() -> dict[str, Any]:
    params = app.current_request.query_params or {}
    return api.list_jobs(get_services(), params.get("limit"), params.get("before"))


@app.route("/jobs/{job_id}", methods=["GET"])
def get_job(job_id: str) -> dict[str, Any]:
    return api.get_job(get_services(), job_id)


@app.route("/jobs/{job_id}/cancel", methods=["POST"])
def cancel_job(job_id: str) -> dict[str, Any]:
    return api.cancel_job(get_services(), job_id)


@app.route("/jobs/{job_id}/multipart", methods=["POST"])
def create_multipart(job_id: str) -> Response:
    return Response(api.create_multipart(get_services(), job_id), status_code=201)


@app.route("/jobs/{job_id}/multipart/{upload_id}", methods=["GET"])
def list_parts(job_id: str, upload_id: str) -> dict[str, Any]:
    return api.list_parts(get_services(), job_id, upload_id)


@app.route("/jobs/{job_id}/multipart/{upload_id}", methods=["DELETE"])
def abort_multipart(job_id: str, upload_id: str) -> Response:
    api.abort_multipart(get_services(), job_id, upload_id)
    return Response("", status_code=204)


@app.route("/jobs/{job_id}/multipart/{upload_id}/parts/{part_number}", methods=["GET"])
def sign_part(job_id: str, upload_id: str, part_number: str) -> dict[str, Any]:
    return api.sign_part(get_services(), job_id, upload_id, part_number)


@app.route("/jobs/{job_id}/multipart/{upload_id}/complete", methods=["POST"])
def complete_multipart(job_id: str, upload_id: str) -> dict[str, Any]:
    return api.complete_multipart(get_services(), job_id, upload_id, _body())


@app.on_sqs_message(queue=UPLOAD_QUEUE, batch_size=1)
def on_upload(event: Any) -> None:
    """The chunking Lambda: S3 ObjectCreated (via SQS) → probe, plan, enqueue."""
    for record in event:
        chunker.handle_message(get_services(), record.body)
