"""Argon2id parameters (AUTH-01) and TOTP (RFC 6238 vectors, replay, drift: AUTH-02)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from svidok.access import totp
from svidok.access.passwords import Passwords, generate_password

RFC_6238 = [  # (time, sha1, sha256, sha512): Appendix B, 8 digits
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}


@pytest.mark.parametrize(("moment", "sha1", "sha256", "sha512"), RFC_6238)
def test_rfc6238_vectors(moment: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp.totp(SEEDS[algorithm], moment, digits=8, algorithm=algorithm) == expected


def test_verify_accepts_one_step_of_drift_and_never_the_same_step_twice() -> None:
    secret = totp.new_secret()
    key = totp.decode_secret(secret)
    now = 1_800_000_000.0
    code = totp.totp(key, now)
    step = totp.verify(secret, code, now, None)
    assert step == totp.step_of(now)
    assert totp.verify(secret, code, now, step) is None  # replay
    assert totp.verify(secret, totp.totp(key, now - 30), now, None) == step - 1  # drift
    assert totp.verify(secret, totp.totp(key, now - 90), now, None) is None  # too old
    assert totp.verify(secret, totp.totp(key, now + 30), now, step) == step + 1
    assert totp.verify(secret, "12345", now, None) is None
    assert totp.verify(secret, "abcdef", now, None) is None


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "ana")
    assert uri.startswith("otpauth://totp/Svidok%3Aana?secret=JBSWY3DPEHPK3PXP&issuer=Svidok")
    assert "digits=6" in uri and "period=30" in uri


def test_default_password_hash_is_argon2id_rfc9106_low_memory() -> None:
    passwords = Passwords()
    stored = passwords.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.meets_owasp_minimum
    assert passwords.verify(stored, "correct horse battery staple")
    assert not passwords.verify(stored, "correct horse battery stapler")
    assert not passwords.verify("not a hash", "x")
    assert not passwords.needs_rehash(stored)
    stronger = Passwords(PasswordHasher(time_cost=4))
    assert stronger.needs_rehash(stored)
    assert not Passwords.fast_for_tests().meets_owasp_minimum


def test_only_argon2id() -> None:
    from argon2 import Type

    with pytest.raises(Exception, match="Argon2id"):
        Passwords(PasswordHasher(type=Type.I))


def test_generated_passwords_are_long_and_distinct() -> None:
    made = {generate_password() for _ in range(100)}
    assert len(made) == 100 and all(len(p) == 20 for p in made)
