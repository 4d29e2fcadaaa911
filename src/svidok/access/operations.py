"""Every operation the code performs, found in the code, so each must have a rule in the policy.

Three sources, joined by `operations_in_code()`:

- `SERVICE_OPERATIONS`: the service functions and the operation each must
  require (the wiring plan of the services written before access control);
- every `require("…")`, `require_record("…", …)`, `requires("…")` and
  `operation("…")` call with a literal name anywhere under `src/svidok` (found
  by reading the source, so new code is picked up without registering it);
- the operations of the web app's routes (`svidok.access.routes`).

A test enumerates them against the policy: an operation without a rule fails it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["SERVICE_OPERATIONS", "operations_in_code", "operations_in_source", "requires"]

F = TypeVar("F", bound=Callable[..., Any])

SERVICE_OPERATIONS: dict[str, tuple[str, ...]] = {
    "register.import": ("svidok.services.register:import_file",),
    "register.export": ("svidok.services.register:export_register", "svidok.services.transfer:export_jsonl"),
    "register.stats": ("svidok.services.register:counts",),
    "record.view": ("svidok.services.register:show",),
    "link.run": ("svidok.services.linking:link_register",),
    "link.list": ("svidok.services.review:list_links",),
    "suspect.view": ("svidok.services.review:list_links",),
    "link.decide": ("svidok.services.review:decide",),
    "person.merge": ("svidok.services.review:merge_persons",),
    "person.split": ("svidok.services.review:split_person",),
    "evidence.add": ("svidok.services.evidence:EvidenceService.add",),
    "evidence.verify": ("svidok.services.evidence:EvidenceService.verify",),
    "evidence.export": ("svidok.services.evidence:EvidenceService.export",),
    "identity.seal": ("svidok.services.keys:seal_identity",),
    "identity.open": ("svidok.services.keys:open_identity",),
    "protect.keygen": ("svidok.services.keys:register_officer_key",),
    "key.rotate": ("svidok.services.keys:rotate_master",),
    "key.shred": ("svidok.services.keys:shred_subject",),
    "key.reseal": ("svidok.services.erasure:reseal_subjects",),
    "record.erase": ("svidok.services.erasure:erase",),
    "audit.verify": ("svidok.services.audit:verify_register",),
    "audit.checkpoint": ("svidok.services.audit:checkpoint",),
    "audit.view": ("svidok.services.audit:export_log",),
}
"""Operation -> the existing service functions that must call `ctx.require` with it."""

_DECLARED: dict[str, set[str]] = {}
_CALLS = {"require", "require_record", "requires", "operation", "can"}


def requires(operation: str) -> Callable[[F], F]:
    """Mark a service function as performing `operation` (the function still calls `ctx.require`)."""

    def mark(func: F) -> F:
        _DECLARED.setdefault(operation, set()).add(f"{func.__module__}:{func.__qualname__}")
        func.__svidok_operation__ = operation  # type: ignore[attr-defined]
        return func

    return mark


def operations_in_source(root: Path) -> dict[str, set[str]]:
    """Operation names passed as literals to require-like calls in the Python files under `root`."""
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            first = node.args[0]
            if name in _CALLS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                if "." in first.value:
                    found.setdefault(first.value, set()).add(f"{path.relative_to(root)}:{node.lineno}")
    return found


def operations_in_code(root: Path | None = None) -> dict[str, set[str]]:
    """Every operation the code names: the wiring table, decorators and literal require calls."""
    root = root or Path(__file__).resolve().parents[1]
    found: dict[str, set[str]] = {op: set(where) for op, where in SERVICE_OPERATIONS.items()}
    for op, where in _DECLARED.items():
        found.setdefault(op, set()).update(where)
    for op, where in operations_in_source(root).items():
        found.setdefault(op, set()).update(where)
    return found
