"""A real SSH/SFTP server on loopback for the SFTP target's tests (paramiko's server side).

No OpenSSH server is installed on this machine; paramiko speaks the same SSH-2
and SFTP v3 protocol, so the target is tested over a real TCP connection, with
host-key checking and public-key authentication, against a local directory.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK


def _errno(exc: OSError) -> int:
    return SFTP_NO_SUCH_FILE if isinstance(exc, FileNotFoundError) else SFTP_FAILURE


class _Handle(SFTPHandle):
    def stat(self) -> Any:
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return _errno(exc)


class _SFTP(SFTPServerInterface):
    ROOT = Path("/")

    def _real(self, path: str) -> str:
        return str(self.ROOT / path.lstrip("/"))

    def list_folder(self, path: str) -> Any:
        try:
            out = []
            for name in os.listdir(self._real(path)):
                attr = SFTPAttributes.from_stat(os.stat(os.path.join(self._real(path), name)))
                attr.filename = name
                out.append(attr)
            return out
        except OSError as exc:
            return _errno(exc)

    def stat(self, path: str) -> Any:
        try:
            return SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as exc:
            return _errno(exc)

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        real = self._real(path)
        try:
            fd = os.open(real, flags | getattr(os, "O_BINARY", 0), 0o600)
            mode = "r+b" if flags & os.O_RDWR else ("wb" if flags & os.O_WRONLY else "rb")
            if flags & os.O_APPEND:
                mode = "ab"
            fh = os.fdopen(fd, mode)
        except OSError as exc:
            return _errno(exc)
        handle = _Handle(flags)
        handle.filename = real
        handle.readfile = fh
        handle.writefile = fh
        return handle

    def remove(self, path: str) -> int:
        try:
            os.remove(self._real(path))
        except OSError as exc:
            return _errno(exc)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        try:
            os.replace(self._real(oldpath), self._real(newpath))
        except OSError as exc:
            return _errno(exc)
        return SFTP_OK

    posix_rename = rename

    def mkdir(self, path: str, attr: Any) -> int:
        try:
            os.mkdir(self._real(path))
        except OSError as exc:
            return _errno(exc)
        return SFTP_OK


class _Server(paramiko.ServerInterface):
    def __init__(self, user: str, key: paramiko.PKey) -> None:
        self.user, self.key = user, key

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == self.user and key.get_base64() == self.key.get_base64()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )


class LoopbackSFTP:
    """Serve `root` over SFTP on 127.0.0.1; write a client key and a known_hosts file under `work`."""

    def __init__(self, root: Path, work: Path, user: str = "custodian") -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.user = root, user
        self.host_key = paramiko.Ed25519Key.from_private_key_file(self._keygen(work / "host_key"))
        self.client_key_path = self._keygen(work / "client_key")
        self.client_key = paramiko.Ed25519Key.from_private_key_file(self.client_key_path)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.known_hosts = work / "known_hosts"
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}\n"
        )
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @staticmethod
    def _keygen(path: Path) -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
        )
        os.chmod(path, 0o600)
        return str(path)

    @property
    def url(self) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}/backups"

    def env(self) -> dict[str, str]:
        return {"SVIDOK_SFTP_KNOWN_HOSTS": str(self.known_hosts), "SVIDOK_SFTP_KEY": self.client_key_path}

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            root = self.root

            class Bound(_SFTP):
                ROOT = root

            transport.set_subsystem_handler("sftp", SFTPServer, Bound)
            transport.start_server(server=_Server(self.user, self.client_key))

    def close(self) -> None:
        self._stop = True
        self.sock.close()
