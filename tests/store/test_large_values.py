"""Values at the edge of the column types, on both backends."""

from __future__ import annotations

from pathlib import Path

from svidok.services import register
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl


def test_a_recording_larger_than_2_gib_is_registered_with_its_size(store: Store, tmp_path: Path) -> None:
    size = 10 * 2**30  # a 10 GiB video: PostgreSQL's 32-bit integer stops at 2 GiB
    records = [dict(r, size_bytes=size) if r["record"] == "evidence" else r for r in RECORDS]
    register.import_file(store, write_jsonl(tmp_path / "records.jsonl", records))
    shown = register.show(store, "evidence", "ev_1")
    assert shown["record"]["size_bytes"] == size
