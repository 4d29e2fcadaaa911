"""Evidence: encrypted content-addressed blobs, hashing at intake, metadata, chain of custody."""

from svidok.evidence.blobs import BlobStore, FileBlobStore, S3BlobStore
from svidok.evidence.stream import DEFAULT_CHUNK, Digests, decrypt_stream, encrypt_stream

__all__ = [
    "DEFAULT_CHUNK",
    "BlobStore",
    "Digests",
    "FileBlobStore",
    "S3BlobStore",
    "decrypt_stream",
    "encrypt_stream",
]
