"""Same seed, same register and ground truth; another seed, another scenario."""

from __future__ import annotations

from pathlib import Path

from .conftest import dump, run_demo

TRUTH_FILES = ("mentions", "mention_forms", "sources", "evidence", "missing", "custody", "identities")


def _truth_bytes(data_dir: Path) -> dict[str, bytes]:
    return {name: (data_dir / "ground_truth" / f"{name}.csv").read_bytes() for name in TRUTH_FILES}


def test_same_seed_gives_identical_rows_and_truth(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "a", scale=120, seed=11)
    second = run_demo(tmp_path / "b", scale=120, seed=11)
    try:
        assert dump(first) == dump(second)
        assert _truth_bytes(first.data_dir) == _truth_bytes(second.data_dir)
    finally:
        first.store.close()
        second.store.close()


def test_another_seed_gives_another_scenario(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "a", scale=120, seed=11)
    other = run_demo(tmp_path / "b", scale=120, seed=12)
    try:
        a, b = dump(first), dump(other)
        assert a["source"] != b["source"]
        assert a["mention"] != b["mention"]
        assert {r[0] for r in a["incident"]}.isdisjoint({r[0] for r in b["incident"]})
        assert _truth_bytes(first.data_dir) != _truth_bytes(other.data_dir)
    finally:
        first.store.close()
        other.store.close()
