"""The queue-depth publisher (EMF via Powertools Metrics) against a real Valkey, and its match
with the alarms in infra/template.yaml that scale the workers."""
from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.events import metrics
from chalicelib.model.settings import Settings
from chalicelib.stores.clients import make_redis
from chalicelib.stores.services import build_services
from tests.infra.helpers import CHALICE_CONFIG, template


@pytest.fixture
def svc(redis_url: str) -> Any:
    settings = replace(Settings.from_env({}), redis_url=redis_url, key_prefix=f"metrics-{uuid.uuid4().hex[:8]}",
                       max_attempts=1)
    return build_services(settings, make_redis(redis_url), None)


def emf_documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def fill(svc: Any) -> None:
    """process: 2 ready + 1 in flight + 1 dead; assemble: 1 ready."""
    for n in range(4):
        svc.process_queue.push({"job_id": "j", "kind": "chunk", "index": n})
    svc.process_queue.pop(timeout=0)
    dead = svc.process_queue.pop(timeout=0)
    svc.process_queue.fail(dead, "boom")  # max_attempts=1: dead
    svc.assemble_queue.push({"job_id": "j", "kind": "assemble"})


def test_publishes_backlog_and_dead_per_queue_as_emf(svc: Any, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Framefleet/test")
    fill(svc)
    depths = metrics.publish_queue_depth(svc)
    assert depths == {"process": {"ready": 2, "inflight": 1, "dead": 1},
                      "assemble": {"ready": 1, "inflight": 0, "dead": 0}}
    docs = {doc["queue"]: doc for doc in emf_documents(capsys.readouterr().out)}
    assert set(docs) == {"process", "assemble"}
    process = docs["process"]
    (directive,) = process["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Framefleet/test"
    assert sorted(directive["Dimensions"][0]) == ["queue", "service"]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {"Backlog": "Count", "Dead": "Count"}
    assert process["service"] == "framefleet"
    assert process["Backlog"] == [3.0] and process["Dead"] == [1.0]  # ready + in flight
    assert process["ready"] == 2 and process["inflight"] == 1        # metadata, not metrics
    assert docs["assemble"]["Backlog"] == [1.0] and docs["assemble"]["Dead"] == [0.0]


def test_empty_queues_publish_zero_so_the_idle_alarm_can_fire(svc: Any, capsys: pytest.CaptureFixture[str]) -> None:
    metrics.publish_queue_depth(svc)
    docs = emf_documents(capsys.readouterr().out)
    assert [(d["queue"], d["Backlog"]) for d in docs] == [("process", [0.0]), ("assemble", [0.0])]


def test_scheduled_chalice_function_publishes(svc: Any, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import app

    monkeypatch.setattr(app, "get_services", lambda: svc)
    fill(svc)
    event = {"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/x"], "detail": {}}
    result = app.publish_queue_depth(event, None)
    assert result["process"]["ready"] == 2
    assert len(emf_documents(capsys.readouterr().out)) == 2


def test_alarms_watch_exactly_what_is_published() -> None:
    resources = template()["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == 4
    for alarm in alarms:
        assert alarm["MetricName"] == metrics.BACKLOG
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims["service"] == metrics.SERVICE and dims["queue"] in ("process", "assemble")
        assert alarm["Namespace"] == {"Fn::Sub": "Framefleet/${Stage}"}
    # ... in the namespace each Chalice stage publishes to.
    for stage, config in CHALICE_CONFIG["stages"].items():
        assert config["environment_variables"]["POWERTOOLS_METRICS_NAMESPACE"] == f"Framefleet/{stage}"
