"""Every change to a conversation: start, send, take, close, leave and erase.

Each action validates, changes the database in one transaction, records staff actions in the
audit log, and publishes to the bus only after commit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

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
from confide.db import sqlite_datetime, sqlite_datetime_value
from confide.disclosure.actions import seal_connection
from confide.disclosure.schemas import ConnectionInfo
from confide.errors import DomainError, PermissionDenied
from confide.handoff import queries as handoff_queries
from confide.handoff.models import ConversationParticipant
from confide.i18n import N_
from confide.routing import postcodes
from confide.routing.capacity import reserve_slot
from confide.runtime import BatchTx, Runtime, Tx
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
        who joined it as members (a supervisor, `handoff`) may call it; observers may not.
        Idempotent per `client_id`: a resend returns the stored message and publishes nothing.

        The hot path of the realtime service: on a SQLite file it is group-committed with the
        other sockets' messages (`Runtime.group_commit`, one transaction and one thread hop per
        batch); on PostgreSQL it is one transaction of two statements (`_send`).
    >>>>>>> perf
    """
    body = check_body(rt, body)
    client_id = check_client_id(client_id)
    if rt.group_commit is not None:
        return await rt.group_commit.submit(
            lambda tx: _send_sqlite(tx, conversation_id, author, client_id, body, kind)
        )
    try:
        for attempt in (1, 2):
            try:
                async with rt.transaction() as tx:
                    return await _send(
                        tx, conversation_id, author, client_id, body, kind, sqlite=rt.db.is_sqlite
                    )
            except DBAPIError as exc:
                # A pooled connection found dead (the database restarted): the pool has
                # been emptied, try once more on a fresh connection (idempotent by client_id).
                if not exc.connection_invalidated or attempt == 2:
                    raise
        raise AssertionError("unreachable")
    except (IntegrityError, _AlreadyStored):
        # A resend (its client_id is stored), or two sockets raced with the same client_id:
        # the transaction is rolled back and the stored message answered.
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


def _needs_membership(status: str, assigned_staff_id: int | None, author: Author) -> bool:
    """Staff not in charge of an active conversation may write only as a member who joined."""
    return author.kind != AuthorKind.VISITOR and (
        status != Status.ACTIVE or assigned_staff_id != author.staff_id
    )


def _check_may_send(
    status: str,
    assigned_staff_id: int | None,
    author: Author,
    kind: MessageKind,
    participation: str | None = None,
) -> None:
    """Who may write a new message (checked after the resend check: a resend is always
    answered with the stored message). `participation`: the author's current mode in the
    conversation (`handoff.queries.ParticipantMode`), looked up only when `_needs_membership`."""
    if status not in OPEN_STATUSES:
        raise ConversationClosed()
    if _needs_membership(status, assigned_staff_id, author):
        if status == Status.ACTIVE and participation == handoff_queries.ParticipantMode.MEMBER:
            pass
        elif status == Status.ACTIVE and participation is not None:
            raise PermissionDenied(
                N_("You are following this conversation as an observer: you cannot write in it.")
            )
        else:
            raise PermissionDenied(
                N_("Only the staff member in charge of this conversation can write in it.")
            )
    if kind != MessageKind.TEXT and author.kind == AuthorKind.VISITOR:
        raise PermissionDenied()


_participants: Table = ConversationParticipant.__table__  # type: ignore[assignment]
_PARTICIPATION = (
    select(_participants.c.mode)
    .where(
        _participants.c.conversation_id == bindparam("p_id"),
        _participants.c.staff_id == bindparam("p_staff_id"),
        _participants.c.left_at.is_(None),
    )
    .order_by(_participants.c.id.desc())
    .limit(1)
)
_SQLITE_PARTICIPATION = (
    "SELECT mode FROM conversation_participants"
    " WHERE conversation_id = ? AND staff_id = ? AND left_at IS NULL"
    " ORDER BY id DESC LIMIT 1"
)


class _AlreadyStored(Exception):
    """This client_id is already stored in the conversation: roll back, answer the stored one."""


_conversations: Table = Conversation.__table__  # type: ignore[assignment]
_messages: Table = Message.__table__  # type: ignore[assignment]
# Built once (Core, bound parameters): the hot path only binds values.
_BUMP = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("b_id"))
    .values(last_seq=_conversations.c.last_seq + 1)
    .returning(
        _conversations.c.last_seq,
        _conversations.c.status,
        _conversations.c.assigned_staff_id,
        _conversations.c.wrapped_key,
    )
)
_STORED = select(_messages.c.id).where(
    _messages.c.conversation_id == bindparam("s_id"),
    _messages.c.client_id == bindparam("s_client_id"),
)
_INSERT_VALUES: dict[str, Any] = {
    "conversation_id": bindparam("i_conversation_id"),
    "seq": bindparam("i_seq"),
    "author_kind": bindparam("i_author_kind"),
    "author_staff_id": bindparam("i_author_staff_id"),
    "client_id": bindparam("i_client_id"),
    "ciphertext": bindparam("i_ciphertext"),
    "kind": bindparam("i_kind"),
    "created_at": bindparam("i_created_at"),
}
_INSERT = {
    sqlite: insert(_messages)
    .values(_INSERT_VALUES)
    .on_conflict_do_nothing(index_elements=["conversation_id", "client_id"])
    .returning(_messages.c.id)
    for sqlite, insert in ((False, pg_insert), (True, sqlite_insert))
}


async def _send(
    tx: Tx,
    conversation_id: str,
    author: Author,
    client_id: str,
    body: str,
    kind: MessageKind,
    *,
    sqlite: bool = False,
) -> Sent:
    """PostgreSQL (and in-memory SQLite): take the next number and lock the conversation's
    row in one statement (the row lock serialises writers of this conversation), then insert
    unless the client_id is already stored. Two statements, no ORM flush."""
    connection = await tx.session.connection()
    bumped = (await connection.execute(_BUMP, {"b_id": conversation_id})).first()
    if bumped is None:
        raise ConversationNotFound()
    seq, status, assigned_staff_id, wrapped_key = bumped
    participation = (
        await connection.scalar(
            _PARTICIPATION, {"p_id": conversation_id, "p_staff_id": author.staff_id}
        )
        if _needs_membership(status, assigned_staff_id, author)
        else None
    )
    try:
        _check_may_send(status, assigned_staff_id, author, MessageKind(kind), participation)
    except DomainError:
        # A resend is answered with the stored message whatever the conversation became.
        stored = await connection.scalar(
            _STORED, {"s_id": conversation_id, "s_client_id": client_id}
        )
        if stored is not None:
            raise _AlreadyStored() from None
        raise
    key = queries.data_key(tx.keyring, bytes(wrapped_key))
    inserted = await connection.scalar(
        _INSERT[sqlite],
        {
            "i_conversation_id": conversation_id,
            "i_seq": seq,
            "i_author_kind": str(author.kind),
            "i_author_staff_id": author.staff_id,
            "i_client_id": client_id,
            "i_ciphertext": encrypt_text(key, body),
            "i_kind": None if kind == MessageKind.TEXT else str(kind),
            "i_created_at": tx.now,
        },
    )
    if inserted is None:
        raise _AlreadyStored()
    return _stored(tx, conversation_id, seq, author, body, client_id, kind)


def _stored(
    tx: Tx | BatchTx,
    conversation_id: str,
    seq: int,
    author: Author,
    body: str,
    client_id: str,
    kind: MessageKind,
) -> Sent:
    """A new message just stored: published (plaintext, transport only) after commit."""
    out = MessageOut(
        conversation_id=conversation_id,
        seq=seq,
        author=author.kind,
        body=body,
        at=tx.now,
        client_id=client_id,
        kind=kind,
    )
    tx.publish_on_commit(conversation_topic(conversation_id), out.frame(with_conversation=True))
    return Sent(out, created=True)


_SQLITE_LOOKUP = (
    "SELECT c.status, c.assigned_staff_id, c.wrapped_key, c.last_seq,"
    " m.seq, m.author_kind, m.ciphertext, m.kind, m.created_at"
    " FROM conversations AS c LEFT JOIN messages AS m"
    " ON m.conversation_id = c.id AND m.client_id = ?"
    " WHERE c.id = ?"
)
_SQLITE_BUMP = "UPDATE conversations SET last_seq = ? WHERE id = ?"
_SQLITE_INSERT = (
    "INSERT INTO messages (conversation_id, seq, author_kind, author_staff_id, client_id,"
    " ciphertext, kind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _send_sqlite(
    tx: BatchTx,
    conversation_id: str,
    author: Author,
    client_id: str,
    body: str,
    kind: MessageKind,
) -> Sent:
    """SQLite (writer thread, inside a group commit that holds the write lock): the same
    rules as `_send`, three statements on the raw connection."""
    connection = tx.connection
    row = connection.execute(_SQLITE_LOOKUP, (client_id, conversation_id)).fetchone()
    if row is None:
        raise ConversationNotFound()
    status, assigned_staff_id, wrapped_key, last_seq, stored_seq = row[:5]
    if stored_seq is not None:
        stored = Message(
            conversation_id=conversation_id,
            seq=stored_seq,
            author_kind=row[5],
            client_id=client_id,
            ciphertext=row[6],
            kind=row[7],
            created_at=sqlite_datetime(row[8]),
        )
        key = queries.data_key(tx.keyring, bytes(wrapped_key))
        return Sent(queries.message_out(stored, key), created=False)
    participation = None
    if _needs_membership(status, assigned_staff_id, author):
        found = connection.execute(
            _SQLITE_PARTICIPATION, (conversation_id, author.staff_id)
        ).fetchone()
        participation = found[0] if found else None
    _check_may_send(status, assigned_staff_id, author, MessageKind(kind), participation)
    key = queries.data_key(tx.keyring, bytes(wrapped_key))
    seq = last_seq + 1
    connection.execute(_SQLITE_BUMP, (seq, conversation_id))
    connection.execute(
        _SQLITE_INSERT,
        (
            conversation_id,
            seq,
            str(author.kind),
            author.staff_id,
            client_id,
            encrypt_text(key, body),
            None if kind == MessageKind.TEXT else str(kind),
            sqlite_datetime_value(tx.now),
        ),
    )
    return _stored(tx, conversation_id, seq, author, body, client_id, kind)


async def send_card(
    rt: Runtime,
    *,
    staff: StaffIdentity,
    conversation_id: str,
    kind: MessageKind,
    card: dict[str, Any],
    client_id: str | None,
    audit: AuditAction,
    detail: dict[str, Any],
) -> MessageOut:
    """A card from a staff member (a resource, a guidance card): a message of `kind` whose
    body is the card as JSON, encrypted and sequenced like any message (`send_message`:
    the staff member in charge only; idempotent per `client_id`). Audited as `audit` with
    `detail` once, not again on a resend."""
    sent = await send_message(
        rt,
        conversation_id=conversation_id,
        author=Author(AuthorKind(staff.role), staff.id),
        client_id=client_id or str(uuid.uuid4()),
        body=json.dumps(card, ensure_ascii=False, separators=(",", ":")),
        kind=kind,
    )
    if sent.created:
        async with rt.transaction() as tx:
            await record(
                tx, audit, actor_staff_id=staff.id, conversation_id=conversation_id, detail=detail
            )
    return sent.message


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
