"""Staff login: password + TOTP, one generic error, lockout, replay refusal, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.runtime import Runtime
from confide.security import crypto
from confide.staff import actions
from confide.staff.errors import LoginFailed, SessionInvalid, StaffInvalid
from tests.conftest import Persona, make_staff


async def test_login_with_password_and_totp_opens_a_session(
    rt: Runtime, officer_paris: Persona
) -> None:
    token, identity = await actions.log_in(
        rt,
        username=officer_paris.username,
        password=officer_paris.password,
        code=officer_paris.code(),
    )
    assert identity.role == "officer"
    again = await actions.authenticate_session(rt, token)
    assert again.id == officer_paris.id


@pytest.mark.parametrize("mistake", ["password", "code", "username"])
async def test_every_failure_gives_the_same_error(rt: Runtime, mistake: str) -> None:
    persona = await make_staff(rt, "officer")
    attempt = {"username": persona.username, "password": persona.password, "code": persona.code()}
    attempt[mistake] = {"password": "wrong-password", "code": "000000", "username": "nobody-here"}[
        mistake
    ]
    if mistake == "code" and attempt["code"] == persona.code():
        attempt["code"] = "111111"
    with pytest.raises(LoginFailed) as failure:
        await actions.log_in(rt, **attempt)
    assert failure.value.message == LoginFailed.message


async def test_a_totp_code_cannot_be_replayed(rt: Runtime) -> None:
    persona = await make_staff(rt, "officer")
    code = persona.code()
    await actions.log_in(rt, username=persona.username, password=persona.password, code=code)
    with pytest.raises(LoginFailed):
        await actions.log_in(rt, username=persona.username, password=persona.password, code=code)


async def test_repeated_failures_lock_the_account_even_with_the_right_password_afterwards(
    rt: Runtime,
) -> None:
    persona = await make_staff(rt, "officer")
    for _ in range(rt.settings.login_max_failures):
        with pytest.raises(LoginFailed):
            await actions.log_in(
                rt, username=persona.username, password="wrong-password", code="123456"
            )
    with pytest.raises(LoginFailed):
        await actions.log_in(
            rt, username=persona.username, password=persona.password, code=persona.code()
        )
    # Once the lock has passed, the right credentials work again.
    later = rt.clock() + timedelta(minutes=rt.settings.login_lockout_minutes + 1)
    original = rt.clock
    rt.clock = lambda: later
    try:
        secret_code = crypto.totp_code(persona.totp_secret)
        await actions.log_in(
            rt, username=persona.username, password=persona.password, code=secret_code
        )
    finally:
        rt.clock = original


async def test_unknown_usernames_are_locked_the_same_way(rt: Runtime) -> None:
    for _ in range(rt.settings.login_max_failures + 1):
        with pytest.raises(LoginFailed):
            await actions.log_in(
                rt, username="ghost-account", password="whatever-pass", code="123456"
            )
    async with rt.reading() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.actor_label.like("unknown:%"))
            )
        )
    assert events
    assert all("ghost" not in e.actor_label and "ghost" not in e.detail for e in events)


async def test_logout_revokes_the_session(rt: Runtime) -> None:
    persona = await make_staff(rt, "officer")
    token, identity = await actions.log_in(
        rt, username=persona.username, password=persona.password, code=persona.code()
    )
    await actions.log_out(rt, identity)
    with pytest.raises(SessionInvalid):
        await actions.authenticate_session(rt, token)


async def test_sessions_expire(rt: Runtime) -> None:
    persona = await make_staff(rt, "officer")
    token, _ = await actions.log_in(
        rt, username=persona.username, password=persona.password, code=persona.code()
    )
    original = rt.clock
    rt.clock = lambda: original() + timedelta(hours=rt.settings.staff_session_hours, minutes=1)
    try:
        with pytest.raises(SessionInvalid):
            await actions.authenticate_session(rt, token)
    finally:
        rt.clock = original


@pytest.mark.parametrize(
    ("role", "username", "password"),
    [
        ("officer", "Bad Name!", "long-enough-pw"),
        ("wizard", "valid-name", "long-enough-pw"),
        ("officer", "valid-2", "short"),
    ],
)
async def test_create_staff_validates(rt: Runtime, role: str, username: str, password: str) -> None:
    with pytest.raises(StaffInvalid):
        await actions.create_staff(rt, role=role, username=username, password=password)


async def test_passwords_are_stored_as_argon2id(rt: Runtime) -> None:
    persona = await make_staff(rt, "admin")
    from confide.staff.models import StaffMember

    async with rt.reading() as session:
        stored = await session.get(StaffMember, persona.id)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
