"""Local copies of sources: downloaded once per job and version, the newest few kept."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.support.fakes import fake_services
from workers.tasks import sources


def test_a_source_is_downloaded_once_and_old_ones_are_evicted(tmp_path: Path) -> None:
    fakes = fake_services()
    services = replace(fakes.services, settings=replace(fakes.services.settings, work_dir=str(tmp_path)))
    downloads: list[str] = []
    real = fakes.storage.download_file

    def counting(bucket: str, key: str, path: object, version_id: str | None = None) -> None:
        downloads.append(f"{key}@{version_id}")
        real(bucket, key, path, version_id)

    fakes.storage.download_file = counting
    jobs = []
    for n in range(4):
        src = tmp_path / f"src{n}.mp4"
        src.write_bytes(b"video %d" % n)
        key = f"uploads/j{n}/source.mp4"
        fakes.storage.objects[(services.settings.upload_bucket, key)] = src
        jobs.append({"id": f"j{n}", "source_key": key, "source_version": f"v{n}"})
    first = sources.local_source(services, jobs[0])
    assert first.read_bytes() == b"video 0" and sources.local_source(services, jobs[0]) == first
    for job in jobs[1:]:
        sources.local_source(services, job)
    assert downloads == ["uploads/j0/source.mp4@v0", "uploads/j1/source.mp4@v1", "uploads/j2/source.mp4@v2",
                         "uploads/j3/source.mp4@v3"]
    kept = sorted(p.name for p in (tmp_path / "sources").iterdir())
    assert kept == ["j2-v2.mp4", "j3-v3.mp4"]
