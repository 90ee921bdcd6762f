"""An HTTP client of the framefleet API that uploads exactly as a browser does."""
from __future__ import annotations

import mimetypes
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from chalicelib.model.kinds import FINAL_STATES

Progress = Callable[[dict[str, Any]], None]
API_KEY_ENV = "FRAMEFLEET_API_KEY"


def _session() -> requests.Session:
    session = requests.Session()
    retry = Retry(total=8, backoff_factor=0.3, status_forcelist=(500, 502, 503, 504),
                  allowed_methods=None, raise_on_status=False)
    session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
    session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
    return session


class ApiError(RuntimeError):
    """The API answered with an error status."""


LONG_POLL_SECONDS = 20.0


class Client:
    """Talks to ``api_url``; S3 transfers go straight to the presigned URLs it returns."""

    def __init__(self, api_url: str, api_key: str | None = None, upload_concurrency: int = 4) -> None:
        self.api = api_url.rstrip("/")
        self.http = _session()
        self.upload_concurrency = upload_concurrency
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        # Only API calls carry the key; presigned S3 URLs must not (S3 would reject extra auth).
        self.api_headers = {"X-Api-Key": key} if key else {}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.http.request(method, f"{self.api}{path}", timeout=60, headers=self.api_headers, **kwargs)
        if resp.status_code >= 400:
            try:
                message = resp.json().get("error", resp.text)
            except ValueError:
                message = resp.text
            raise ApiError(f"{method} {path}: HTTP {resp.status_code}: {message}")
        return resp.json() if resp.content else None

    def create_job(self, path: Path, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """``POST /jobs`` for a local file."""
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if not content_type.startswith("video/"):
            content_type = "application/octet-stream"
        body = {"filename": path.name, "size": path.stat().st_size, "content_type": content_type,
                "options": options or {}}
        return self._call("POST", "/jobs", json=body)

    def upload(self, path: Path, job: dict[str, Any]) -> None:
        """Upload the source: one presigned POST, or S3 multipart for files over a part."""
        part_size = int(job["multipart"]["part_size"])
        if path.stat().st_size <= part_size:
            with path.open("rb") as f:
                resp = self.http.post(job["upload"]["url"], data=job["upload"]["fields"],
                                      files={"file": (path.name, f)}, timeout=600)
            if resp.status_code >= 300:
                raise ApiError(f"upload rejected by S3: HTTP {resp.status_code}: {resp.text[:300]}")
            return
        self._upload_multipart(path, job["job_id"], part_size)

    def _upload_multipart(self, path: Path, job_id: str, part_size: int) -> None:
        created = self._call("POST", f"/jobs/{job_id}/multipart", json={"part_size": part_size})
        upload_id = created["upload_id"]
        size = path.stat().st_size
        count = (size + part_size - 1) // part_size

        def put(number: int) -> dict[str, Any]:
            url = self._call("GET", f"/jobs/{job_id}/multipart/{upload_id}/parts/{number}")["url"]
            # One part in memory per thread at most (part_size), never the whole file.
            with path.open("rb") as f:
                f.seek((number - 1) * part_size)
                data = f.read(part_size)
            resp = self.http.put(url, data=data, timeout=600)
            if resp.status_code >= 300:
                raise ApiError(f"part {number} rejected: HTTP {resp.status_code}")
            return {"PartNumber": number, "ETag": resp.headers["ETag"]}

        try:
            with ThreadPoolExecutor(self.upload_concurrency) as pool:
                parts = list(pool.map(put, range(1, count + 1)))
            self._call("POST", f"/jobs/{job_id}/multipart/{upload_id}/complete", json={"parts": parts})
        except BaseException:
            self._call("DELETE", f"/jobs/{job_id}/multipart/{upload_id}")
            raise

    def job(self, job_id: str, wait: float = 0.0, since: int | None = None) -> dict[str, Any]:
        """``GET /jobs/{id}``; with ``wait``, once its version is newer than ``since`` (or after
        ``wait`` seconds)."""
        params = {"wait": f"{wait:g}", "since": str(since)} if wait and since is not None else None
        return self._call("GET", f"/jobs/{job_id}", params=params)

    def wait(self, job_id: str, on_progress: Progress | None = None, timeout: float = 24 * 3600,
             interval: float = 0.25) -> dict[str, Any]:
        """Follow the job until it is final, with long polls (each returns at the job's next
        change); returns the last status. ``interval`` paces retries after a refused wait."""
        deadline = time.monotonic() + timeout
        status = self.job(job_id)
        while True:
            if on_progress:
                on_progress(status)
            left = deadline - time.monotonic()
            if status["state"] in FINAL_STATES or left <= 0:
                return status
            try:
                status = self.job(job_id, wait=min(LONG_POLL_SECONDS, max(left, 0.1)), since=status.get("version", 0))
            except ApiError as exc:
                if "HTTP 429" not in str(exc):
                    raise
                time.sleep(interval)  # too many waits of this owner at once: poll instead
                status = self.job(job_id)

    def add_webhook(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        """``POST /webhooks``: the endpoint with its signing secret."""
        return self._call("POST", "/webhooks", json={"url": url, **({"events": events} if events else {})})

    def webhook_deliveries(self, endpoint_id: str) -> list[dict[str, Any]]:
        """``GET /webhooks/{id}/deliveries``, newest first."""
        return list(self._call("GET", f"/webhooks/{endpoint_id}/deliveries")["deliveries"])

    def delete_webhook(self, endpoint_id: str) -> None:
        """``DELETE /webhooks/{id}``."""
        self._call("DELETE", f"/webhooks/{endpoint_id}")

    def cancel(self, job_id: str) -> dict[str, Any]:
        """``POST /jobs/{id}/cancel``."""
        return self._call("POST", f"/jobs/{job_id}/cancel")

    def download_package(self, hls_url: str | None, dash_url: str | None, dest: Path) -> list[str]:
        """Fetch a stream package into ``dest`` by following its playlists (and the manifest):
        every playlist, init and media segment, at its relative path. Returns the paths written."""
        wanted: list[str] = []
        if hls_url:
            wanted.append("master.m3u8")
        if dash_url:
            wanted.append("manifest.mpd")
        base = (hls_url or dash_url or "").rsplit("/", 1)[0] + "/"
        written: list[str] = []
        seen = set(wanted)
        while wanted:
            name = wanted.pop(0)
            if ".." in name.split("/") or name.startswith("/"):
                raise ApiError(f"the package names a file outside itself: {name}")
            resp = self.http.get(base + name, timeout=600)
            resp.raise_for_status()
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(resp.content)
            written.append(name)
            if name.endswith(".m3u8"):
                folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
                for ref in _playlist_refs(resp.text):
                    if folder + ref not in seen:
                        seen.add(folder + ref)
                        wanted.append(folder + ref)
        return written

    def download(self, url: str, dest: Path) -> None:
        """Stream the output to ``dest`` (atomically renamed into place)."""
        tmp = dest.with_name(dest.name + ".part")
        with self.http.get(url, stream=True, timeout=600) as resp:
            resp.raise_for_status()
            with tmp.open("wb") as f:
                for block in resp.iter_content(1024 * 1024):
                    f.write(block)
        os.replace(tmp, dest)


def _playlist_refs(text: str) -> list[str]:
    """URIs an HLS playlist refers to: variant/segment lines and ``URI="…"`` attributes."""
    refs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            refs.append(line)
        elif 'URI="' in line:
            refs.append(line.split('URI="', 1)[1].split('"', 1)[0])
    return refs
