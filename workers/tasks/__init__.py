"""Task handlers, one per kind of task."""
from __future__ import annotations

from collections.abc import Mapping

from chalicelib.model.kinds import TaskKind
from workers.cancel import Handler
from workers.tasks.assemble_job import assemble_job
from workers.tasks.encode_part import encode_part

HANDLERS: Mapping[TaskKind, Handler] = {
    TaskKind.CHUNK: encode_part,
    TaskKind.AUDIO: encode_part,
    TaskKind.ASSEMBLE: assemble_job,
}
