"""Structured JSON logging (Powertools Logger) shared by the Lambdas and the workers."""
from __future__ import annotations

import functools
import logging
import sys

from aws_lambda_powertools import Logger

SERVICE = "framefleet"


@functools.lru_cache(maxsize=1)
def get_logger() -> Logger:
    """The process-wide Powertools logger; ``append_keys(job_id=...)`` tags every line."""
    from chalicelib.model.settings import get_settings

    # stderr: CloudWatch collects both streams, and locally stdout stays free for the CLI's output.
    return Logger(service=SERVICE, level=get_settings().log_level,
                  logger_handler=logging.StreamHandler(sys.stderr))
