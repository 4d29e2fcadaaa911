"""The authorization matrix: every operation in the code and every web route, against every role
and every compartment case, asserted allow or deny.

`EXPECTED` pins the policy independently of `policy.yaml`: a change of who may do what must
change both (and so shows up in review). Operations are gathered from the policy, from the
service wiring table, from every literal `require("…")` in `src/svidok`, and from the web
routes, so an operation or a route without a rule fails here.
"""

from __future__ import annotations

from collections import Counter

import pytest

from svidok.access import AccessDenied, operations_in_code, policy
from svidok.access.routes import RouteRule, unruled_routes, web_route_rules
from svidok.errors import NotFound
from svidok.services import accounts
from svidok.services.context import Actor, ServiceContext
from tests.access.conftest import ROLES, World

ALL_ACCOUNTS = {"account.password", "account.sessions", "vocabulary.read"}
EXPECTED: dict[str, set[str]] = {
    "source": {"submission.create", "submission.receipt", "vocabulary.read"},
    "intake_operator": ALL_ACCOUNTS | {
        "record.view", "record.search", "record.create", "record.update", "register.import",
        "register.stats", "evidence.add", "identity.seal",
    },
    "analyst": ALL_ACCOUNTS | {
        "record.view", "record.search", "record.update", "register.stats", "link.run", "link.list",
        "link.decide", "person.merge", "person.split",
    },
    "investigator": ALL_ACCOUNTS | {
        "record.view", "record.search", "record.update", "register.export", "register.stats", "link.list",
        "link.decide", "person.merge", "person.split", "suspect.view", "evidence.add", "evidence.verify",
        "evidence.export", "break_glass.open",
    },
    "protection_officer": ALL_ACCOUNTS | {"record.view", "identity.open", "protect.keygen", "record.erase"},
    "admin": ALL_ACCOUNTS | {
        "evidence.verify", "key.rotate", "key.shred", "key.reseal", "record.erase", "audit.verify", "audit.checkpoint", "user.create",
        "user.list", "user.disable", "user.grant", "token.create", "token.revoke", "token.list",
        "session.revoke", "compartment.create", "compartment.assign", "compartment.list",
    },
    "auditor": ALL_ACCOUNTS | {
        "register.stats", "evidence.verify", "audit.view", "audit.verify", "audit.checkpoint", "user.list",
        "token.list", "compartment.list", "break_glass.list", "break_glass.review",
    },
}
CONTENT_OPERATIONS = {
    "record.view", "record.search", "record.create", "record.update", "register.import", "register.export",
    "link.list", "link.decide", "person.merge", "person.split", "suspect.view", "evidence.add",
    "evidence.export", "identity.seal", "identity.open",
}
CASES = {"own": "in_1", "other": "in_2", "unassigned": "in_3", "missing": "in_404"}


def _all_operations() -> dict[str, set[str]]:
    found = operations_in_code()
    for rule in web_route_rules():
        if rule.operation:
            found.setdefault(rule.operation, set()).add(f"route {','.join(rule.methods)} {rule.path}")
    for op in policy().operations:
        found.setdefault(op, set()).add("policy.yaml")
    return found


def test_every_operation_in_the_code_has_a_rule() -> None:
    rules = policy().operations
    missing = {op: sorted(where) for op, where in _all_operations().items() if op not in rules}
    assert missing == {}, f"operations without a rule in policy.yaml (deny by default): {missing}"


def test_every_web_route_has_an_operation_with_a_rule() -> None:
    rules = web_route_rules()
    if not rules:
        pytest.skip("the web package declares no routes yet")
    unruled: list[RouteRule] = unruled_routes(rules, policy())
    assert unruled == [], "routes without an operation (mark them with svidok.access.routes.operation):\n" + "\n".join(
        f"  {','.join(r.methods)} {r.path} -> {r.operation}" for r in unruled
    )


def test_policy_equals_the_pinned_matrix() -> None:
    p = policy()
    assert set(EXPECTED) == set(p.roles)
    differences = [
        (role, op, p.allows(role, op))
        for op in sorted(_all_operations())
        for role in p.roles
        if p.allows(role, op) != (op in EXPECTED[role])
    ]
    assert differences == [], "policy.yaml and the pinned matrix disagree (role, operation, policy says)"


def test_sensitive_invariants() -> None:
    p = policy()
    assert [r for r in p.roles if p.allows(r, "identity.open")] == ["protection_officer"]
    for role in ("admin", "auditor"):
        assert not p.roles[role].field_groups
        assert not {op for op in CONTENT_OPERATIONS if p.allows(role, op)}
    assert not p.roles["source"].account
    assert {op for op in p.operations if p.allows("source", op)} <= {
        "submission.create", "submission.receipt", "vocabulary.read"
    }
    for spec in p.roles.values():
        if p.sees_contents_or_identities(spec.name) and spec.account:
            assert spec.mfa, f"{spec.name} sees identities or contents: two factors are required"
    assert p.break_glass_roles == {"investigator"}


def _contexts(world: World) -> dict[str, ServiceContext]:
    contexts: dict[str, ServiceContext] = {"source": ServiceContext(world.store, Actor("public", "source"),
                                                                    audit=world.log, clock=world.clock)}
    for role in ROLES:
        world.add_user(role, role)
        contexts[role] = world.as_user(role)
    world.add_user("glass", "investigator")
    contexts["investigator+break-glass"] = world.as_user("glass")
    accounts.open_break_glass(contexts["investigator+break-glass"],
                              "Prosecutor's request 2026/17: the victim in case-b may be the same person.",
                              hours=2, compartment="case-b")
    return contexts


def _outcome(ctx: ServiceContext, op: str, record: bool, record_id: str) -> str:
    try:
        if record:
            ctx.require_record(op, "incident", record_id)
        else:
            ctx.require(op)
    except AccessDenied as denied:
        assert str(denied) == f"not allowed: {op}"
        return "denied"
    except NotFound as missing:
        assert str(missing) == f"no incident with id {record_id!r}"
        return "not found"
    return "allowed"


def _expected(role: str, op: str, record: bool, case: str) -> str:
    base = role.split("+")[0]
    if op not in EXPECTED[base]:
        return "denied"
    if not record or case == "own":
        return "allowed"
    if role == "investigator+break-glass" and case == "other":
        return "allowed"
    return "not found"


def test_matrix_of_operations_roles_and_compartments(world: World) -> None:
    contexts = _contexts(world)
    p = policy()
    before = sum(1 for _, action, _ in world.audit_actions() if action == "access.deny")
    wrong: list[tuple[str, str, str, str, str]] = []
    tally: Counter[str] = Counter()
    hidden_probes = 0
    for op in sorted(_all_operations()):
        record = p.operations[op].record
        for role, ctx in contexts.items():
            for case, record_id in (CASES.items() if record else [("-", "")]):
                got = _outcome(ctx, op, record, record_id)
                want = _expected(role, op, record, case)
                tally[got] += 1
                if got == "not found" and case in ("other", "unassigned"):
                    hidden_probes += 1
                if got != want:
                    wrong.append((op, role, case, got, want))
    assert wrong == [], f"(operation, role, case, got, expected): {wrong[:20]}"
    assert tally["allowed"] and tally["denied"] and tally["not found"]
    # every denial, and every probe of a hidden record, is an audit entry
    after = sum(1 for _, action, _ in world.audit_actions() if action == "access.deny")
    assert after - before == tally["denied"] + hidden_probes
