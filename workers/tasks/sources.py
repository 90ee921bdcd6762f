"""Sources on the worker's own disk: the decoder children read a local file and need no network.

A worker downloads a job's source once (the exact version the chunker probed) and keeps the
newest few: its next chunks of the same job read the same copy.
"""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from chalicelib.stores.services import Services

KEEP = 2  # sources kept per worker: the current job and the previous one


def local_source(svc: Services, job: dict[str, Any]) -> Path:
    """A local copy of ``job``'s source, downloaded if this worker has none yet."""
    folder = Path(svc.settings.work_dir or tempfile.gettempdir()) / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    version = job.get("source_version") or "current"
    suffix = Path(job["source_key"]).suffix
    path = folder / f"{job['id']}-{version}{suffix}"
    if path.exists():
        os.utime(path)  # recently used: evicted last
        return path
    # Workers sharing a disk (the local stack) may fetch the same source at once: each its own file.
    partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.part")
    svc.storage.download_file(svc.settings.upload_bucket, job["source_key"], partial,
                              version_id=job.get("source_version") or None)
    os.replace(partial, path)
    _evict(folder, keep=path)
    return path


def _evict(folder: Path, keep: Path) -> None:
    copies = sorted((p for p in folder.iterdir() if not p.name.endswith(".part")),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for old in copies[KEEP:]:
        if old != keep:
            old.unlink(missing_ok=True)
