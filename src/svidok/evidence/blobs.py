"""Where encrypted originals live: one small Protocol, a filesystem and an S3 adapter.

Blobs are named by the SHA-256 of their original bytes and are write-once: `put`
of a name that exists stores nothing and returns False (EV-02), the filesystem
adapter links the finished file into place (atomic, never replaces) and makes
it read-only, and the S3 adapter uses a conditional write (`If-None-Match: *`)
after an existence check. Neither adapter knows anything about encryption: they
move opaque bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from svidok.durable import fsync_dir
from svidok.errors import ConfigError, NotFound

__all__ = ["BlobStore", "FileBlobStore", "S3BlobStore"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _check(digest: str) -> str:
    if not _DIGEST.match(digest):
        raise ValueError(f"{digest!r} is not a SHA-256 hex digest")
    return digest


class BlobStore(Protocol):
    """Write-once storage of encrypted blobs keyed by the original's SHA-256."""

    def exists(self, digest: str) -> bool: ...

    def put(self, digest: str, encrypted: Path) -> bool:
        """Store the file at `encrypted` under `digest`; False (and nothing written) if present."""
        ...

    def open(self, digest: str) -> AbstractContextManager[BinaryIO]: ...

    def digests(self) -> Iterator[str]: ...

    def describe(self) -> str: ...


class FileBlobStore:
    """Blobs under `<root>/ab/cd/<digest>`, read-only once written."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        d = _check(digest)
        return self.root / d[:2] / d[2:4] / d

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put(self, digest: str, encrypted: Path) -> bool:
        target = self.path(digest)
        made = [d for d in (target.parent.parent, target.parent) if not d.is_dir()]
        target.parent.mkdir(parents=True, exist_ok=True)
        for new_dir in made:  # a new `ab/` or `ab/cd/` must survive a power cut too
            fsync_dir(new_dir.parent)
        os.chmod(encrypted, 0o444)
        try:
            os.link(encrypted, target)  # fails if the name exists: never an overwrite
        except FileExistsError:
            return False
        # The bytes were fsynced by the writer; what must reach the disk now is the new name.
        fsync_dir(target.parent)
        return True

    @contextmanager
    def open(self, digest: str) -> Iterator[BinaryIO]:
        try:
            fh = self.path(digest).open("rb")
        except FileNotFoundError:
            raise NotFound("blob", digest) from None
        with fh:
            yield fh

    def digests(self) -> Iterator[str]:
        for path in sorted(self.root.glob("??/??/*")):
            if _DIGEST.match(path.name):
                yield path.name

    def describe(self) -> str:
        return f"file:{self.root}"


class S3BlobStore:
    """Blobs as objects `<prefix><digest>` in an S3-compatible bucket (boto3 client)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "blobs/") -> None:
        if len(bucket) < 3:
            raise ConfigError("an S3 bucket name has at least 3 characters")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """`s3://bucket/prefix/`; endpoint and credentials from the usual AWS_* environment."""
        import boto3  # type: ignore[import-untyped]

        match = re.match(r"^s3://([^/]+)/?(.*)$", url)
        if not match:
            raise ConfigError(f"{url!r} is not an s3://bucket/prefix URL")
        return cls(boto3.client("s3"), match.group(1), match.group(2))

    def _key(self, digest: str) -> str:
        return self.prefix + _check(digest)

    def exists(self, digest: str) -> bool:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, digest: str, encrypted: Path) -> bool:
        from botocore.exceptions import ClientError

        if self.exists(digest):
            return False
        try:
            with encrypted.open("rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=self._key(digest), Body=body, IfNoneMatch="*")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise
        return True

    @contextmanager
    def open(self, digest: str) -> Iterator[BinaryIO]:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
        except ClientError as exc:
            raise NotFound("blob", digest) from exc
        body = obj["Body"]
        try:
            yield cast(BinaryIO, body)
        finally:
            body.close()

    def digests(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(self.prefix) :]
                if _DIGEST.match(name):
                    yield name

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"
