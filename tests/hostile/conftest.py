"""Hostile input: Hypothesis profiles bounded for CI, and a guard on time and memory.

Profiles are applied per test (`@HOSTILE`), never loaded globally, so other suites keep their own
Hypothesis settings. `SVIDOK_HOSTILE_PROFILE=hostile-deep` runs ten times the examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.hostile.bounds import MEASURED, MIB
from tests.web.conftest import client, people, protection, web_settings  # noqa: F401 - the web tests' fixtures

settings.register_profile(
    "hostile-ci",
    max_examples=int(os.environ.get("SVIDOK_HOSTILE_EXAMPLES", "60")),
    deadline=3000,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)
settings.register_profile(
    "hostile-deep",
    parent=settings.get_profile("hostile-ci"),
    max_examples=600,
    deadline=10_000,
    derandomize=False,
)
HOSTILE = settings.get_profile(os.environ.get("SVIDOK_HOSTILE_PROFILE", "hostile-ci"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    labelled = [u for u in MEASURED if u.label]
    if not labelled:
        return
    terminalreporter.section("hostile input: time and memory of the largest cases")
    for usage in labelled:
        terminalreporter.write_line(
            f"{usage.label}: {usage.seconds:.2f} s (bound {usage.seconds_bound:.0f} s), "
            f"RSS +{usage.rss_growth / MIB:.0f} MiB (bound {usage.rss_bound / MIB:.0f} MiB)"
        )
