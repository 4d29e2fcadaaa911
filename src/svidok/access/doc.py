"""The role and permission tables of `docs/access.md`, generated from the policy file.

`python -m svidok.access.doc docs/access.md` rewrites the generated part (between
the BEGIN/END markers); a test fails when the document and the policy differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from svidok.access.policy import Policy, load_policy

__all__ = ["BEGIN", "END", "render", "update_document"]

BEGIN = "<!-- BEGIN GENERATED from src/svidok/access/policy.yaml: do not edit by hand -->"
END = "<!-- END GENERATED -->"


def _yes(value: bool) -> str:
    return "yes" if value else "-"


def render(policy: Policy) -> str:
    """Markdown tables of roles, operations x roles, field groups and limits."""
    roles = list(policy.roles.values())
    out: list[str] = ["### Roles", "", "| role | account | two factors | field groups | what it is for |"]
    out.append("| --- | --- | --- | --- | --- |")
    for r in roles:
        groups = ", ".join(sorted(r.field_groups)) or "-"
        out.append(f"| `{r.name}` | {_yes(r.account)} | {_yes(r.mfa)} | {groups} | {r.description} |")
    out += ["", "### Operations", ""]
    out.append("`x`: allowed. `record`: the record must also be inside the user's compartments.")
    out.append("")
    out.append("| operation | record | " + " | ".join(f"`{r.name}`" for r in roles) + " | what it does |")
    out.append("| --- | --- | " + " | ".join("---" for _ in roles) + " | --- |")
    for op in sorted(policy.operations.values(), key=lambda o: o.name):
        cells = " | ".join("x" if r.name in op.roles else "" for r in roles)
        out.append(f"| `{op.name}` | {'record' if op.record else ''} | {cells} | {op.description} |")
    out += ["", "### Field groups", ""]
    out.append("Protected fields outside a role's field groups are returned as `[redacted]`.")
    out.append("")
    out.append("| group | granted per compartment | fields | what it is |")
    out.append("| --- | --- | --- | --- |")
    for g in policy.field_groups.values():
        fields = "; ".join(f"{kind}: {', '.join(sorted(cols))}" for kind, cols in sorted(g.fields.items()))
        out.append(f"| `{g.name}` | {_yes(g.grantable)} | {fields} | {g.description} |")
    out += ["", "### Compartments", ""]
    out.append(f"- Shared kinds (no compartment): {', '.join(sorted(policy.shared_kinds))}.")
    parents = "; ".join(
        f"{kind} -> {', '.join(f'{p} ({c})' for p, c in pairs)}"
        for kind, pairs in sorted(policy.parents.items())
    )
    out.append(f"- Child kinds follow their parent unless assigned themselves: {parents}.")
    ends = "; ".join(
        f"{kind}: {'/'.join(a)} -> {'/'.join(b)}" for kind, (a, b) in sorted(policy.link_ends.items())
    )
    out.append(f"- A link is visible when both ends are: {ends}.")
    out += ["", "### Limits", ""]
    out.append(
        f"- Break-glass: roles {', '.join(sorted(policy.break_glass_roles))}; a reason of at least "
        f"{policy.break_glass_min_reason} characters; at most {policy.break_glass_max_hours:g} h; "
        f"review due within {policy.break_glass_review_hours:g} h."
    )
    out.append(
        f"- Sessions: idle timeout {policy.session_idle_minutes:g} min, absolute "
        f"{policy.session_absolute_hours:g} h."
    )
    out.append(
        f"- API tokens: default {policy.token_default_days:g} days, at most {policy.token_max_days:g} days."
    )
    out.append(
        f"- Login throttling per (account, address): {policy.throttle_free_failures} free failures, then "
        f"{policy.throttle_base_seconds:g} s doubling up to {policy.throttle_max_seconds:g} s; an address "
        f"failing {policy.throttle_address_failures} times on any accounts waits "
        f"{policy.throttle_max_seconds:g} s."
    )
    out.append(f"- Passwords: at least {policy.password_min_length} characters, Argon2id.")
    out.append(f"- Web routes without an operation: {', '.join(f'`{p}`' for p in policy.unguarded_routes)}.")
    return "\n".join(out) + "\n"


def generated_part(text: str) -> str | None:
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def update_document(path: Path, policy: Policy | None = None) -> bool:
    """Rewrite the generated part of `path`; True when it changed."""
    text = path.read_text("utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no generated section markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n\n{render(policy or load_policy())}\n{END}{tail}"
    if new != text:
        path.write_text(new, "utf-8")
        return True
    return False


if __name__ == "__main__":
    changed = update_document(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/access.md"))
    sys.stdout.write("updated\n" if changed else "up to date\n")
