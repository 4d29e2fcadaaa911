"""The tamper-evident audit log: append, checkpoint, verify, export (see `log.py`)."""

from svidok.audit.entry import Entry
from svidok.audit.log import AuditKey, AuditLog
from svidok.audit.verify import LogReport, verify_file

__all__ = ["AuditKey", "AuditLog", "Entry", "LogReport", "verify_file"]
