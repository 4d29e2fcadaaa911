"""An encrypted register serves many threads at once without closing a connection under one of them.

The web server runs requests on up to 40 worker threads. SQLAlchemy's pysqlcipher dialect used to
give every thread its own connection from a pool that closes *other threads' connections, in use
or not,* once more than five threads had connected: a request then failed with "Cannot operate on
a closed database" (seen as rare operator 500s in the crash harness).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import text

from svidok.store.db import make_engine

THREADS = 12


def test_twelve_threads_each_keep_their_connection_while_others_connect(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'register.db'}", key=os.urandom(32))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1), (2), (3)"))
    all_connected = threading.Barrier(THREADS, timeout=30)
    failures: list[str] = []

    def worker(k: int) -> None:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1")).scalar_one()
                all_connected.wait()  # every thread now holds a connection at the same time
                total = conn.execute(text("SELECT sum(n) FROM t")).scalar_one()
                if total != 6:
                    failures.append(f"thread {k}: sum {total}")
        except Exception as exc:  # noqa: BLE001 - any failure in a worker fails the test below
            failures.append(f"thread {k}: {type(exc).__name__}: {exc}")
            all_connected.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    assert failures == []
