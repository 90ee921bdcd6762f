"""Queue-depth metrics that drive the workers' autoscaling (CloudWatch Embedded Metric Format).

A scheduled Lambda calls ``publish_queue_depth`` every minute. For each work queue it prints one
EMF document (Powertools Metrics) to stdout; CloudWatch Logs turns it into metrics in the
namespace ``$POWERTOOLS_METRICS_NAMESPACE`` with the dimensions ``service`` and ``queue``:

- ``Backlog`` = ready + in flight: how many workers the queue could keep busy right now (each
  worker runs one task at a time). infra/template.yaml's alarms scale the ECS services on it.
- ``Dead``: exhausted tasks still kept for inspection.

Ready and in-flight counts ride along as EMF metadata (searchable in the logs, not billed as
metrics).
"""
from __future__ import annotations

import os

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from chalicelib.stores.services import Services

DEFAULT_NAMESPACE = "Framefleet"
SERVICE = "framefleet"
BACKLOG = "Backlog"
DEAD = "Dead"


def publish_queue_depth(svc: Services) -> dict[str, dict[str, int]]:
    """Emit Backlog and Dead for both work queues; returns the depths it read."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    depths: dict[str, dict[str, int]] = {}
    for name, queue in svc.queues.items():
        depth = queue.depth()
        depths[name.value] = depth
        # One document per queue: EMF dimensions apply to every metric of a document.
        metrics = EphemeralMetrics(namespace=namespace, service=SERVICE)
        metrics.add_dimension(name="queue", value=name.value)
        metrics.add_metric(name=BACKLOG, unit=MetricUnit.Count, value=depth["ready"] + depth["inflight"])
        metrics.add_metric(name=DEAD, unit=MetricUnit.Count, value=depth["dead"])
        metrics.add_metadata(key="ready", value=depth["ready"])
        metrics.add_metadata(key="inflight", value=depth["inflight"])
        metrics.flush_metrics()
    return depths

