"""A guard for one hostile case: it must end within a time bound and grow the process's memory
(resident set, peak) by less than a stated bound.

The peak is read from the kernel (`VmHWM`, reset through `/proc/self/clear_refs`), so a spike
between two samples cannot hide. A case that overruns its time is interrupted by SIGALRM, so a hang
fails the test instead of stalling the run.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

MIB = 1 << 20
_STATUS = Path("/proc/self/status")


class Overran(Exception):
    """The case did not finish within its time bound."""


@dataclass
class Usage:
    label: str = ""
    seconds: float = 0.0
    rss_growth: int = 0
    """Peak resident set during the case minus the resident set before it, in bytes."""
    seconds_bound: float = 0.0
    rss_bound: int = 0


MEASURED: list[Usage] = []
"""Every guarded case of the run, for the summary at the end (`conftest.pytest_terminal_summary`)."""


def _status(key: str) -> int:
    found = re.search(rf"^{key}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    assert found, key
    return int(found.group(1)) * 1024


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextmanager
def bounded(seconds: float, rss_bytes: int, label: str = "") -> Iterator[Usage]:
    """Run the body under a time bound (interrupted past it) and assert its RSS growth bound."""
    usage = Usage(label=label, seconds_bound=seconds, rss_bound=rss_bytes)
    MEASURED.append(usage)
    resettable = _reset_peak()
    before = _status("VmRSS")
    peak_before = _status("VmHWM")

    def overran(signum: int, frame: FrameType | None) -> None:
        raise Overran(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, overran)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.perf_counter()
    try:
        yield usage
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        usage.seconds = time.perf_counter() - start
        peak = _status("VmHWM")
        # without a resettable peak, only a new high-water mark can be seen
        usage.rss_growth = max(0, peak - before) if resettable else max(0, peak - peak_before)
    assert usage.seconds < seconds, f"took {usage.seconds:.1f} s, bound {seconds} s"
    assert usage.rss_growth < rss_bytes, (
        f"resident set grew by {usage.rss_growth / MIB:.0f} MiB, bound {rss_bytes / MIB:.0f} MiB"
    )
