"""The S3-compatible adapter against a local S3 server: same behaviour as the filesystem."""

from __future__ import annotations

import random

import boto3
import pytest

from svidok.evidence.blobs import S3BlobStore
from svidok.services.evidence import EvidenceService


@pytest.fixture
def s3_service(protection, s3_endpoint, tmp_path) -> EvidenceService:
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"svidok-{random.randrange(10**9)}"
    client.create_bucket(Bucket=bucket)
    return EvidenceService(protection, S3BlobStore(client, bucket, "blobs/"), chunk_size=64 * 1024)


def test_intake_verify_and_no_overwrite_on_s3(s3_service, tmp_path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(random.Random(3).randbytes(200_000))
    evidence_id = s3_service.add(path, "op")
    checked, problems = s3_service.verify("auditor")
    assert (checked, problems) == (1, [])
    blobs = s3_service.blobs
    digest = next(iter(blobs.digests()))
    forged = tmp_path / "forged"
    forged.write_bytes(b"not the original")
    assert blobs.put(digest, forged) is False
    assert s3_service.verify("auditor") == (1, [])
    # Damage the object behind the adapter's back: verify names the item.
    assert isinstance(blobs, S3BlobStore)
    key = blobs.prefix + digest
    body = bytearray(blobs.client.get_object(Bucket=blobs.bucket, Key=key)["Body"].read())
    body[-3] ^= 0xFF
    blobs.client.put_object(Bucket=blobs.bucket, Key=key, Body=bytes(body))
    _checked, problems = s3_service.verify("auditor")
    assert [p.evidence_ids for p in problems] == [[evidence_id]]
