"""A small demo register, generated once per test module run and shared read-only."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from svidok.demo.generator import DemoConfig, DemoResult, generate
from svidok.settings import Settings
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, table_of

SCALE = 200


@dataclass
class DemoRun:
    store: Store
    data_dir: Path
    result: DemoResult

    def rows(self, kind: str) -> list[dict[str, Any]]:
        table = table_of(kind)
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]

    def truth(self, name: str) -> list[dict[str, str]]:
        with (self.data_dir / "ground_truth" / f"{name}.csv").open(encoding="utf-8") as f:
            return list(csv.DictReader(f))


def run_demo(data_dir: Path, scale: int = SCALE, seed: int = 7) -> DemoRun:
    store = Store.open(Settings(data_dir=data_dir), create=True)
    result = generate(store, data_dir, DemoConfig(scale=scale, seed=seed))
    return DemoRun(store, data_dir, result)


def dump(run: DemoRun) -> dict[str, list[tuple[Any, ...]]]:
    """Every record table's rows, ordered by id."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with run.store.read() as conn:
        for kind in RECORD_TABLES:
            table = table_of(kind)
            out[kind] = [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]
    return out


@pytest.fixture(scope="package")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    run = run_demo(tmp_path_factory.mktemp("demo"))
    yield run
    run.store.close()
