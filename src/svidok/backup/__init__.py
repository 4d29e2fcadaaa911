"""Encrypted, deduplicated, signed backups; evacuation; restore (BAK-01..03, KEY-02).

Threat: the loss of the only copy (a raid, a seized or broken server, a
country that becomes unsafe, a person who is arrested), and the backup itself
becoming the leak: a storage provider, a stolen USB disk or a border search
must not yield one readable name. And a restored register must be provably the
same register (the audit log's Merkle root), or it is worthless in court.

Design (details in the modules and in docs/backup.md):

* `source`: a consistent snapshot while the server keeps writing — the
  SQLCipher file and its WAL read as ciphertext inside one read transaction,
  evidence blobs through the blob store, other files of the data directory,
  and the data keys themselves in an age-encrypted key bundle (a custodian
  abroad never had the passphrase that wraps keys.db).
* `repo`: the repository format on a target — fixed-size chunks named by keyed
  BLAKE3, packed and age-encrypted to a per-repository X25519 key whose
  private half is age-encrypted to the custodians' recipients (BAK-01: the
  server holds no backup-decryption key); an encrypted index (file → chunks,
  audit checkpoint); a manifest listing every pack with BLAKE3 hashes, signed
  with an Ed25519 key derived from the register's keyring.
* `targets`: a directory, SFTP (paramiko), S3-compatible storage (boto3).
* `restore`: the restore data path — packs fetched ahead, decrypted, every chunk
  id checked, files written and fsync'ed on overlapping threads into a staging
  directory that is moved into place (keyring last) only when complete.
* `svidok.services.backup`: create, verify, restore, evacuate, list, prune.

Formats: see `repo` (objects, signed documents, pack maps) and docs/backup.md.

Trade-offs: fixed-size rather than content-defined chunks — the register is a
page-structured SQLite file (pages change in place, never shift) and blobs are
write-once, so fixed chunks dedup as well as FastCDC here and cost no rolling
hash; a file with insertions in the middle (none in a data directory) would
dedup poorly. Packs are never rewritten (the server cannot decrypt them), so
prune frees a pack only when no kept snapshot uses any of its chunks. The
plaintext pack maps reveal how many chunks of which sizes a snapshot has, not
what they hold. PostgreSQL registers are backed up by the database's own tools
(streaming replication, pg_dump); this module then covers keys and blobs only
through the embedded path and refuses to pretend otherwise.
"""

from svidok.backup.repo import BackupCorrupt
from svidok.backup.targets import ObjectMissing, TargetError, open_target

__all__ = ["BackupCorrupt", "ObjectMissing", "TargetError", "open_target"]
