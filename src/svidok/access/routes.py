"""The operation of every web route, read from the app, so a route without a rule fails a test.

The web layer marks each endpoint (or a dependency of it) with `operation("…")`:

    @router.get("/records/{kind}/{record_id}")
    @operation("record.view")
    def show_record(...): ...

or `Depends(guard)` where `guard = operation("record.view")(check_function)`.
`route_operations(app)` lists (methods, path, operation or None) for every route
of a FastAPI/Starlette app; paths in the policy's `unguarded_routes` (docs,
static files, the login form) need no operation. `find_web_app()` imports the
app when the web package provides one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from svidok.access.policy import Policy

__all__ = [
    "RouteRule",
    "WEB_APP_CANDIDATES",
    "find_web_app",
    "operation",
    "route_operations",
    "unruled_routes",
]

F = TypeVar("F", bound=Callable[..., Any])
MARK = "__svidok_operation__"

WEB_APP_CANDIDATES = (
    "svidok.web.app:create_app",
    "svidok.web.app:app",
    "svidok.web:create_app",
    "svidok.web:app",
)


def operation(name: str) -> Callable[[F], F]:
    """Mark an endpoint or a dependency as performing operation `name`."""

    def mark(func: F) -> F:
        setattr(func, MARK, name)
        return func

    return mark


@dataclass(frozen=True)
class RouteRule:
    methods: tuple[str, ...]
    path: str
    operation: str | None


def _operations_of(route: Any) -> list[str]:
    found: list[str] = []
    endpoint = getattr(route, "endpoint", None)
    if endpoint is not None and getattr(endpoint, MARK, None):
        found.append(str(getattr(endpoint, MARK)))
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []) or [])
    while stack:
        dep = stack.pop()
        call = getattr(dep, "call", None)
        if call is not None and getattr(call, MARK, None):
            found.append(str(getattr(call, MARK)))
        stack.extend(getattr(dep, "dependencies", []) or [])
    return found


def _walk(routes: Iterable[Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        sub = getattr(route, "routes", None)
        if sub and not hasattr(route, "endpoint"):
            yield from _walk(sub, path)  # a mounted sub-application or router
        else:
            yield path, route


def route_operations(app: Any) -> list[RouteRule]:
    """(methods, path, operation) of every route of `app`; operation None when unmarked."""
    rules: list[RouteRule] = []
    for path, route in _walk(getattr(app, "routes", [])):
        methods = tuple(sorted(getattr(route, "methods", None) or ()))
        ops = _operations_of(route)
        rules.append(RouteRule(methods, path, ops[0] if ops else None))
    return rules


def is_unguarded(policy: Policy, path: str) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in policy.unguarded_routes)


def unruled_routes(rules: Iterable[RouteRule], policy: Policy) -> list[RouteRule]:
    """Routes with no operation, or with an operation the policy has no rule for."""
    return [
        rule
        for rule in rules
        if not is_unguarded(policy, rule.path)
        and (rule.operation is None or rule.operation not in policy.operations)
    ]


def web_routers(package: str = "svidok.web") -> list[Any]:
    """Every router object (anything with `routes` and `prefix`) in the modules of the web package."""
    try:
        root = importlib.import_module(package)
    except ModuleNotFoundError:
        return []
    found: dict[int, Any] = {}
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if hasattr(value, "routes") and hasattr(value, "prefix") and not isinstance(value, type):
                found[id(value)] = value
    return list(found.values())


def web_route_rules(package: str = "svidok.web") -> list[RouteRule]:
    """The rules of every route the web package's routers declare (no app instance needed)."""
    rules: dict[tuple[tuple[str, ...], str], RouteRule] = {}
    for router in web_routers(package):
        for rule in route_operations(router):
            rules[(rule.methods, rule.path)] = rule
    return sorted(rules.values(), key=lambda r: (r.path, r.methods))


def find_web_app() -> Any | None:
    """The web app, if the web package provides one yet (None otherwise)."""
    for candidate in WEB_APP_CANDIDATES:
        module_name, _, attr = candidate.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                continue
            raise
        found = getattr(module, attr, None)
        if found is None:
            continue
        return found() if callable(found) and attr.startswith("create") else found
    return None
