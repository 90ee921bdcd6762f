"""S3 object layout, presigned uploads/downloads (single POST and multipart) and transfers."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.model.errors import NotFoundError, StorageError, StorageRejectedError
from chalicelib.model.settings import Settings

# Upload file extensions we accept; the real gate is the demuxer whitelist applied when probing.
VIDEO_EXTENSIONS = frozenset(
    {"mp4", "m4v", "mov", "mkv", "webm", "avi", "ts", "mts", "m2ts", "mpg", "mpeg", "flv", "3gp", "ogv"}
)
_TRANSFER = TransferConfig(multipart_threshold=64 * 1024**2, multipart_chunksize=64 * 1024**2, max_concurrency=4)


def source_key(job_id: str, extension: str) -> str:
    """Where the browser uploads a job's source video."""
    return f"uploads/{job_id}/source.{extension}"


def work_prefix(job_id: str) -> str:
    """Prefix of a job's intermediate files (chunks, audio)."""
    return f"work/{job_id}/"


def output_key(job_id: str, filename: str) -> str:
    """Where the finished MP4 goes, named after the upload."""
    stem = Path(filename).stem or "video"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:100]
    return f"outputs/{job_id}/{safe}.mp4"


def job_id_from_key(key: str) -> str | None:
    """The job id of an ``uploads/{job_id}/source.ext`` key, or None for any other key."""
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "uploads" and parts[2].startswith("source."):
        return parts[1]
    return None


# S3 error codes caused by what was sent, not by S3 being unwell.
_CLIENT_CODES = frozenset({"EntityTooSmall", "EntityTooLarge", "InvalidPart", "InvalidPartOrder", "MalformedXML",
                           "InvalidArgument"})


def _wrap(exc: Exception, what: str) -> StorageError | NotFoundError:
    error = exc.response.get("Error", {}) if isinstance(exc, ClientError) else {}
    code = error.get("Code", "")
    if code in ("NoSuchKey", "404", "NoSuchUpload", "NotFound"):
        return NotFoundError(f"{what}: not found")
    if code in _CLIENT_CODES:
        return StorageRejectedError(f"{what}: {error.get('Message') or code}")
    return StorageError(f"{what}: {exc}")


class Storage:
    """All S3 operations of framefleet, on one client and one set of bucket names."""

    def __init__(self, s3: Any, settings: Settings) -> None:
        self.s3 = s3
        self.settings = settings

    # -- uploads -------------------------------------------------------------------------
    def presigned_post(self, key: str, content_type: str, min_bytes: int, max_bytes: int) -> dict[str, Any]:
        """A browser-POSTable form bound to one key, one content type and a size range."""
        try:
            form: dict[str, Any] = self.s3.generate_presigned_post(
                Bucket=self.settings.upload_bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", min_bytes, max_bytes],
                ],
                ExpiresIn=self.settings.upload_url_expiry,
            )
            return form
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, "presign upload") from exc

    def create_multipart(self, key: str, content_type: str, bucket: str | None = None) -> str:
        """Start a multipart upload (into the upload bucket unless ``bucket``); returns its UploadId."""
        try:
            resp = self.s3.create_multipart_upload(
                Bucket=bucket or self.settings.upload_bucket, Key=key, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, "create multipart upload") from exc
        return str(resp["UploadId"])

    def sign_part(self, key: str, upload_id: str, part_number: int, content_length: int) -> str:
        """A presigned PUT URL for one part of exactly ``content_length`` bytes."""
        return str(
            self.s3.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.settings.upload_bucket,
                    "Key": key,
                    "UploadId": upload_id,
                    "PartNumber": part_number,
                    "ContentLength": content_length,
                },
                ExpiresIn=self.settings.upload_url_expiry,
            )
        )

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        """Parts already uploaded (what a resuming client may skip)."""
        parts: list[dict[str, Any]] = []
        marker = 0
        try:
            while True:
                resp = self.s3.list_parts(
                    Bucket=self.settings.upload_bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
                parts += [
                    {"PartNumber": p["PartNumber"], "ETag": p["ETag"], "Size": p["Size"]}
                    for p in resp.get("Parts", [])
                ]
                if not resp.get("IsTruncated"):
                    return parts
                marker = int(resp["NextPartNumberMarker"])
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, "list parts") from exc

    def complete_multipart(self, key: str, upload_id: str, parts: list[dict[str, Any]],
                           bucket: str | None = None) -> None:
        """Finish a multipart upload (S3 then emits ObjectCreated)."""
        ordered = [{"PartNumber": number, "ETag": etag}
                   for number, etag in sorted((int(p["PartNumber"]), str(p["ETag"])) for p in parts)]
        try:
            self.s3.complete_multipart_upload(
                Bucket=bucket or self.settings.upload_bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": ordered},
            )
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, "complete multipart upload") from exc

    def abort_multipart(self, key: str, upload_id: str, bucket: str | None = None) -> None:
        """Abort a multipart upload and free its parts."""
        try:
            self.s3.abort_multipart_upload(Bucket=bucket or self.settings.upload_bucket, Key=key, UploadId=upload_id)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, "abort multipart upload") from exc

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int, data: bytes) -> str:
        """Send one part of a multipart upload from memory; returns its ETag."""
        try:
            resp = self.s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=part_number, Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"upload part {part_number} of s3://{bucket}/{key}") from exc
        return str(resp["ETag"])

    def copy_part(self, bucket: str, key: str, upload_id: str, part_number: int, source_bucket: str,
                  source_key: str, first: int, last: int) -> str:
        """Make one part of a multipart upload from bytes ``first``..``last`` (inclusive) of
        another object, server-side (UploadPartCopy); returns its ETag."""
        try:
            resp = self.s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=part_number,
                                            CopySource={"Bucket": source_bucket, "Key": source_key},
                                            CopySourceRange=f"bytes={first}-{last}")
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"copy s3://{source_bucket}/{source_key} into part {part_number} of "
                        f"s3://{bucket}/{key}") from exc
        return str(resp["CopyPartResult"]["ETag"])

    # -- reads ---------------------------------------------------------------------------
    def presigned_get(self, bucket: str, key: str, expires: int, filename: str | None = None,
                      version_id: str | None = None) -> str:
        """A time-limited GET URL (ffmpeg reads sources through these with range requests), of one
        version of the object when ``version_id`` is given."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{Path(filename).name}"'
        return str(self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires))

    def head(self, bucket: str, key: str) -> dict[str, Any]:
        """Object metadata; NotFoundError if it is gone."""
        try:
            return dict(self.s3.head_object(Bucket=bucket, Key=key))
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"s3://{bucket}/{key}") from exc

    # -- transfers -----------------------------------------------------------------------
    def upload_file(self, path: str | os.PathLike[str], bucket: str, key: str, content_type: str,
                    cache_control: str = "") -> None:
        """Upload a local file (multipart and retried by boto3 for large files)."""
        extra = {"ContentType": content_type, **({"CacheControl": cache_control} if cache_control else {})}
        try:
            self.s3.upload_file(str(path), bucket, key, ExtraArgs=extra, Config=_TRANSFER)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"upload s3://{bucket}/{key}") from exc

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str, cache_control: str = "") -> None:
        """Write a small object (a playlist, a segment) in one request."""
        extra = {"CacheControl": cache_control} if cache_control else {}
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"upload s3://{bucket}/{key}") from exc

    def get_object(self, bucket: str, key: str, byte_range: str = "") -> dict[str, Any]:
        """``GetObject``'s answer (``Body`` a stream); NotFoundError if it is not there."""
        extra = {"Range": byte_range} if byte_range else {}
        try:
            return dict(self.s3.get_object(Bucket=bucket, Key=key, **extra))
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"s3://{bucket}/{key}") from exc

    def download_file(self, bucket: str, key: str, path: str | os.PathLike[str], version_id: str | None = None) -> None:
        """Download an object (one version of it, given ``version_id``) to a local file."""
        extra = {"VersionId": version_id} if version_id else None
        try:
            self.s3.download_file(bucket, key, str(path), ExtraArgs=extra, Config=_TRANSFER)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"download s3://{bucket}/{key}") from exc

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every object under a prefix; returns how many."""
        deleted = 0
        try:
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"delete s3://{bucket}/{prefix}") from exc
        return deleted

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> None:
        """Delete one object (missing is fine); with ``version_id`` that version for good."""
        try:
            if version_id:
                self.s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
            self.s3.delete_object(Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise _wrap(exc, f"delete s3://{bucket}/{key}") from exc
