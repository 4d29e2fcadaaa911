"""Access control: who may do what, see which fields, in which compartments.

The rules are data (`policy.yaml`, loaded by `svidok.access.policy`); services
check them through `ServiceContext.require`, `require_record`, `visible` and
`mask` (`svidok.services.context`). Accounts, logins, sessions, API tokens,
compartments and break-glass are use cases in `svidok.services.accounts`.
See `docs/access.md`.
"""

from __future__ import annotations

from svidok.access.compartments import REDACTED, Visibility, mask_rows
from svidok.access.credentials import SESSION_COOKIE, bearer_token, check_csrf, csrf_token
from svidok.access.errors import AccessDenied, AuthenticationFailed
from svidok.access.operations import SERVICE_OPERATIONS, operations_in_code, requires
from svidok.access.policy import Policy, load_policy, policy
from svidok.access.principal import ALL_COMPARTMENTS, Principal
from svidok.access.routes import operation, route_operations

__all__ = [
    "ALL_COMPARTMENTS",
    "REDACTED",
    "SERVICE_OPERATIONS",
    "SESSION_COOKIE",
    "AccessDenied",
    "AuthenticationFailed",
    "Policy",
    "Principal",
    "Visibility",
    "bearer_token",
    "check_csrf",
    "csrf_token",
    "load_policy",
    "mask_rows",
    "operation",
    "operations_in_code",
    "policy",
    "requires",
    "route_operations",
]
