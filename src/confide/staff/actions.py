"""Staff accounts, login with password + TOTP, and server-side sessions."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, select, update

from confide.audit.actions import AuditAction, record
from confide.runtime import Runtime
from confide.security import crypto
from confide.security.permissions import Role
from confide.staff.errors import LoginFailed, SessionInvalid, StaffInvalid
from confide.staff.models import LoginThrottle, StaffMember, StaffSession
from confide.staff.schemas import StaffIdentity

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD_LENGTH = 10


async def create_staff(
    rt: Runtime,
    *,
    role: str,
    username: str,
    password: str,
    display_name: str | None = None,
    totp_secret: str | None = None,
    actor_staff_id: int | None = None,
) -> tuple[StaffMember, str]:
    """Create an account; returns it with its TOTP secret (to enrol an authenticator app).

    Called by administrators and the `confide create-staff` command. Audited as `staff.created`.
    """
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise StaffInvalid(
            "Usernames are 2-63 lowercase letters, digits, dots, dashes or underscores."
        )
    try:
        Role(role)
    except ValueError:
        raise StaffInvalid(f"Unknown role {role!r}; one of: {', '.join(Role)}.") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffInvalid(f"Passwords have at least {MIN_PASSWORD_LENGTH} characters.")
    secret = totp_secret or crypto.new_totp_secret()
    async with rt.transaction() as tx:
        existing = await tx.session.scalar(
            select(StaffMember.id).where(StaffMember.username == username)
        )
        if existing is not None:
            raise StaffInvalid(f"The username {username!r} is taken.")
        member = StaffMember(
            username=username,
            display_name=display_name or username,
            role=role,
            password_hash=crypto.hash_password(password),
            totp_secret=secret,
            created_at=tx.now,
        )
        tx.session.add(member)
        await tx.session.flush()
        await record(
            tx,
            AuditAction.STAFF_CREATED,
            actor_staff_id=actor_staff_id,
            detail={"staff_id": member.id, "role": role},
        )
    return member, secret


async def log_in(
    rt: Runtime, *, username: str, password: str, code: str
) -> tuple[str, StaffIdentity]:
    """Check password and TOTP; open a session. Returns the session token for the cookie.

    Every failure raises the same `LoginFailed` and is audited as `staff.login_failed`;
    repeated failures lock the username for a while, whether or not the account exists.
    """
    settings = rt.settings
    username = username.strip().lower()[:64]
    username_digest = crypto.token_digest(username, rt.secrets.token_pepper)
    async with rt.transaction() as tx:
        now = tx.now
        throttle = await tx.session.get(LoginThrottle, username_digest)
        member = await tx.session.scalar(
            select(StaffMember).where(StaffMember.username == username, StaffMember.is_active)
        )
        password_ok = crypto.verify_password(member.password_hash if member else None, password)
        step = None
        if member is not None and password_ok:
            step = crypto.verify_totp(
                member.totp_secret, code, last_used_step=member.totp_last_step
            )
        locked = (
            throttle is not None
            and throttle.locked_until is not None
            and throttle.locked_until > now
        )
        if member is None or step is None or locked:
            window = timedelta(minutes=settings.login_lockout_minutes)
            if throttle is None:
                throttle = LoginThrottle(
                    username_digest=username_digest, failures=0, first_failure_at=now
                )
                tx.session.add(throttle)
            elif throttle.first_failure_at < now - window and not locked:
                throttle.failures, throttle.first_failure_at = 0, now
            throttle.failures += 1
            if throttle.failures >= settings.login_max_failures and not locked:
                throttle.locked_until = now + window
            await record(
                tx,
                AuditAction.LOGIN_FAILED,
                actor_staff_id=member.id if member else None,
                actor_label="" if member else f"unknown:{username_digest[:16]}",
                detail={"locked": locked or throttle.locked_until is not None},
            )
            failed = True
        else:
            failed = False
            member.totp_last_step = step
            if crypto.password_needs_rehash(member.password_hash):
                member.password_hash = crypto.hash_password(password)
            if throttle is not None:
                await tx.session.delete(throttle)
            token = crypto.new_token()
            staff_session = StaffSession(
                token_digest=crypto.token_digest(token, rt.secrets.token_pepper),
                staff_id=member.id,
                csrf_token=crypto.new_token(),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=settings.staff_session_hours),
            )
            tx.session.add(staff_session)
            await tx.session.flush()
            await record(tx, AuditAction.LOGIN, actor_staff_id=member.id)
            identity = _identity(member, staff_session)
    # Raised after the transaction so the failure count and audit entry are committed.
    if failed:
        raise LoginFailed()
    return token, identity


async def authenticate_session(rt: Runtime, token: str | None) -> StaffIdentity:
    """The staff member behind a session cookie; raises `SessionInvalid`."""
    if not token or len(token) > 100:
        raise SessionInvalid()
    digest = crypto.token_digest(token, rt.secrets.token_pepper)
    async with rt.reading() as session:
        row = (
            await session.execute(
                select(StaffSession, StaffMember)
                .join(StaffMember, StaffMember.id == StaffSession.staff_id)
                .where(StaffSession.token_digest == digest)
            )
        ).first()
    if row is None:
        raise SessionInvalid()
    staff_session, member = row
    if (
        staff_session.revoked_at is not None
        or staff_session.expires_at <= rt.clock()
        or not member.is_active
    ):
        raise SessionInvalid()
    return _identity(member, staff_session)


async def log_out(rt: Runtime, identity: StaffIdentity) -> None:
    """Revoke the session (the cookie becomes useless at once). Audited as `staff.logout`."""
    async with rt.transaction() as tx:
        await tx.session.execute(
            update(StaffSession)
            .where(StaffSession.id == identity.session_id)
            .values(revoked_at=tx.now)
        )
        await record(tx, AuditAction.LOGOUT, actor_staff_id=identity.id)


async def purge_expired_sessions(rt: Runtime) -> None:
    async with rt.transaction() as tx:
        await tx.session.execute(delete(StaffSession).where(StaffSession.expires_at < tx.now))


def _identity(member: StaffMember, staff_session: StaffSession) -> StaffIdentity:
    return StaffIdentity(
        id=member.id,
        username=member.username,
        display_name=member.display_name,
        role=member.role,
        session_id=staff_session.id,
        csrf_token=staff_session.csrf_token,
    )
