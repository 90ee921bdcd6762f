"""The API's OpenAPI 3 description (served at ``/openapi.json``; schemathesis fuzzes from it)."""
from __future__ import annotations

from typing import Any

from chalicelib.model.kinds import STATES
from chalicelib.model.options import (
    CHUNK_SECONDS_RANGE,
    CODECS,
    CRF_RANGE,
    HDR_MODES,
    LOUDNESS_OFF,
    LOUDNESS_RANGE,
    MAX_HEIGHT_RANGE,
    MAX_RUNGS,
    MAXRATE_RANGE,
    OUTPUTS,
    PRESETS,
    RUNG_HEIGHT_RANGE,
    SEGMENT_SECONDS_RANGE,
    X264_PRESETS,
)
from chalicelib.model.webhooks import EVENT_TYPES, MAX_URL_LENGTH

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 1024}}


def _op(summary: str, ok: str, *, body: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
        auth: bool = True, errors: tuple[str, ...] = ("400", "401", "404", "409")) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "success"}}}
    for code in errors if auth else ():
        op["responses"][code] = _ERROR
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if not auth:
        op["security"] = []
    return op


def _options_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": {
        "preset": {"type": "string", "enum": list(PRESETS)},
        "crf": {"type": "integer", "minimum": CRF_RANGE[0], "maximum": CRF_RANGE[1]},
        "x264_preset": {"type": "string", "enum": list(X264_PRESETS)},
        "max_height": {"type": "integer", "minimum": MAX_HEIGHT_RANGE[0], "maximum": MAX_HEIGHT_RANGE[1]},
        "chunk_seconds": {"type": "number", "minimum": CHUNK_SECONDS_RANGE[0], "maximum": CHUNK_SECONDS_RANGE[1]},
        "outputs": _subset(OUTPUTS),
        "codecs": _subset(CODECS),
        "hdr": {"type": "string", "enum": list(HDR_MODES),
                "description": "an HDR source: tonemap (every rendition SDR) or keep (HEVC/AV1 stay HDR)"},
        "segment_seconds": {"type": "number", "minimum": SEGMENT_SECONDS_RANGE[0],
                            "maximum": SEGMENT_SECONDS_RANGE[1]},
        "loudness": {"oneOf": [{"type": "string", "enum": [LOUDNESS_OFF]}, {
            "type": "number", "minimum": LOUDNESS_RANGE[0], "maximum": LOUDNESS_RANGE[1]}],
            "description": "off (default), or the audio's integrated loudness in LUFS (EBU R128, two passes; "
                           "true peak at most -1 dBTP), a number"},
        "ladder": {"oneOf": [{"type": "string", "enum": ["auto"]}, {
            "type": "array", "minItems": 1, "maxItems": MAX_RUNGS, "items": {
                "type": "object", "required": ["height"], "additionalProperties": False, "properties": {
                    "height": {"type": "integer", "minimum": RUNG_HEIGHT_RANGE[0], "maximum": RUNG_HEIGHT_RANGE[1]},
                    "codec": {"type": "string", "enum": list(CODECS)},
                    "crf": {"type": "integer", "minimum": 0, "maximum": 63},
                    "maxrate": {"type": "integer", "minimum": MAXRATE_RANGE[0], "maximum": MAXRATE_RANGE[1],
                                "description": "peak, kb/s"}}}}]},
    }}


def _subset(allowed: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "enum": list(allowed)}}


def _estimate_schemas() -> dict[str, Any]:
    """A job's ``estimate`` (set after probing, else null) and ``actual`` (once done, else null)."""
    seconds = {"type": "number", "nullable": True}
    return {
        "Estimate": {"type": "object", "nullable": True, "properties": {
            "ready_in_seconds": {**seconds, "description": "from made_at to done; null: no worker runs"},
            "cost_usd": {"type": "number", "description": "Fargate price of the parts' and assembly's seconds"},
            "made_at": {"type": "number", "description": "epoch seconds, the end of probing"},
            "basis": {"type": "object", "description": "what it was computed from: calibration, fleet, workers, "
                                                        "backlog, work, price"}}},
        "Actual": {"type": "object", "nullable": True, "properties": {
            "ready_in_seconds": {"type": "number", "description": "from the estimate's made_at to done"},
            "cost_usd": {**seconds, "description": "the same prices over the seconds recorded; null in listings"}}},
    }


def _thumbnail_op(fmt: str) -> dict[str, Any]:
    """``GET /jobs/{id}/thumbnail.{fmt}`` (README "Images")."""
    op = _op(f"A {fmt.upper()} still of the done job's output (made once, then cached)", "302", params=[
        _JOB_ID,
        {"name": "time", "in": "query", "description": "seconds from the start, below the duration; "
         "default: the poster's", "schema": {"type": "number", "minimum": 0}},
        {"name": "width", "in": "query", "description": "pixels (the height keeps the aspect ratio); default: "
         "the output's, at most 1920", "schema": {"type": "integer", "minimum": 16, "maximum": 1920}}])
    facts = {"type": "object", "properties": {
        "url": {"type": "string", "description": "the image's token URL (where the 302 points)"},
        "time": {"type": "number"}, "width": {"type": "integer"}, "height": {"type": "integer"},
        "format": {"type": "string"}, "cached": {"type": "boolean", "description": "no decode was needed"}}}
    op["responses"]["302"] = {"description": "to the image's token URL (Location)",
                              "headers": {"Location": {"schema": {"type": "string"}}}}
    op["responses"]["200"] = {"description": "with Accept: application/json, the same facts without the redirect",
                              "content": {"application/json": {"schema": facts}}}
    return op


_ENDPOINT_ID = {"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
_WAIT = [{"name": "wait", "in": "query", "description": "seconds to wait for a change (at most 25)",
          "schema": {"type": "number", "minimum": 0, "maximum": 25}},
         {"name": "since", "in": "query", "description": "the job's `version` the caller has; answered as soon as "
          "the job's is newer", "schema": {"type": "integer"}}]


def _webhook_paths() -> dict[str, Any]:
    """``/webhooks``: endpoints, secrets and deliveries (README "Webhooks")."""
    events = {"type": "array", "uniqueItems": True, "items": {"type": "string", "enum": list(EVENT_TYPES)},
              "description": "the event types sent (empty or absent: all)"}
    url = {"type": "string", "maxLength": MAX_URL_LENGTH, "description": "http(s) URL of a public receiver"}
    create = {"type": "object", "required": ["url"], "properties": {
        "url": url, "events": events, "description": {"type": "string", "maxLength": 200}}}
    update = {"type": "object", "properties": {
        "url": url, "events": events, "description": {"type": "string", "maxLength": 200},
        "enabled": {"type": "boolean", "description": "false: nothing is sent; true: on again, failures forgotten"}}}
    delivery = {"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
    return {
        "/webhooks": {
            "post": _op("Register a receiver: its id and signing secret (shown once)", "201", body=create,
                        errors=("400", "401", "429")),
            "get": _op("Your webhook endpoints", "200", errors=("401",)),
        },
        "/webhooks/{endpoint_id}": {
            "get": _op("One endpoint", "200", params=[_ENDPOINT_ID]),
            "patch": _op("Change or switch an endpoint on/off", "200", params=[_ENDPOINT_ID], body=update),
            "delete": _op("Delete an endpoint", "204", params=[_ENDPOINT_ID]),
        },
        "/webhooks/{endpoint_id}/rotate": {"post": _op(
            "A new signing secret; the old one signs beside it for a day", "200", params=[_ENDPOINT_ID])},
        "/webhooks/{endpoint_id}/deliveries": {"get": _op(
            "The endpoint's latest deliveries: status, attempts, last response, next retry", "200",
            params=[_ENDPOINT_ID, {"name": "limit", "in": "query",
                                   "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
        "/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver": {"post": _op(
            "Send a finished delivery again (same webhook-id)", "200", params=[_ENDPOINT_ID, delivery])},
    }


def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    create = {"type": "object", "required": ["filename", "size", "content_type"], "properties": {
        "filename": {"type": "string", "minLength": 1, "maxLength": 255},
        "size": {"type": "integer", "minimum": 1},
        "content_type": {"type": "string"},
        "options": _options_schema(),
        "duration": {"type": "number", "minimum": 0},
        "width": {"type": "integer", "minimum": 0},
        "height": {"type": "integer", "minimum": 0},
    }}
    parts = {"type": "object", "required": ["parts"], "properties": {"parts": {"type": "array", "items": {
        "type": "object", "required": ["PartNumber", "ETag"],
        "properties": {"PartNumber": {"type": "integer", "minimum": 1, "maximum": 10000}, "ETag": {"type": "string"}},
    }}}}
    paths = {
        "/health": {"get": _op("Liveness and queue depths", "200", auth=False)},
        "/jobs": {
            "post": _op("Create a job and presign its upload", "201", body=create, errors=("400", "401", "429")),
            "get": _op("List your jobs, newest first", "200", params=[
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "before", "in": "query", "schema": {"type": "string"}}], errors=("400", "401")),
        },
        "/jobs/{job_id}": {
            "get": _op("Status of a job; with wait/since, as soon as it changes", "200", params=[_JOB_ID, *_WAIT],
                       errors=("400", "401", "404", "429")),
            "delete": _op("Delete a job and its files", "204", params=[_JOB_ID]),
        },
        "/jobs/{job_id}/cancel": {"post": _op("Cancel a job", "200", params=[_JOB_ID])},
        **{f"/jobs/{{job_id}}/thumbnail.{fmt}": {"get": _thumbnail_op(fmt)} for fmt in ("jpg", "webp")},
        "/jobs/{job_id}/multipart": {"post": _op("Start a multipart upload", "201", params=[_JOB_ID])},
        "/jobs/{job_id}/multipart/{upload_id}": {
            "get": _op("Parts already uploaded", "200", params=[_JOB_ID, _UPLOAD_ID]),
            "delete": _op("Abort a multipart upload", "204", params=[_JOB_ID, _UPLOAD_ID]),
        },
        "/jobs/{job_id}/multipart/{upload_id}/parts/{part_number}": {"get": _op(
            "Presign one part", "200", params=[_JOB_ID, _UPLOAD_ID, {
                "name": "part_number", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}])},
        "/jobs/{job_id}/multipart/{upload_id}/complete": {"post": _op(
            "Complete a multipart upload", "200", params=[_JOB_ID, _UPLOAD_ID], body=parts)},
        **_webhook_paths(),
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "framefleet", "version": "0.1.0",
                 "description": f"Chunked parallel video transcoding. Job states: {', '.join(STATES)}."},
        "paths": paths,
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
            "schemas": {"Error": {"type": "object", "required": ["error"],
                                  "properties": {"error": {"type": "string"}}},
                        **_estimate_schemas()},
        },
    }
