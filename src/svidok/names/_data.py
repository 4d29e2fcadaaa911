"""Loading the package's own data files, once, lazily."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["load_tsv", "load_yaml"]


def _text(name: str) -> str:
    return resources.files("svidok.names").joinpath("data").joinpath(name).read_text(encoding="utf-8")


@cache
def load_yaml(name: str) -> Any:
    """The parsed YAML data file `name` from `svidok/names/data/`."""
    # libyaml's loader when PyYAML was built with it: parsing the given-name table with
    # the pure-Python loader is most of the engine's start-up.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(_text(name), Loader=loader)  # noqa: S506 # nosec B506 # a safe loader either way


@cache
def load_tsv(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows of a tab-separated data file, without comments and blank lines."""
    rows = []
    for line in _text(name).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rows.append(tuple(line.split("\t")))
    return tuple(rows)
