"""Age on worker processes (`svidok.backup.agepool`) and O_DIRECT writes (`svidok.backup.direct`)."""

from __future__ import annotations

import importlib
import mmap
import os
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from svidok.backup.agepool import AgePool, AgeRefused, WorkerFailed
from svidok.backup.direct import BLOCK, DirectFile, new_bounce

pyrage: Any = importlib.import_module("pyrage")
MiB = 1 << 20


@pytest.fixture(scope="module")
def key() -> Any:
    return pyrage.x25519.Identity.generate()


@pytest.mark.parametrize("workers", [0, 2])
def test_pool_round_trip_matches_age(key: Any, workers: int) -> None:
    rng = random.Random(3)
    data = [rng.randbytes(n) for n in (0, 1, 65536, 3 * MiB + 7, 4 * MiB)]
    with AgePool(4 * MiB, workers) as pool:
        sealed = [pool.submit_encrypt(d, key.to_public()).result().bytes() for d in data]
        assert pool.workers == workers  # started with the first request
        for d, c in zip(data, sealed, strict=True):
            assert c[:21] == b"age-encryption.org/v1"
            assert pyrage.decrypt(c, [key]) == d  # plain age can read what the workers wrote
            assert pool.submit_decrypt(pyrage.encrypt(d, [key.to_public()]), key).result().bytes() == d
        assert pool.age_seconds > 0


def test_pool_names_nothing_but_refuses_altered_ciphertext(key: Any) -> None:
    good = pyrage.encrypt(os.urandom(MiB), [key.to_public()])
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 1
    stranger = pyrage.x25519.Identity.generate()
    with AgePool(2 * MiB, 1) as pool:
        with pytest.raises(AgeRefused):
            pool.submit_decrypt(bytes(bad), key).result()
        with pytest.raises(AgeRefused):
            pool.submit_decrypt(good, stranger).result()
        # The worker is still there after a refusal, and its slot was given back.
        for _ in range(3 * pool.capacity):
            assert len(pool.submit_decrypt(good, key).result().bytes()) == MiB


def test_input_larger_than_a_slot_runs_in_this_process(key: Any) -> None:
    data = os.urandom(3 * MiB)
    with AgePool(MiB, 1) as pool:
        out = pool.submit_encrypt(data, key.to_public()).result().bytes()
    assert pyrage.decrypt(out, [key]) == data


def test_a_dead_worker_fails_its_requests_and_later_ones(key: Any) -> None:
    data = os.urandom(MiB)
    with AgePool(MiB, 1, slots=1) as pool:
        pool.submit_encrypt(data, key.to_public()).result().release()
        pool._workers[0].proc.kill()
        pool._workers[0].proc.wait()
        with pytest.raises(WorkerFailed):
            for _ in range(4):
                pool.submit_encrypt(data, key.to_public()).result().release()


def test_stop_wakes_a_thread_waiting_for_a_slot(key: Any) -> None:
    data = os.urandom(MiB)
    with AgePool(MiB, 1, slots=1) as pool:
        held = pool.submit_encrypt(data, key.to_public()).result()  # the only slot, not released
        errors: list[BaseException] = []

        def waiter() -> None:
            try:
                pool.submit_encrypt(data, key.to_public())
            except BaseException as exc:
                errors.append(exc)

        t = threading.Thread(target=waiter)
        t.start()
        pool.stop()
        t.join(timeout=5)
        assert not t.is_alive() and isinstance(errors[0], WorkerFailed)
        held.release()


@pytest.mark.parametrize("where", ["tmp", "shm"])
@pytest.mark.parametrize("direct", [True, False])
def test_direct_file_writes_exactly_what_it_was_given(tmp_path: Path, where: str, direct: bool) -> None:
    base = tmp_path if where == "tmp" else Path("/dev/shm")
    if not base.is_dir():
        pytest.skip("no /dev/shm")
    rng = random.Random(7)
    bounce = new_bounce()
    aligned = mmap.mmap(-1, 10 * MiB)
    try:
        for k in range(12):
            path = base / f"svidok-direct-test-{os.getpid()}-{k}"
            parts = []
            try:
                with DirectFile(path, direct=direct, bounce=bounce) as out:
                    for _ in range(rng.randint(0, 4)):
                        n = rng.choice([0, 1, BLOCK - 1, BLOCK, BLOCK + 1, MiB, 8 * MiB + 17, 9 * MiB])
                        data = rng.randbytes(n)
                        if rng.random() < 0.5:
                            aligned[:n] = data  # page-aligned memory: written without a copy
                            out.write(memoryview(aligned)[:n])
                        else:
                            out.write(data)
                        parts.append(data)
                    out.finish()
                assert path.read_bytes() == b"".join(parts)
                assert path.stat().st_mode & 0o777 == 0o600
            finally:
                path.unlink(missing_ok=True)
    finally:
        bounce.close()
        aligned.close()


def test_workers_get_no_secret_from_the_environment(key: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVIDOK_PASSPHRASE", "correct horse battery staple")
    with AgePool(MiB, 1) as pool:
        pool.submit_encrypt(b"x", key.to_public()).result().release()
        environ = Path(f"/proc/{pool._workers[0].proc.pid}/environ").read_bytes()
    assert b"SVIDOK_PASSPHRASE" not in environ and b"correct horse" not in environ
