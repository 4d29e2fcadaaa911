"""Keys and encryption: keyring (master + data keys), fields, blind indexes, sealed boxes."""

from svidok.crypto.errors import DecryptionFailed, KeyDestroyed, WrongPassphrase
from svidok.crypto.keyring import OWASP_ARGON2, Argon2Params, Keyring, MasterSecret

__all__ = [
    "OWASP_ARGON2",
    "Argon2Params",
    "DecryptionFailed",
    "KeyDestroyed",
    "Keyring",
    "MasterSecret",
    "WrongPassphrase",
]
