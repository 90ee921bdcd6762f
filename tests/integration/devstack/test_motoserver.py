"""The local S3 (``devstack.motoserver``, a real moto server over HTTP): a ranged read answers the
range, reading the object's bytes there alone, as S3 does."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devstack.procs import LOCAL_CREDENTIALS, Service, start_moto

SIZE = 24 * 1024**2  # well over moto's in-memory buffer: the object is read from a file
BUCKET = "ff-ranges"


@dataclass(frozen=True)
class Local:
    moto: Service
    s3: Any
    url: str  # a presigned GET of the object
    data: bytes

    def read_bytes(self) -> int:
        """Bytes the server process has read from files so far."""
        assert self.moto.proc is not None
        io = Path(f"/proc/{self.moto.proc.pid}/io").read_text()
        return int(next(line.split()[1] for line in io.splitlines() if line.startswith("rchar:")))


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    moto, endpoint = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
                          aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        s3.create_bucket(Bucket=BUCKET)
        data = os.urandom(SIZE)
        s3.put_object(Bucket=BUCKET, Key="source", Body=data)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "source"}, ExpiresIn=600)
        yield Local(moto, s3, url, data)
    finally:
        moto.stop()


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-65535", 0, 65535),
    ("bytes=20000000-20065535", 20_000_000, 20_065_535),
    (f"bytes={SIZE - 100}-", SIZE - 100, SIZE - 1),
    ("bytes=-100", SIZE - 100, SIZE - 1),
    (f"bytes={SIZE - 10}-{SIZE + 50}", SIZE - 10, SIZE - 1),  # a last byte past the end: up to the end
])
def test_a_range_is_answered_with_its_bytes_alone(local: Local, header: str, first: int, last: int) -> None:
    before = local.read_bytes()
    reply = requests.get(local.url, headers={"Range": header}, timeout=30)
    assert reply.status_code == 206
    assert reply.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert reply.content == local.data[first:last + 1]
    # moto alone reads the whole object for every GET (24 MiB here), then slices.
    assert local.read_bytes() - before < 4 * 1024**2


def test_the_whole_object_and_bad_ranges_are_answered_as_s3_does(local: Local) -> None:
    whole = requests.get(local.url, timeout=60)
    assert whole.status_code == 200 and whole.content == local.data
    past = requests.get(local.url, headers={"Range": f"bytes={SIZE}-"}, timeout=30)
    assert past.status_code == 416 and b"InvalidRange" in past.content
    # Several ranges at once: S3 (and moto) answer with the whole object.
    several = requests.get(local.url, headers={"Range": "bytes=0-9,20-29"}, timeout=60)
    assert several.status_code == 200 and several.content == local.data


def test_upload_part_copy_of_a_range_reads_that_range(local: Local) -> None:
    s3 = local.s3
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="copied")["UploadId"]
    before = local.read_bytes()
    first = s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": BUCKET, "Key": "source"},
                                CopySourceRange="bytes=1000-5243879")["CopyPartResult"]["ETag"]
    copied = local.read_bytes() - before
    second = s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=upload, PartNumber=2,
                                 CopySource={"Bucket": BUCKET, "Key": "source"})["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="copied", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    body = s3.get_object(Bucket=BUCKET, Key="copied")["Body"].read()
    assert body == local.data[1000:5_243_880] + local.data  # a range, then the whole object
    assert copied < 12 * 1024**2  # the range's 5 MiB (and the part it writes), not the 24 MiB source
