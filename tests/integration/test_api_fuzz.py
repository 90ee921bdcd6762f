"""Fuzz every route from the API's own OpenAPI description (schemathesis) against the live stack:
no 5xx, no stack traces, errors are JSON."""
from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from chalicelib.rest.openapi import spec
from devstack.stack import Stack

schema = schemathesis.openapi.from_dict(spec())


@pytest.fixture(scope="module")
def fuzz_key(stack: Stack) -> str:
    """A key of its own, so the jobs the fuzzer creates count against nobody else's limits."""
    from chalicelib.stores.services import get_services

    return str(get_services().keys.create("fuzzer"))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_no_stack_traces(case: Any, stack: Stack, fuzz_key: str) -> None:
    response = case.call(base_url=stack.api_url, headers={"X-Api-Key": fuzz_key}, timeout=30)
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code >= 400:
        body = response.json()  # ours: {"error"}; Chalice's own (405, bad JSON): {"Code", "Message"}
        assert isinstance(body.get("error") or body.get("Message"), str), body


def test_openapi_document_is_served(stack: Stack) -> None:
    import requests

    served = requests.get(f"{stack.api_url}/openapi.json", timeout=10).json()
    assert served == spec()
