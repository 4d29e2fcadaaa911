"""Logins, two factors, sessions, tokens, throttling, and what the audit log keeps of them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from svidok.access import AccessDenied, AuthenticationFailed, bearer_token, check_csrf, csrf_token
from svidok.access.passwords import Passwords
from svidok.services import accounts
from tests.access.conftest import FAST, World


def _fails(world: World, name: str, **kwargs: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        world.login(name, **kwargs)
    return str(caught.value)


def _reasons(world: World) -> list[str]:
    return [str(d["reason"]) for _, action, d in world.audit_actions() if action == "login.fail"]


def test_login_needs_password_and_a_fresh_totp_code(world: World) -> None:
    enrolment = world.add_user("ana", "analyst")
    assert enrolment.totp_secret and enrolment.totp_uri and enrolment.totp_uri.startswith("otpauth://totp/")
    first = world.login("ana")
    assert first.principal.name == "ana" and first.principal.role == "analyst"
    assert first.principal.compartments == frozenset({"case-a"})
    assert check_csrf(first.session_token, first.csrf_token)
    # the same code again (a replay, or a shoulder-surfed code) is refused
    assert _fails(world, "ana") == "login failed"
    world.clock.advance(seconds=30)
    assert world.login("ana").principal.name == "ana"
    # a code from an earlier step than the last accepted one is refused too
    assert _fails(world, "ana", code=world.clock.code(enrolment.totp_secret, steps=-1)) == "login failed"
    assert _reasons(world) == ["second_factor", "second_factor"]


def test_every_failure_gives_the_same_answer_and_is_audited_without_secrets(world: World) -> None:
    enrolment = world.add_user("ana", "analyst")
    messages = {
        _fails(world, "ana", password="wrong password 1"),
        _fails(world, "nobody", password="wrong password 2", code="123456"),
        _fails(world, "ana", code="000000" if world.clock.code(enrolment.totp_secret) != "000000" else "111111"),
    }
    accounts.disable_user(world.system, "ana")
    messages.add(_fails(world, "ana"))
    assert messages == {"login failed"}
    assert _reasons(world) == ["password", "unknown_account", "second_factor", "disabled"]
    log = world.audit_bytes()
    for secret in (enrolment.password, "wrong password 1", "wrong password 2", enrolment.totp_secret or "-", "nobody"):
        assert secret.encode() not in log
    actors = [a for a, action, _ in world.audit_actions() if action == "login.fail"]
    assert actors == ["ana", "anonymous", "ana", "ana"]


def test_first_login_may_only_change_the_password(world: World) -> None:
    world.add_user("ana", "analyst")
    login = world.login("ana")
    assert login.must_change_password
    ctx = accounts.context_for(world.system, login.principal)
    with pytest.raises(AccessDenied):
        ctx.require("record.search")
    accounts.change_password(ctx, world.users["ana"].password, "a long new passphrase", passwords=FAST)
    principal = accounts.authenticate_session(world.system, login.session_token)
    assert principal.scopes is None
    accounts.context_for(world.system, principal).require("record.search")


def test_rehash_on_login_when_the_parameters_rise(world: World) -> None:
    world.add_user("ana", "analyst")
    stronger = Passwords.fast_for_tests()
    stronger.hasher = type(stronger.hasher)(time_cost=2, memory_cost=16, parallelism=1)
    accounts.login(world.system, "ana", world.users["ana"].password,
                   world.clock.code(world.users["ana"].totp_secret), "10.0.0.1", passwords=stronger)
    oks = [d for _, action, d in world.audit_actions() if action == "login.ok"]
    assert oks[-1]["rehashed"] is True


def test_sessions_expire_when_idle_and_absolutely_and_are_revocable(world: World) -> None:
    world.add_user("ana", "analyst")
    login = world.login("ana")
    token = login.session_token
    assert accounts.authenticate_session(world.system, token).name == "ana"
    world.clock.advance(minutes=29)
    accounts.authenticate_session(world.system, token)  # activity keeps it alive
    world.clock.advance(minutes=29)
    accounts.authenticate_session(world.system, token)
    world.clock.advance(minutes=31)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_session(world.system, token)  # idle for more than 30 minutes

    world.clock.advance(seconds=30)
    token = world.login("ana").session_token
    for _ in range(12 * 3):
        world.clock.advance(minutes=20)
        try:
            accounts.authenticate_session(world.system, token)
        except AuthenticationFailed:
            break
    assert world.clock.now - login.expires_at < timedelta(hours=2)  # absolute limit (12 h) reached
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_session(world.system, token)

    world.clock.advance(seconds=30)
    token = world.login("ana").session_token
    accounts.logout(world.system, token)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_session(world.system, token)

    world.clock.advance(seconds=30)
    token = world.login("ana").session_token
    accounts.disable_user(world.system, "ana")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_session(world.system, token)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_session(world.system, "not-a-session")


def test_tokens_are_scoped_expire_and_revoke(world: World) -> None:
    world.add_user("ivy", "investigator")
    issued = accounts.create_token(world.system, "ivy", ["record.*"], expires_in=timedelta(days=7))
    assert issued.token.startswith(f"svk_{issued.token_id}_")
    header = f"Bearer {issued.token}"
    principal = accounts.authenticate_token(world.system, bearer_token(header))
    ctx = accounts.context_for(world.system, principal)
    ctx.require("record.view")
    with pytest.raises(AccessDenied):
        ctx.require("register.export")  # the role may, the token's scope may not
    # stored only as a digest
    assert issued.token.encode() not in world.audit_bytes()
    listed = accounts.list_tokens(world.system, "ivy")
    assert listed[0]["state"] == "active" and "token" not in listed[0]

    world.clock.advance(days=7, seconds=1)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_token(world.system, issued.token)
    assert accounts.list_tokens(world.system, "ivy")[0]["state"] == "expired"

    second = accounts.create_token(world.system, "ivy", ["record.view"])
    accounts.authenticate_token(world.system, second.token)
    accounts.revoke_token(world.system, second.token_id)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_token(world.system, second.token)

    third = accounts.create_token(world.system, "ivy", ["record.view"])
    accounts.disable_user(world.system, "ivy")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate_token(world.system, third.token)
    tampered = second.token[:-1] + ("A" if second.token[-1] != "A" else "B")
    for bad in (tampered, "svk_nothing", ""):
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate_token(world.system, bad)
    reasons = [d["reason"] for _, action, d in world.audit_actions() if action == "token.reject"]
    assert reasons == ["expired", "revoked", "revoked", "unknown", "malformed", "malformed"]  # disabling revokes


def test_token_limits(world: World) -> None:
    world.add_user("ana", "analyst")
    with pytest.raises(Exception, match="90 days"):
        accounts.create_token(world.system, "ana", ["record.view"], expires_in=timedelta(days=91))
    with pytest.raises(Exception, match="no operation"):
        accounts.create_token(world.system, "ana", ["identity.open"])  # not the analyst's to give
    with pytest.raises(Exception, match="scope"):
        accounts.create_token(world.system, "ana", [])


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None
    assert bearer_token("Bearer a b") is None
    assert bearer_token(None) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    assert check_csrf("session-1", csrf_token("session-1"))
    assert not check_csrf("session-2", csrf_token("session-1"))
    assert not check_csrf("session-1", None)
    assert not check_csrf("session-1", "")


def test_lockout_from_one_address_does_not_block_the_owner_elsewhere(world: World) -> None:
    world.add_user("ana", "analyst")
    attacker, owner = "203.0.113.66", "198.51.100.7"
    for i in range(20):
        _fails(world, "ana", address=attacker, password=f"guess {i}")
    # even the right password is refused from the attacker's address now
    assert _fails(world, "ana", address=attacker) == "login failed"
    assert _reasons(world)[-1] == "throttled"
    # the owner, from their own address, logs in at once
    assert world.login("ana", address=owner).principal.name == "ana"
    # the attacker's wait grows but is bounded, and ends
    world.clock.advance(hours=1, seconds=1)
    world.clock.advance(seconds=30)
    assert world.login("ana", address=attacker).principal.name == "ana"


def test_ipv6_addresses_count_per_network_and_spraying_locks_the_address(world: World) -> None:
    for name in ("ana", "bob"):
        world.add_user(name, "analyst")
    for i in range(6):
        _fails(world, "ana", address=f"2001:db8:1:2::{i + 1}", password="x")
    assert _fails(world, "ana", address="2001:db8:1:2::99") == "login failed"
    assert _reasons(world)[-1] == "throttled"
    assert world.login("ana", address="2001:db8:9:9::1").principal.name == "ana"
    # one address trying many accounts: the address is locked for all of them
    for i in range(50):
        _fails(world, f"user{i}", address="192.0.2.1", password="Winter2020!")
    world.clock.advance(seconds=30)
    assert _fails(world, "bob", address="192.0.2.1") == "login failed"
    assert _reasons(world)[-1] == "throttled"
    assert world.login("bob", address="192.0.2.2").principal.name == "bob"
