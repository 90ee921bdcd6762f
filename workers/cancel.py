"""What a task handler is, and how it notices that it should stop."""
from __future__ import annotations

import threading
from collections.abc import Callable

from chalicelib.model.errors import JobAbandoned
from chalicelib.model.tasks import Task
from chalicelib.stores.services import Services

# A task handler: does the work of ``Task`` and returns, or raises. ``cancel`` is set when the
# job ended elsewhere, the lease was lost or the worker is shutting down.
Handler = Callable[[Services, Task, threading.Event], None]


def check_cancel(cancel: threading.Event) -> None:
    """Raise JobAbandoned if the task was cancelled (call between steps of a handler)."""
    if cancel.is_set():
        raise JobAbandoned("task cancelled, job finished elsewhere or lease lost")
