"""`svidok demo` through the Typer app."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from svidok.cli.app import app
from svidok.crypto.keyring import MasterSecret
from svidok.errors import ConfigError
from svidok.services.keys import Protection
from svidok.settings import Settings

ENV = {"SVIDOK_PASSPHRASE": "demo test passphrase"}


def test_demo_command_fills_the_register_and_writes_ground_truth(tmp_path: Path) -> None:
    runner = CliRunner(env=ENV)
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--scale", "200", "--no-serve"])
    assert result.exit_code == 0, result.output
    truth = tmp_path.with_name(tmp_path.name + "-truth") / "ground_truth"
    assert (truth / "mentions.csv").exists()
    assert not (tmp_path / "ground_truth").exists()  # plaintext stays out of the encrypted register
    protection = Protection.open(Settings(data_dir=tmp_path), MasterSecret(passphrase=ENV["SVIDOK_PASSPHRASE"]))
    try:
        counts = protection.store.counts()
    finally:
        protection.close()
    assert counts["incident"] == 25 and counts["mention"] > 200

    again = runner.invoke(app, ["--data-dir", str(tmp_path), "demo", "--scale", "200", "--no-serve"])
    assert again.exit_code == ConfigError.exit_code
    assert "already holds records" in again.output


def test_same_seed_gives_byte_identical_export(tmp_path: Path) -> None:
    runner = CliRunner(env=ENV)
    exports = []
    for name in ("a", "b"):
        data_dir = tmp_path / name
        demo = ["--data-dir", str(data_dir), "demo", "--scale", "150", "--seed", "9", "--no-serve", "--no-link"]
        assert runner.invoke(app, demo).exit_code == 0
        out = tmp_path / f"{name}.jsonl"
        result = runner.invoke(app, ["--data-dir", str(data_dir), "export", "--out", str(out)])
        assert result.exit_code == 0, result.output
        exports.append(out.read_bytes())
    assert exports[0] == exports[1]
    assert len(exports[0]) > 10_000
