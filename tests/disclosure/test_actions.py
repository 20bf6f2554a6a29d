"""Disclosure actions on the database under test: the prosecution office's keys, sealing at
conversation start, requests, decisions with the passphrase, expiry, voluntary identity and
the retention purge (with a controlled clock)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from confide.audit.models import AuditEvent
from confide.conversations import actions as conversation_actions
from confide.conversations.errors import ConversationClosed
from confide.conversations.models import Conversation
from confide.db import utcnow
from confide.disclosure import actions, queries
from confide.disclosure.errors import (
    IdentityInvalid,
    NothingToOpen,
    PassphraseInvalid,
    ProsecutorKeyExists,
    RefusalReasonMissing,
    RequestAlreadyPending,
    RequestInvalid,
    RequestNotPending,
    WrongPassphrase,
)
from confide.disclosure.models import (
    DisclosureRequest,
    ProsecutorKey,
    SealedMetadata,
    VoluntaryIdentity,
)
from confide.disclosure.schemas import ConnectionInfo, RequestStatus
from confide.errors import PermissionDenied
from confide.runtime import Runtime
from confide.security import crypto
from confide.staff.schemas import StaffIdentity
from tests.casework.helpers import QUALIFICATION
from tests.conftest import PROSECUTOR_PASSPHRASE, Persona

VISITOR_IP = "198.51.100.23"
CONNECTION = ConnectionInfo(ip=VISITOR_IP, port=51234, user_agent="Mozilla/5.0 (test)")


def identity(persona: Persona) -> StaffIdentity:
    return StaffIdentity(persona.id, persona.username, persona.username, persona.role, 0, "")


async def start(rt: Runtime, connection: ConnectionInfo | None = CONNECTION) -> Conversation:
    conversation, _ = await conversation_actions.start_conversation(
        rt,
        channel="domestic",
        visitor_role="victim",
        postcode="75011",
        lang="fr",
        connection=connection,
    )
    return conversation


async def active_conversation(rt: Runtime, officer: Persona) -> Conversation:
    conversation = await start(rt)
    await conversation_actions.take_conversation(
        rt, staff=identity(officer), conversation_id=conversation.id
    )
    return conversation


async def audit_actions(rt: Runtime, conversation_id: str) -> list[str]:
    async with rt.reading() as session:
        rows = await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.conversation_id == conversation_id)
            .order_by(AuditEvent.id)
        )
        return list(rows)


async def request_for(rt: Runtime, officer: Persona, reason: str = "immediate_danger") -> int:
    conversation = await active_conversation(rt, officer)
    request = await actions.request_disclosure(
        rt,
        staff=identity(officer),
        conversation_id=conversation.id,
        reason=reason,
        justification="Elle dit qu'il revient ce soir avec une arme.",
    )
    return request.id


# ---- keys and sealing ------------------------------------------------------------------------


async def test_started_conversation_keeps_only_a_ciphertext_sealed_to_the_current_key(
    rt: Runtime, prosecutor_key: int
) -> None:
    conversation = await start(rt)
    async with rt.reading() as session:
        sealed = await session.get(SealedMetadata, conversation.id)
        key = await session.get(ProsecutorKey, prosecutor_key)
    assert sealed is not None
    assert key is not None
    assert sealed.key_id == prosecutor_key
    assert VISITOR_IP.encode() not in sealed.ciphertext
    assert PROSECUTOR_PASSPHRASE.encode() not in key.protected_private_key
    # Only the passphrase opens it; the server's own secrets do not.
    private = crypto.unprotect_with_passphrase(key.protected_private_key, PROSECUTOR_PASSPHRASE)
    opened = json.loads(crypto.open_sealed(private, sealed.ciphertext))
    assert opened["ip"] == VISITOR_IP
    assert opened["port"] == 51234
    assert opened["user_agent"] == "Mozilla/5.0 (test)"
    assert opened["at"].endswith("Z")
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(rt.secrets.master_key, sealed.ciphertext)
    with pytest.raises(crypto.WrongPassphrase):
        crypto.unprotect_with_passphrase(key.protected_private_key, "not the passphrase")


async def test_rotation_seals_new_conversations_to_the_new_key_and_keeps_old_ones_openable(
    rt: Runtime, prosecutor_key: int
) -> None:
    before = await start(rt)
    rotated = await actions.create_prosecutor_key(rt, passphrase="another passphrase!", rotate=True)
    after = await start(rt)
    async with rt.reading() as session:
        old = await session.get(ProsecutorKey, prosecutor_key)
        sealed_before = await session.get(SealedMetadata, before.id)
        sealed_after = await session.get(SealedMetadata, after.id)
        current = await queries.current_key(session)
    assert old is not None
    assert old.retired_at is not None
    assert current is not None
    assert current.id == rotated.id
    assert sealed_before is not None
    assert sealed_after is not None
    assert (sealed_before.key_id, sealed_after.key_id) == (prosecutor_key, rotated.id)
    private = crypto.unprotect_with_passphrase(old.protected_private_key, PROSECUTOR_PASSPHRASE)
    assert json.loads(crypto.open_sealed(private, sealed_before.ciphertext))["ip"] == VISITOR_IP


async def test_init_refuses_a_second_key_and_short_passphrases(
    rt: Runtime, prosecutor_key: int
) -> None:
    with pytest.raises(ProsecutorKeyExists):
        await actions.create_prosecutor_key(rt, passphrase=PROSECUTOR_PASSPHRASE, rotate=False)
    with pytest.raises(PassphraseInvalid):
        await actions.create_prosecutor_key(rt, passphrase="short", rotate=True)


async def test_without_a_key_conversations_still_start_and_one_warning_is_logged(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def no_key(_session: object) -> None:
        return None

    monkeypatch.setattr(queries, "current_key", no_key)
    monkeypatch.setattr(actions, "_warned_no_key", False)
    with caplog.at_level(logging.WARNING, logger="confide.disclosure.actions"):
        first = await start(rt)
        await start(rt)
    async with rt.reading() as session:
        assert await session.get(SealedMetadata, first.id) is None
    warnings = [r for r in caplog.records if "no prosecution office key" in r.getMessage()]
    assert len(warnings) == 1
    assert VISITOR_IP not in caplog.text


# ---- requests and decisions --------------------------------------------------------------------


async def test_approval_opens_the_one_ciphertext_and_shows_it_to_requester_and_prosecutor(
    rt: Runtime,
    prosecutor_key: int,
    officer_paris: Persona,
    prosecutor: Persona,
    officer_national: Persona,
) -> None:
    request_id = await request_for(rt, officer_paris)
    officer, decider = identity(officer_paris), identity(prosecutor)
    assert await actions.view_revealed(rt, staff=officer, request_id=request_id) is None
    with pytest.raises(WrongPassphrase):
        await actions.approve(rt, staff=decider, request_id=request_id, passphrase="wrong one!!!")
    with pytest.raises(PermissionDenied):
        await actions.approve(
            rt, staff=officer, request_id=request_id, passphrase=PROSECUTOR_PASSPHRASE
        )
    opened = await actions.approve(
        rt, staff=decider, request_id=request_id, passphrase=PROSECUTOR_PASSPHRASE
    )
    assert opened.ip == VISITOR_IP
    for viewer in (officer, decider):
        shown = await actions.view_revealed(rt, staff=viewer, request_id=request_id)
        assert shown is not None
        assert (shown.ip, shown.port) == (VISITOR_IP, 51234)
    with pytest.raises(PermissionDenied):
        await actions.view_revealed(rt, staff=identity(officer_national), request_id=request_id)
    with pytest.raises(RequestNotPending):
        await actions.refuse(rt, staff=decider, request_id=request_id, reason="too late")
    async with rt.reading() as session:
        row = await session.get(DisclosureRequest, request_id)
    assert row is not None
    assert row.status == RequestStatus.APPROVED
    assert row.revealed is not None
    assert VISITOR_IP.encode() not in row.revealed
    assert row.reveal_until == row.decided_at + timedelta(hours=24)  # type: ignore[operator]
    assert await audit_actions(rt, row.conversation_id) == [
        "conversation.assigned",
        "disclosure.requested",
        "disclosure.approved",
        "disclosure.viewed",
        "disclosure.viewed",
    ]


async def test_refused_and_expired_requests_reveal_nothing(
    rt: Runtime, prosecutor_key: int, officer_paris: Persona, prosecutor: Persona
) -> None:
    officer, decider = identity(officer_paris), identity(prosecutor)
    refused = await request_for(rt, officer_paris, "suspected_minor")
    with pytest.raises(RefusalReasonMissing):
        await actions.refuse(rt, staff=decider, request_id=refused, reason="  ")
    await actions.refuse(rt, staff=decider, request_id=refused, reason="Pas d'élément de danger.")
    assert await actions.view_revealed(rt, staff=officer, request_id=refused) is None
    with pytest.raises(RequestNotPending):
        await actions.approve(
            rt, staff=decider, request_id=refused, passphrase=PROSECUTOR_PASSPHRASE
        )
    async with rt.reading() as session:
        views = await queries.request_views(session, rt.keyring, request_id=refused)
    assert views[0].refusal == "Pas d'élément de danger."
    assert views[0].status == RequestStatus.REFUSED

    expired = await request_for(rt, officer_paris)
    await actions.approve(rt, staff=decider, request_id=expired, passphrase=PROSECUTOR_PASSPHRASE)
    later = replace(rt, clock=lambda: utcnow() + timedelta(hours=25))
    assert await actions.view_revealed(later, staff=officer, request_id=expired) is None
    async with rt.reading() as session:
        row = await session.get(DisclosureRequest, expired)
    assert row is not None
    assert (row.status, row.revealed) == (RequestStatus.EXPIRED, None)


async def test_only_the_assigned_officer_may_request_once_with_a_reason(
    rt: Runtime, officer_paris: Persona, officer_national: Persona, psychologist: Persona
) -> None:
    conversation = await active_conversation(rt, officer_paris)
    officer = identity(officer_paris)
    for reason, justification in (("curiosity", "because"), ("immediate_danger", "  ")):
        with pytest.raises(RequestInvalid):
            await actions.request_disclosure(
                rt,
                staff=officer,
                conversation_id=conversation.id,
                reason=reason,
                justification=justification,
            )
    for other in (officer_national, psychologist):
        with pytest.raises(PermissionDenied):
            await actions.request_disclosure(
                rt,
                staff=identity(other),
                conversation_id=conversation.id,
                reason="immediate_danger",
                justification="danger",
            )
    await actions.request_disclosure(
        rt,
        staff=officer,
        conversation_id=conversation.id,
        reason="immediate_danger",
        justification="x",
    )
    with pytest.raises(RequestAlreadyPending):
        await actions.request_disclosure(
            rt,
            staff=officer,
            conversation_id=conversation.id,
            reason="suspected_minor",
            justification="y",
        )


async def test_pending_requests_are_listed_most_urgent_first(
    rt: Runtime, officer_paris: Persona
) -> None:
    minor = await request_for(rt, officer_paris, "suspected_minor")
    danger = await request_for(rt, officer_paris, "immediate_danger")
    async with rt.reading() as session:
        pending = await queries.request_views(session, rt.keyring, pending_only=True)
    ids = [view.id for view in pending]
    assert ids.index(danger) < ids.index(minor)
    assert all(v.status == RequestStatus.PENDING for v in pending)
    reasons = [v.reason for v in pending]
    assert reasons == sorted(reasons, key=lambda r: r != "immediate_danger")
    assert next(v for v in pending if v.id == danger).justification.startswith("Elle dit")


async def test_approval_without_sealed_data_opens_nothing(
    rt: Runtime, officer_paris: Persona, prosecutor: Persona
) -> None:
    conversation = await start(rt, connection=None)
    await conversation_actions.take_conversation(
        rt, staff=identity(officer_paris), conversation_id=conversation.id
    )
    request = await actions.request_disclosure(
        rt,
        staff=identity(officer_paris),
        conversation_id=conversation.id,
        reason="immediate_danger",
        justification="danger",
    )
    with pytest.raises(NothingToOpen):
        await actions.approve(
            rt, staff=identity(prosecutor), request_id=request.id, passphrase="whatever it is"
        )


# ---- voluntary identity -------------------------------------------------------------------------


async def test_identity_is_stored_encrypted_shown_to_the_assigned_officer_and_withdrawable(
    rt: Runtime, officer_paris: Persona, officer_national: Persona
) -> None:
    conversation = await active_conversation(rt, officer_paris)
    fields = {"name": "Camille Martin", "phone": "06 12 34 56 78", "email": "", "extra": "x"}
    with pytest.raises(IdentityInvalid):
        await actions.give_identity(rt, conversation_id=conversation.id, fields={"name": " "})
    with pytest.raises(IdentityInvalid):
        await actions.give_identity(rt, conversation_id=conversation.id, fields={"name": "x" * 201})
    await actions.give_identity(rt, conversation_id=conversation.id, fields=fields)
    async with rt.reading() as session:
        row = await session.get(VoluntaryIdentity, conversation.id)
    assert row is not None
    assert b"Camille" not in row.ciphertext
    shown = await actions.view_identity(
        rt, staff=identity(officer_paris), conversation_id=conversation.id
    )
    assert shown == {"name": "Camille Martin", "phone": "06 12 34 56 78"}
    with pytest.raises(PermissionDenied):
        await actions.view_identity(
            rt, staff=identity(officer_national), conversation_id=conversation.id
        )
    assert "identity.viewed" in await audit_actions(rt, conversation.id)
    await actions.withdraw_identity(rt, conversation_id=conversation.id)
    assert (
        await actions.view_identity(
            rt, staff=identity(officer_paris), conversation_id=conversation.id
        )
        is None
    )
    await conversation_actions.close_conversation(
        rt,
        staff=identity(officer_paris),
        conversation_id=conversation.id,
        qualification=QUALIFICATION,
    )
    with pytest.raises(ConversationClosed):
        await actions.give_identity(rt, conversation_id=conversation.id, fields={"name": "A"})
