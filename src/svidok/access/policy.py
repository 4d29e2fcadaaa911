"""The access policy (`policy.yaml`): roles, operations, field groups, compartments, limits.

The YAML file is the reviewable source of truth; this module only loads and
checks it. `POLICY` is the policy of this installation; functions take a
`Policy` so tests can build others.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from svidok.errors import ConfigError

__all__ = ["FieldGroup", "Operation", "Policy", "Role", "load_policy", "policy"]


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    account: bool
    mfa: bool
    field_groups: frozenset[str]


@dataclass(frozen=True)
class Operation:
    name: str
    roles: frozenset[str]
    record: bool
    description: str


@dataclass(frozen=True)
class FieldGroup:
    name: str
    description: str
    grantable: bool
    fields: dict[str, frozenset[str]]


@dataclass(frozen=True)
class Policy:
    roles: dict[str, Role]
    operations: dict[str, Operation]
    field_groups: dict[str, FieldGroup]
    shared_kinds: frozenset[str]
    parents: dict[str, tuple[tuple[str, str], ...]]
    link_ends: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    break_glass_roles: frozenset[str]
    break_glass_min_reason: int
    break_glass_max_hours: float
    break_glass_review_hours: float
    session_idle_minutes: float
    session_absolute_hours: float
    token_max_days: float
    token_default_days: float
    throttle_free_failures: int
    throttle_base_seconds: float
    throttle_max_seconds: float
    throttle_window_minutes: float
    throttle_address_failures: int
    password_min_length: int
    unguarded_routes: tuple[str, ...]

    def allows(self, role: str, operation: str) -> bool:
        """True when `role` may perform `operation`; unknown roles and operations are denied."""
        op = self.operations.get(operation)
        return op is not None and role in op.roles

    def role(self, name: str) -> Role:
        if name not in self.roles:
            raise ConfigError(f"unknown role {name!r}; roles: {', '.join(self.roles)}")
        return self.roles[name]

    def account_roles(self) -> list[str]:
        return [r.name for r in self.roles.values() if r.account]

    def group_of(self, kind: str, column: str) -> str | None:
        for group in self.field_groups.values():
            if column in group.fields.get(kind, frozenset()):
                return group.name
        return None

    def masked_fields(self, kind: str, groups: frozenset[str]) -> frozenset[str]:
        """The fields of `kind` hidden from someone who sees only `groups`."""
        hidden: set[str] = set()
        for group in self.field_groups.values():
            if group.name not in groups:
                hidden |= group.fields.get(kind, frozenset())
        return frozenset(hidden)

    def sees_contents_or_identities(self, role: str) -> bool:
        """Roles that see identities or contents (and so must use two factors)."""
        r = self.roles[role]
        if r.field_groups:
            return True
        return any(
            role in op.roles
            for op in self.operations.values()
            if op.name in {"identity.open", "record.view", "record.search", "register.export"}
        )


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"access policy: {where} must be a list")
    return value


def load_policy(path: Path | None = None) -> Policy:
    """Load and check a policy file (the packaged `policy.yaml` by default)."""
    if path is None:
        text = (resources.files("svidok.access") / "policy.yaml").read_text("utf-8")
        where = "svidok/access/policy.yaml"
    else:
        text = path.read_text("utf-8")
        where = str(path)
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ConfigError(f"{where}: not an access policy of version 1")
    for name, spec in data["roles"].items():
        extra = set(spec) - {"description", "account", "mfa", "field_groups"}
        if extra:
            raise ConfigError(f"{where}: role {name} has unknown keys {sorted(map(str, extra))}")
    roles = {
        name: Role(
            name,
            str(spec.get("description", "")),
            bool(spec.get("account", True)),
            bool(spec.get("mfa", True)),
            frozenset(_list(spec.get("field_groups"), f"roles.{name}.field_groups")),
        )
        for name, spec in data["roles"].items()
    }
    groups = {
        name: FieldGroup(
            name,
            str(spec.get("description", "")),
            bool(spec.get("grantable", False)),
            {kind: frozenset(cols) for kind, cols in (spec.get("fields") or {}).items()},
        )
        for name, spec in data["field_groups"].items()
    }
    operations: dict[str, Operation] = {}
    for name, spec in data["operations"].items():
        extra = set(spec) - {"roles", "record", "description"}
        if extra:
            raise ConfigError(f"{where}: operation {name} has unknown keys {sorted(map(str, extra))}")
        op_roles = frozenset(_list(spec.get("roles"), f"operations.{name}.roles"))
        unknown = op_roles - set(roles)
        if unknown:
            raise ConfigError(f"{where}: operation {name} names unknown roles {sorted(unknown)}")
        operations[name] = Operation(
            name, op_roles, bool(spec.get("record", False)), str(spec.get("description", ""))
        )
    for role in roles.values():
        unknown = role.field_groups - set(groups)
        if unknown:
            raise ConfigError(f"{where}: role {role.name} names unknown field groups {sorted(unknown)}")
    comp = data.get("compartments") or {}
    bg = data.get("break_glass") or {}
    sessions = data.get("sessions") or {}
    tokens = data.get("tokens") or {}
    throttle = data.get("throttle") or {}
    passwords = data.get("passwords") or {}
    bg_roles = frozenset(_list(bg.get("roles"), "break_glass.roles"))
    if bg_roles - set(roles):
        raise ConfigError(f"{where}: break_glass names unknown roles")
    return Policy(
        roles=roles,
        operations=operations,
        field_groups=groups,
        shared_kinds=frozenset(_list(comp.get("shared_kinds"), "compartments.shared_kinds")),
        parents={
            kind: tuple((str(p), str(c)) for p, c in pairs)
            for kind, pairs in (comp.get("parents") or {}).items()
        },
        link_ends={
            kind: (tuple(ends[0]), tuple(ends[1])) for kind, ends in (comp.get("link_ends") or {}).items()
        },
        break_glass_roles=bg_roles,
        break_glass_min_reason=int(bg.get("min_reason_chars", 30)),
        break_glass_max_hours=float(bg.get("max_hours", 4)),
        break_glass_review_hours=float(bg.get("review_within_hours", 24)),
        session_idle_minutes=float(sessions.get("idle_minutes", 30)),
        session_absolute_hours=float(sessions.get("absolute_hours", 12)),
        token_max_days=float(tokens.get("max_days", 90)),
        token_default_days=float(tokens.get("default_days", 30)),
        throttle_free_failures=int(throttle.get("free_failures", 5)),
        throttle_base_seconds=float(throttle.get("base_seconds", 30)),
        throttle_max_seconds=float(throttle.get("max_seconds", 3600)),
        throttle_window_minutes=float(throttle.get("window_minutes", 60)),
        throttle_address_failures=int(throttle.get("address_failures", 50)),
        password_min_length=int(passwords.get("min_length", 12)),
        unguarded_routes=tuple(_list(data.get("unguarded_routes"), "unguarded_routes")),
    )


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The installation's policy (loaded once)."""
    return load_policy()
