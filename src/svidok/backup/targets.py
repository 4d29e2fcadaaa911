"""Where backups go: a directory, an SFTP server or an S3-compatible bucket.

A target stores opaque, already-encrypted objects under slash-separated names
(`config.json`, `packs/ab/<id>.age`, `snapshots/<id>.json` ...). It knows
nothing about encryption or the repository format (`svidok.backup.repo`); every
byte handed to it is age ciphertext or a signed document that holds no
plaintext of the register.

* `dir:PATH` or a plain path: a local or mounted directory (USB disk, NFS,
  a VeraCrypt volume). Writes go to a temporary name, are fsync'ed and renamed
  into place, so a crash never leaves a half-written object under its name.
* `sftp://user@host[:port]/path`: SSH with paramiko. The host key must already
  be known (`~/.ssh/known_hosts` or `SVIDOK_SFTP_KNOWN_HOSTS`); an unknown host
  is refused, never trusted on first use. Authentication by key
  (`SVIDOK_SFTP_KEY` or the SSH agent / default keys). Writes go to a temporary
  name and are renamed (`posix-rename`).
* `s3://bucket/prefix`: boto3 against any S3-compatible server (AWS, MinIO,
  Ceph, Garage); endpoint from `--s3-endpoint` or `SVIDOK_S3_ENDPOINT`,
  credentials from the usual `AWS_*` environment. Only plain S3 calls are used
  (put, get, head, list v2, delete), nothing specific to one server. For an
  immutable copy (BAK-02's "1 offline/immutable") enable object lock on the
  bucket; pruning then fails on locked objects, which is what you want.

Errors name the target and the object, never its contents.
"""

from __future__ import annotations

import mmap
import os
import posixpath
import re
import secrets
import stat
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from svidok.backup.direct import DirectFile, new_bounce
from svidok.durable import fsync_dir
from svidok.errors import ConfigError, SvidokError

__all__ = [
    "DirTarget",
    "ObjectMissing",
    "S3Target",
    "SFTPTarget",
    "Target",
    "TargetError",
    "open_target",
]

_NAME = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class TargetError(SvidokError):
    """A backup target cannot be reached or refused an operation."""

    exit_code = 3


class ObjectMissing(TargetError):
    """An object the repository needs is not on the target."""

    def __init__(self, target: str, name: str) -> None:
        self.target = target
        self.name = name
        super().__init__(f"{target}: object {name} is missing")


def check_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name.split("/"):
        raise ValueError(f"{name!r} is not a valid object name")
    return name


class Target(Protocol):
    """Opaque object storage for a backup repository."""

    def describe(self) -> str: ...

    def put(self, name: str, data: bytes | memoryview) -> None:
        """Store `data` under `name` atomically (replacing an object of that name).

        `data` may be a view into memory that is reused once `put` returns: a target that
        keeps the bytes (a queue, a cache) copies them first.
        """
        ...

    def get(self, name: str) -> bytes:
        """The object's bytes; `ObjectMissing` if there is none."""
        ...

    def exists(self, name: str) -> bool: ...

    def list(self, prefix: str) -> list[str]:
        """Names of all objects whose name starts with `prefix`, sorted."""
        ...

    def delete(self, name: str) -> None: ...

    def flush(self) -> None:
        """Make every object put so far durable (called before a manifest refers to them)."""
        ...

    def close(self) -> None: ...


# -- a local or mounted directory -----------------------------------------------------------------


def _is_pack(name: str) -> bool:
    return name.startswith("packs/") and name.endswith(".age")


class DirTarget:
    """Objects as files under `root`. Packs are written past the page cache (O_DIRECT where the
    file system allows it: `svidok.backup.direct`; on this machine class it writes ~4× faster
    than through the cache, with a tenth of the kernel CPU). Bulk objects (packs and their maps)
    are fsync'ed a few objects behind the writes, once each; `flush` syncs the rest and their
    directories. Everything else is durable when `put` returns; everything a manifest depends
    on is durable before the manifest is written."""

    SYNC_LAG = 4
    """Bulk objects written but not yet fsync'ed (two packs and their maps)."""

    def __init__(self, root: Path, *, direct: bool = True) -> None:
        self.root = root
        self.direct = direct
        self._unsynced: deque[Path] = deque()
        self._dirs: set[Path] = set()
        self._bounce: mmap.mmap | None = None
        self._bounce_lock = threading.Lock()

    def describe(self) -> str:
        return f"dir:{self.root}"

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def put(self, name: str, data: bytes | memoryview) -> None:
        path = self._path(name)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        bulk = name.startswith("packs/")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if _is_pack(name) and self.direct:
                with self._bounce_lock:
                    if self._bounce is None:
                        self._bounce = new_bounce()
                    with DirectFile(tmp, bounce=self._bounce) as out:
                        out.write(data)
                        out.finish(sync=False)  # fsync'ed a few objects behind (below)
            else:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    if not bulk:
                        fh.flush()
                        os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if tmp.parent.is_dir():
                tmp.unlink(missing_ok=True)
            raise TargetError(f"{self.describe()}: cannot write {name}: {exc.strerror}") from exc
        if bulk:
            self._unsynced.append(path)
            while len(self._unsynced) > self.SYNC_LAG:
                self._sync(self._unsynced.popleft())
        else:
            fsync_dir(path.parent)

    def _sync(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # written back: not read again
            finally:
                os.close(fd)
        except OSError as exc:
            raise TargetError(f"{self.describe()}: cannot sync {path.name}: {exc.strerror}") from exc
        self._dirs.add(path.parent)

    def flush(self) -> None:
        while self._unsynced:
            self._sync(self._unsynced.popleft())
        for d in sorted(self._dirs):
            fsync_dir(d)
        self._dirs = set()

    def get(self, name: str) -> bytes:
        try:
            with self._path(name).open("rb", buffering=0) as fh:
                data = fh.read()
                if _is_pack(name):
                    # Read once per restore or verify: keep 10 GiB of packs from pushing the
                    # rest of the page cache out (clean pages only; nothing else is affected).
                    os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
                return bytes(data)
        except FileNotFoundError:
            raise ObjectMissing(self.describe(), name) from None
        except OSError as exc:
            raise TargetError(f"{self.describe()}: cannot read {name}: {exc.strerror}") from exc

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def prefetch(self, name: str) -> None:
        """Ask the kernel to start reading an object that `get` will be asked for soon."""
        try:
            fd = os.open(self._path(name), os.O_RDONLY)
        except OSError:
            return  # `get` will say what is wrong
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.is_dir():
            return []
        out = []
        for dirpath, _dirs, files in os.walk(base):
            for file in files:
                if file.startswith(".") and file.endswith(".tmp"):
                    continue
                name = Path(dirpath, file).relative_to(self.root).as_posix()
                if name.startswith(prefix):
                    out.append(name)
        return sorted(out)

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def close(self) -> None:
        pass


# -- S3-compatible object storage --------------------------------------------------------------------


class S3Target:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        if len(bucket) < 3:
            raise ConfigError("an S3 bucket name has at least 3 characters")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_url(cls, url: str, endpoint: str | None = None) -> S3Target:
        import boto3  # type: ignore[import-untyped]

        match = re.match(r"^s3://([^/]+)/?(.*)$", url)
        if not match:
            raise ConfigError(f"{url!r} is not an s3://bucket/prefix URL")
        endpoint = endpoint or os.environ.get("SVIDOK_S3_ENDPOINT") or None
        return cls(boto3.client("s3", endpoint_url=endpoint), match.group(1), match.group(2))

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def _fail(self, action: str, name: str, exc: Exception) -> TargetError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return TargetError(f"{self.describe()}: cannot {action} {name}: {code}")

    def put(self, name: str, data: bytes | memoryview) -> None:
        key = self._key(name)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(data))
        except Exception as exc:  # botocore raises several unrelated types
            raise self._fail("write", name, exc) from exc

    def get(self, name: str) -> bytes:
        from botocore.exceptions import ClientError  # type: ignore[import-untyped]

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
            return bytes(obj["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectMissing(self.describe(), name) from None
            raise self._fail("read", name, exc) from exc
        except Exception as exc:
            raise self._fail("read", name, exc) from exc

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._fail("check", name, exc) from exc
        return True

    def list(self, prefix: str) -> list[str]:
        out: list[str] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    out.append(str(item["Key"])[len(self.prefix) :])
        except Exception as exc:
            raise self._fail("list", prefix or "/", exc) from exc
        return sorted(out)

    def delete(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(name))
        except Exception as exc:
            raise self._fail("delete", name, exc) from exc

    def flush(self) -> None:
        pass  # a successful PUT is durable

    def close(self) -> None:
        pass


# -- SSH / SFTP ------------------------------------------------------------------------------------------


class SFTPTarget:
    """Objects as files under a directory of an SFTP server (paramiko)."""

    def __init__(self, sftp: Any, root: str, label: str, transport: Any = None) -> None:
        self.sftp = sftp
        self.root = root.rstrip("/") or "/"
        self.label = label
        self._transport = transport
        self._dirs: set[str] = set()

    @classmethod
    def from_url(cls, url: str) -> SFTPTarget:
        import paramiko

        match = re.match(r"^sftp://(?:([^@/]+)@)?([^/:]+)(?::(\d+))?(/.*)?$", url)
        if not match:
            raise ConfigError(f"{url!r} is not an sftp://user@host[:port]/path URL")
        user, host, port, path = match.groups()
        client = paramiko.SSHClient()
        known = os.environ.get("SVIDOK_SFTP_KNOWN_HOSTS")
        if known:
            client.load_host_keys(known)
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        key_file = os.environ.get("SVIDOK_SFTP_KEY")
        try:
            client.connect(
                host,
                port=int(port or 22),
                username=user,
                key_filename=key_file,
                timeout=30,
                allow_agent=key_file is None,
                look_for_keys=key_file is None,
            )
        except paramiko.SSHException as exc:
            raise TargetError(f"sftp://{host}: {exc}") from exc
        except OSError as exc:
            raise TargetError(f"sftp://{host}: cannot connect: {exc.strerror or exc}") from exc
        label = f"sftp://{user + '@' if user else ''}{host}{':' + port if port else ''}{path or '/'}"
        target = cls(client.open_sftp(), path or ".", label, client)
        return target

    def describe(self) -> str:
        return self.label

    def _path(self, name: str) -> str:
        return posixpath.join(self.root, check_name(name))

    def _mkdirs(self, directory: str) -> None:
        if directory in self._dirs or directory in ("", "/", "."):
            return
        try:
            self.sftp.stat(directory)
        except OSError:
            self._mkdirs(posixpath.dirname(directory))
            try:
                self.sftp.mkdir(directory)
            except OSError:
                self.sftp.stat(directory)  # created meanwhile by someone else, or a real error
        self._dirs.add(directory)

    def put(self, name: str, data: bytes | memoryview) -> None:
        data = bytes(data)  # paramiko slices what it sends
        path = self._path(name)
        tmp = posixpath.join(
            posixpath.dirname(path), f".{posixpath.basename(path)}.{secrets.token_hex(4)}.tmp"
        )
        try:
            self._mkdirs(posixpath.dirname(path))
            with self.sftp.open(tmp, "wb") as fh:
                fh.set_pipelined(True)
                fh.write(data)
            self.sftp.posix_rename(tmp, path)
        except OSError as exc:
            raise TargetError(f"{self.label}: cannot write {name}: {exc}") from exc

    def get(self, name: str) -> bytes:
        try:
            with self.sftp.open(self._path(name), "rb") as fh:
                fh.prefetch()
                return bytes(fh.read())
        except FileNotFoundError:
            raise ObjectMissing(self.label, name) from None
        except OSError as exc:
            raise TargetError(f"{self.label}: cannot read {name}: {exc}") from exc

    def exists(self, name: str) -> bool:
        try:
            self.sftp.stat(self._path(name))
        except FileNotFoundError:
            return False
        return True

    def _walk(self, directory: str) -> Iterator[str]:
        try:
            entries = self.sftp.listdir_attr(directory)
        except FileNotFoundError:
            return
        for entry in entries:
            full = posixpath.join(directory, entry.filename)
            if entry.st_mode is not None and stat.S_ISDIR(entry.st_mode):
                yield from self._walk(full)
            elif not (entry.filename.startswith(".") and entry.filename.endswith(".tmp")):
                yield full

    def list(self, prefix: str) -> list[str]:
        base = posixpath.join(self.root, prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        out = []
        for full in self._walk(base):
            name = posixpath.relpath(full, self.root)
            if name.startswith(prefix):
                out.append(name)
        return sorted(out)

    def delete(self, name: str) -> None:
        try:
            self.sftp.remove(self._path(name))
        except FileNotFoundError:
            pass

    def flush(self) -> None:
        pass  # the server closed each file before the rename

    def close(self) -> None:
        self.sftp.close()
        if self._transport is not None:
            self._transport.close()


def open_target(spec: str, *, s3_endpoint: str | None = None) -> Target:
    """A target from `dir:PATH`, a plain path, `sftp://user@host/path` or `s3://bucket/prefix`."""
    if spec.startswith("s3://"):
        return S3Target.from_url(spec, s3_endpoint)
    if spec.startswith("sftp://"):
        return SFTPTarget.from_url(spec)
    if spec.startswith("dir:"):
        spec = spec[4:]
    elif re.match(r"^[a-z][a-z0-9+.-]*://", spec):
        raise ConfigError(f"unsupported backup target {spec!r}: use dir:PATH, sftp://... or s3://...")
    if not spec:
        raise ConfigError("empty backup target")
    return DirTarget(Path(spec).expanduser())
