"""The `svidok` command line: thin commands that parse options, call services, print."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from svidok.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `svidok` command.

    `svidok names ...` opens no register, so it skips loading the rest of the CLI
    (seconds of CPU: statistics, exports, web), which would dominate batch scoring.
    """
    if sys.argv[1:2] == ["names"]:
        from svidok.cli.names import run_alone

        run_alone(sys.argv[2:])
        return
    from svidok.cli.app import main as app_main

    app_main()


def __getattr__(name: str) -> Any:
    if name == "app":
        from svidok.cli.app import app

        return app
    raise AttributeError(name)
