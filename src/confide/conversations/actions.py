"""Every change to a conversation: start, send, take, close, leave and erase.

Each action validates, changes the database in one transaction, records staff actions in the
audit log, and publishes to the bus only after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from confide.audit.actions import AuditAction, record
from confide.casework.models import ConversationOutcome
from confide.casework.schemas import Outcome, Qualification
from confide.conversations import queries
from confide.conversations.errors import (
    AlreadyTaken,
    ClientIdInvalid,
    ConversationClosed,
    ConversationInvalid,
    ConversationNotFound,
    MessageEmpty,
    MessageTooLong,
    PostcodeInvalid,
    TokenInvalid,
)
from confide.conversations.models import Conversation, Message
from confide.conversations.schemas import (
    OPEN_STATUSES,
    Author,
    AuthorKind,
    Channel,
    MessageKind,
    MessageOut,
    Status,
    SystemEvent,
    VisitorRole,
)
from confide.disclosure.actions import seal_connection
from confide.disclosure.schemas import ConnectionInfo
from confide.errors import PermissionDenied
from confide.handoff import queries as handoff_queries
from confide.i18n import N_
from confide.routing import postcodes
from confide.routing.capacity import reserve_slot
from confide.runtime import Runtime, Tx
from confide.security import crypto
from confide.security.keyring import encrypt_text
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity

QUEUE_TOPIC = "queue"
SUPPORTED_LANGS = ("fr", "en")


def conversation_topic(conversation_id: str) -> str:
    return f"conv:{conversation_id}"


def staff_topic(staff_id: int) -> str:
    """Events for one staff member's consoles (a conversation handed to them or taken away)."""
    return f"staff:{staff_id}"


async def start_conversation(
    rt: Runtime,
    *,
    channel: str,
    visitor_role: str,
    postcode: str,
    lang: str,
    connection: ConnectionInfo | None = None,
) -> tuple[Conversation, str]:
    """Open a waiting conversation for an anonymous visitor; returns it and the visitor's token.

    Public (no account). Only the token's digest is stored. Any well-formed postal code is
    accepted, real or not: an unknown one goes to the national queue. `connection` (address,
    port, browser) is sealed to the prosecution office in the same transaction, never kept
    in clear; without a prosecution office key nothing is kept and the visitor is not failed.
    """
    try:
        channel_value, role_value = Channel(channel), VisitorRole(visitor_role)
    except ValueError:
        raise ConversationInvalid() from None
    try:
        area = postcodes.lookup(postcodes.normalize_postcode(postcode))
    except postcodes.PostcodeInvalid:
        raise PostcodeInvalid() from None
    token = crypto.new_token()
    _, wrapped_key = rt.keyring.new_data_key()
    async with rt.transaction() as tx:
        conversation = Conversation(
            id=uuid.uuid4().hex,
            channel=channel_value,
            visitor_role=role_value,
            postcode=area.postcode,
            departement=area.departements[0] if area.departements else "",
            departements=" ".join(area.departements),
            lang=lang if lang in SUPPORTED_LANGS else rt.settings.default_lang,
            status=Status.WAITING,
            priority=0,
            token_digest=crypto.token_digest(token, rt.secrets.token_pepper),
            last_seq=0,
            created_at=tx.now,
            waiting_since=tx.now,
            wrapped_key=wrapped_key,
        )
        tx.session.add(conversation)
        if connection is not None:
            await tx.session.flush()
            await seal_connection(tx, conversation_id=conversation.id, connection=connection)
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return conversation, token


async def conversation_for_token(rt: Runtime, token: str) -> Conversation:
    """The conversation a visitor token opens; raises `TokenInvalid` (forged, erased, unknown)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise TokenInvalid()
    async with rt.reading() as session:
        conversation = await queries.by_token_digest(
            session, crypto.token_digest(token, rt.secrets.token_pepper)
        )
    if conversation is None:
        raise TokenInvalid()
    return conversation


def check_body(rt: Runtime, body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise MessageEmpty()
    if len(body) > rt.settings.message_max_chars:
        raise MessageTooLong()
    return body


def check_client_id(client_id: object) -> str:
    try:
        return str(uuid.UUID(str(client_id)))
    except ValueError:
        raise ClientIdInvalid() from None


@dataclass(frozen=True)
class Sent:
    message: MessageOut
    #: False when the same client_id had already been stored (a resend after a lost ack).
    created: bool


async def send_message(
    rt: Runtime,
    *,
    conversation_id: str,
    author: Author,
    client_id: str,
    body: str,
    kind: MessageKind = MessageKind.TEXT,
) -> Sent:
    """Store a message with the conversation's next sequence number, then publish it.

    Visitors (through their token), the staff member assigned to the conversation and staff
    who joined it as members (`handoff`) may call it; observers may not. Idempotent per `client_id`: a resend returns the stored message and publishes nothing.
    """
    body = check_body(rt, body)
    client_id = check_client_id(client_id)
    try:
        async with rt.transaction() as tx:
            # The row lock serialises writers of this conversation, so the check below sees
            # a concurrent resend of the same client_id once it has committed.
            conversation = await _lock(tx, conversation_id)
            existing = await _by_client_id(tx, conversation, client_id)
            if existing is not None:
                return Sent(existing, created=False)
            if conversation.status not in OPEN_STATUSES:
                raise ConversationClosed()
            if author.kind != AuthorKind.VISITOR and (
                conversation.status != Status.ACTIVE
                or conversation.assigned_staff_id != author.staff_id
            ):
                await _check_member(tx, conversation, author)
            if kind != MessageKind.TEXT and author.kind == AuthorKind.VISITOR:
                raise PermissionDenied()
            message = await _append(tx, conversation, author, body, client_id, kind)
    except IntegrityError:
        # Two sockets raced with the same client_id: the other one stored it.
        async with rt.reading() as session:
            row = await session.scalar(
                select(Message).where(
                    Message.conversation_id == conversation_id, Message.client_id == client_id
                )
            )
            if row is None:
                raise
            key = await queries.conversation_key(session, rt.keyring, conversation_id)
        return Sent(queries.message_out(row, key), created=False)
    return Sent(message, created=True)


async def mark_read(rt: Runtime, *, conversation_id: str, reader: Author, seq: int) -> int | None:
    """Record that one side has read up to `seq` and tell the other side.

    The visitor (through their token) or the staff member in charge; an observer reading
    does not count. Only moves forward and never past the last message; returns the new
    read position, or None when nothing changed (no publication then)."""
    if seq < 1:
        return None
    visitor = reader.kind == AuthorKind.VISITOR
    column = Conversation.visitor_read_seq if visitor else Conversation.staff_read_seq
    condition = [
        Conversation.id == conversation_id,
        column < seq,
        Conversation.last_seq >= seq,
        Conversation.status.in_(OPEN_STATUSES),
    ]
    if not visitor:
        condition.append(Conversation.assigned_staff_id == reader.staff_id)
    async with rt.transaction() as tx:
        result = await tx.session.execute(
            update(Conversation).where(*condition).values({column: seq})
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        tx.publish_on_commit(
            conversation_topic(conversation_id),
            {"type": "read", "by": "visitor" if visitor else "staff", "seq": seq},
        )
    return seq


async def take_conversation(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> Conversation:
    """Assign a waiting conversation to the calling staff member (atomic: one winner).

    Needs `staff:conversation:take`; refused with `AtCapacity` when the staff member already
    has as many conversations as their capacity. Audited as `conversation.assigned`; the
    visitor is told.
    """
    if not staff.can(Permission.CONVERSATION_TAKE):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        result = await tx.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status == Status.WAITING)
            .values(status=Status.ACTIVE, assigned_staff_id=staff.id, assigned_at=tx.now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            exists = await tx.session.get(Conversation, conversation_id)
            if exists is None:
                raise ConversationNotFound()
            raise AlreadyTaken() if exists.status == Status.ACTIVE else ConversationClosed()
        await reserve_slot(tx, staff.id, rt.settings.routing_default_capacity)
        conversation = await _lock(tx, conversation_id)
        await record(
            tx,
            AuditAction.CONVERSATION_ASSIGNED,
            actor_staff_id=staff.id,
            conversation_id=conversation_id,
        )
        await append_system(tx, conversation, SystemEvent.joined(staff.role))

        tx.publish_on_commit(
            conversation_topic(conversation_id),
            {"type": "assigned", "role": staff.role, "display_name": staff.display_name},
        )
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
    return conversation


async def open_for_staff(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> Conversation:
    """The only way staff get a conversation: checks access and records the read in the audit log.

    The assigned staff member may open it; others need `staff:conversation:read_all`, or to
    follow it (observer or member), or to be a psychologist while a hand-off is pending.
    """
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if (
            conversation.assigned_staff_id != staff.id
            and not staff.can(Permission.CONVERSATION_READ_ALL)
            and not await handoff_queries.may_follow(
                tx.session,
                conversation_id,
                staff.id,
                psychologist=staff.can(Permission.HANDOFF_ACCEPT),
            )
        ):
            raise PermissionDenied()
        await record(
            tx,
            AuditAction.CONVERSATION_READ,
            actor_staff_id=staff.id,
            conversation_id=conversation_id,
        )
    return conversation


async def close_conversation(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, qualification: Qualification
) -> None:
    """Close an active conversation with its qualification (confirmed chat type, offence
    suspected, outcomes), stored in `conversation_outcomes` in the same transaction: the only
    place that closes. The assigned staff member only. Audited as `conversation.closed` with
    the qualification (codes only) in the detail."""
    async with rt.transaction() as tx:
        conversation = await _lock(tx, conversation_id)
        if conversation.assigned_staff_id != staff.id or not staff.can(
            Permission.CONVERSATION_CLOSE
        ):
            raise PermissionDenied()
        if conversation.status != Status.ACTIVE:
            raise ConversationClosed()
        await _append(tx, conversation, Author(AuthorKind.SYSTEM), SystemEvent.CLOSED, None)
        conversation.status = Status.CLOSED
        conversation.closed_at = tx.now
        # A conversation is closed once; a row left by an earlier close would be replaced.
        outcome = await tx.session.get(ConversationOutcome, conversation_id)
        if outcome is None:
            outcome = ConversationOutcome(conversation_id=conversation_id)
            tx.session.add(outcome)
        outcome.channel = qualification.channel.value
        outcome.offence = qualification.offence.value
        for value in Outcome:
            setattr(outcome, value.value, value in qualification.outcomes)
        outcome.closed_by = staff.id
        outcome.closed_at = tx.now
        await record(
            tx,
            AuditAction.CONVERSATION_CLOSED,
            actor_staff_id=staff.id,
            conversation_id=conversation_id,
            detail={"qualification": qualification.as_detail()},
        )
        tx.publish_on_commit(conversation_topic(conversation_id), {"type": "closed"})
        # A slot is free: the assignment engine hands out the next conversation.
        tx.publish_on_commit(QUEUE_TOPIC, {"type": "slot_freed"})


async def visitor_leaves(rt: Runtime, *, token: str, erase: bool) -> None:
    """Quick exit or erase, from the visitor's token.

    A waiting conversation is abandoned; an active one stays with the officer, who is told.
    With `erase`, the token is unlinked so that nothing on the device can reopen it.
    Unknown tokens are ignored silently: the visitor is gone either way.
    """
    digest = crypto.token_digest(token, rt.secrets.token_pepper)
    async with rt.transaction() as tx:
        conversation = await tx.session.scalar(
            select(Conversation).where(Conversation.token_digest == digest)
        )
        if conversation is None:
            return
        if conversation.status in OPEN_STATUSES:
            event = SystemEvent.VISITOR_ERASED if erase else SystemEvent.VISITOR_LEFT
            if conversation.status == Status.WAITING:
                conversation.status = Status.ABANDONED
                conversation.closed_at = tx.now
                tx.publish_on_commit(QUEUE_TOPIC, {"type": "queue_changed"})
            await _append(tx, conversation, Author(AuthorKind.SYSTEM), event, None)
        if erase:
            conversation.token_digest = None
            if conversation.status in OPEN_STATUSES:
                conversation.status = Status.ERASED
                conversation.closed_at = tx.now
            tx.publish_on_commit(conversation_topic(conversation.id), {"type": "erased"})


async def _check_member(tx: Tx, conversation: Conversation, author: Author) -> None:
    """Staff not in charge may write only as a member who joined (a supervisor); observers
    and everyone else are refused."""
    joined = (
        await handoff_queries.participant(tx.session, conversation.id, author.staff_id)
        if author.staff_id is not None and conversation.status == Status.ACTIVE
        else None
    )
    if joined is not None and joined.mode == handoff_queries.ParticipantMode.MEMBER:
        return
    if joined is not None:
        raise PermissionDenied(
            N_("You are following this conversation as an observer: you cannot write in it.")
        )
    raise PermissionDenied(
        N_("Only the staff member in charge of this conversation can write in it.")
    )


async def _lock(tx: Tx, conversation_id: str) -> Conversation:
    conversation = await tx.session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    )
    if conversation is None:
        raise ConversationNotFound()
    return conversation


async def _by_client_id(tx: Tx, conversation: Conversation, client_id: str) -> MessageOut | None:
    row = await tx.session.scalar(
        select(Message).where(
            Message.conversation_id == conversation.id, Message.client_id == client_id
        )
    )
    return queries.message_out(row, queries.data_key(tx.keyring, conversation)) if row else None


async def append_system(tx: Tx, conversation: Conversation, event: SystemEvent) -> MessageOut:
    """A system message (shown in the reader's language); the conversation row is locked."""
    return await _append(tx, conversation, Author(AuthorKind.SYSTEM), event, None)


async def _append(
    tx: Tx,
    conversation: Conversation,
    author: Author,
    body: str,
    client_id: str | None,
    kind: MessageKind = MessageKind.TEXT,
) -> MessageOut:
    """Give the message the next sequence number (the conversation row is locked), store its
    body encrypted with the conversation's data key (cached: one encryption, no query) and
    queue its publication, with the plaintext (transport only), for after commit."""
    body = str(body)
    key = queries.data_key(tx.keyring, conversation)
    conversation.last_seq += 1
    message = Message(
        conversation_id=conversation.id,
        seq=conversation.last_seq,
        author_kind=author.kind,
        author_staff_id=author.staff_id,
        client_id=client_id,
        ciphertext=encrypt_text(key, body),
        kind=None if kind == MessageKind.TEXT else kind,
        created_at=tx.now,
    )
    tx.session.add(message)
    await tx.session.flush()
    out = queries.message_out(message, key, body=body)
    tx.publish_on_commit(conversation_topic(conversation.id), out.frame(with_conversation=True))
    return out


@dataclass(frozen=True)
class RewrapReport:
    rewrapped: int
    #: Conversations still under an older master key (wrapped meanwhile by a node that had
    #: not been restarted yet): run the command again with `--resume`.
    remaining: int


async def rewrap_conversation_keys(rt: Runtime, *, batch_size: int = 500) -> RewrapReport:
    """Wrap every conversation's data key under the current master key (`confide keys
    rotate-master`). Data keys do not change, so nothing else is re-encrypted.

    One transaction per batch, so the service keeps running meanwhile; a row is only
    replaced if it did not change since it was read. Operators only (command line)."""
    rewrapped, after = 0, ""
    while True:
        async with rt.transaction() as tx:
            rows = (
                await tx.session.execute(
                    select(Conversation.id, Conversation.wrapped_key)
                    .where(Conversation.id > after)
                    .order_by(Conversation.id)
                    .limit(batch_size)
                )
            ).all()
            for conversation_id, wrapped in rows:
                new = tx.keyring.rewrap(bytes(wrapped))
                if new is None:
                    continue
                result = await tx.session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.wrapped_key == wrapped)
                    .values(wrapped_key=new)
                )
                rewrapped += result.rowcount  # type: ignore[attr-defined]
        if len(rows) < batch_size:
            break
        after = rows[-1][0]
    remaining = 0
    async with rt.reading() as session:
        for (wrapped,) in await session.execute(select(Conversation.wrapped_key)):
            remaining += crypto.ciphertext_version(bytes(wrapped)) != rt.keyring.version
    return RewrapReport(rewrapped=rewrapped, remaining=remaining)
