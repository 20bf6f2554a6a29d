"""Every change in the disclosure domain: the prosecution office's keys, sealing connection
metadata, requests to lift anonymity and their decisions, the visitor's voluntary identity,
and the retention purge.

Connection metadata is sealed to the prosecution office's public key: the server can write it
but never read it back. Only an approved request, with the prosecutor's passphrase typed at
that moment, opens one ciphertext in memory; the private key is then forgotten.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from confide.audit.actions import AuditAction, record
from confide.conversations import queries as conversation_queries
from confide.conversations.errors import ConversationClosed, ConversationNotFound
from confide.conversations.models import Conversation
from confide.conversations.schemas import OPEN_STATUSES, Status
from confide.disclosure import queries
from confide.disclosure.errors import (
    IdentityInvalid,
    NothingToOpen,
    PassphraseInvalid,
    ProsecutorKeyExists,
    RefusalReasonMissing,
    RequestAlreadyPending,
    RequestInvalid,
    RequestNotFound,
    RequestNotPending,
    WrongPassphrase,
)
from confide.disclosure.models import (
    DisclosureRequest,
    ProsecutorKey,
    SealedMetadata,
    VoluntaryIdentity,
)
from confide.disclosure.schemas import (
    IDENTITY_FIELD_MAX,
    IDENTITY_FIELDS,
    JUSTIFICATION_MAX,
    ConnectionInfo,
    OpenedMetadata,
    Reason,
    RequestStatus,
    RequestView,
)
from confide.errors import PermissionDenied
from confide.runtime import Runtime, Tx
from confide.security import crypto
from confide.security.keyring import decrypt_text, encrypt_text
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity

log = logging.getLogger(__name__)
PASSPHRASE_MIN_CHARS = 12
USER_AGENT_MAX = 300
IDENTITY_TOPIC_EVENT = "identity_changed"
_warned_no_key = False


def _encrypt(rt: Runtime, purpose: str, conversation_id: str, plaintext: bytes) -> bytes:
    """Disclosure texts: under a key derived from the current master key for this purpose
    and conversation (the version byte names the master key, for rotation)."""
    return rt.keyring.encrypt_derived(purpose, conversation_id, plaintext)


# --------------------------------------------------------------------------- keys


async def create_prosecutor_key(rt: Runtime, *, passphrase: str, rotate: bool) -> ProsecutorKey:
    """Create the prosecution office's key pair (`confide keys init-prosecutor`), or a new one
    for new conversations (`rotate`). Old keys are kept, still under their passphrase, so
    that older ciphertexts stay openable. The passphrase is never stored.

    Operators only (command line). Audited as `disclosure.key_created`.
    """
    if len(passphrase) < PASSPHRASE_MIN_CHARS:
        raise PassphraseInvalid()
    public, private = crypto.new_keypair()
    protected = await asyncio.to_thread(
        crypto.protect_with_passphrase,
        private,
        passphrase,
        fast=rt.settings.prosecutor_kdf_fast,
    )
    del private
    async with rt.transaction() as tx:
        current = await queries.current_key(tx.session)
        if current is not None and not rotate:
            raise ProsecutorKeyExists()
        await tx.session.execute(
            update(ProsecutorKey)
            .where(ProsecutorKey.retired_at.is_(None))
            .values(retired_at=tx.now)
        )
        key = ProsecutorKey(
            public_key=public, protected_private_key=protected, created_at=tx.now, retired_at=None
        )
        tx.session.add(key)
        await tx.session.flush()
        await record(
            tx,
            AuditAction.DISCLOSURE_KEY_CREATED,
            actor_staff_id=None,
            actor_label="command line",
            detail={"key_id": key.id, "rotated": current is not None},
        )
    return key


async def seal_connection(tx: Tx, *, conversation_id: str, connection: ConnectionInfo) -> bool:
    """Seal where the visitor connected from to the current prosecution office key, inside
    the transaction that starts the conversation. Never fails the visitor: without a key (or
    with an unusable one) nothing is stored and a warning is logged once. True when sealed."""
    global _warned_no_key  # one warning per process, not one per visitor
    key = await queries.current_key(tx.session)
    if key is None:
        if not _warned_no_key:
            _warned_no_key = True
            log.warning(
                "no prosecution office key: connection metadata is not kept "
                "(run `confide keys init-prosecutor`)"
            )
        return False
    plaintext = json.dumps(
        {
            "ip": connection.ip,
            "port": connection.port,
            "user_agent": connection.user_agent[:USER_AGENT_MAX],
            "at": tx.now.isoformat(timespec="seconds") + "Z",
        },
        separators=(",", ":"),
    ).encode()
    try:
        ciphertext = crypto.seal(key.public_key, plaintext)
    except ValueError:
        log.error("the prosecution office public key %s is unusable", key.id)
        return False
    tx.session.add(
        SealedMetadata(
            conversation_id=conversation_id, key_id=key.id, ciphertext=ciphertext, created_at=tx.now
        )
    )
    return True


# --------------------------------------------------------------------------- requests


async def request_disclosure(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, reason: str, justification: str
) -> DisclosureRequest:
    """File a request to lift the anonymity of a conversation's visitor.

    The staff member assigned to the conversation, with `staff:disclosure:request`. One
    pending request per conversation. Audited as `disclosure.requested` (the reason only;
    the justification is stored encrypted).
    """
    if not staff.can(Permission.DISCLOSURE_REQUEST):
        raise PermissionDenied()
    try:
        reason_value = Reason(reason)
    except ValueError:
        raise RequestInvalid() from None
    justification = justification.strip()
    if not justification or len(justification) > JUSTIFICATION_MAX:
        raise RequestInvalid()
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if conversation.assigned_staff_id != staff.id:
            raise PermissionDenied()
        pending = await tx.session.scalar(
            select(DisclosureRequest.id).where(
                DisclosureRequest.conversation_id == conversation_id,
                DisclosureRequest.status == str(RequestStatus.PENDING),
            )
        )
        if pending is not None:
            raise RequestAlreadyPending()
        request = DisclosureRequest(
            conversation_id=conversation_id,
            requester_staff_id=staff.id,
            reason=str(reason_value),
            justification=_encrypt(
                rt, queries.JUSTIFICATION_KEY, conversation_id, justification.encode()
            ),
            status=str(RequestStatus.PENDING),
            created_at=tx.now,
        )
        tx.session.add(request)
        await tx.session.flush()
        await record(
            tx,
            AuditAction.DISCLOSURE_REQUESTED,
            actor_staff_id=staff.id,
            conversation_id=conversation_id,
            detail={"request_id": request.id, "reason": str(reason_value)},
        )
    return request


async def requests_of_conversation(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> list[RequestView]:
    """The requests about a conversation, for the staff member assigned to it or who filed
    one (status and texts only, never the connection data itself)."""
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        views = await queries.request_views(session, rt.keyring, conversation_id=conversation_id)
    if conversation.assigned_staff_id != staff.id and not any(
        v.requester_id == staff.id for v in views
    ):
        raise PermissionDenied()
    return views


async def request_for_decision(
    rt: Runtime, *, staff: StaffIdentity, request_id: int
) -> RequestView:
    """One request, for a prosecutor."""
    if not staff.can(Permission.DISCLOSURE_DECIDE):
        raise PermissionDenied()
    async with rt.reading() as session:
        views = await queries.request_views(session, rt.keyring, request_id=request_id)
    if not views:
        raise RequestNotFound()
    return views[0]


async def _pending_request(tx: Tx, request_id: int) -> DisclosureRequest:
    request = await tx.session.scalar(
        select(DisclosureRequest).where(DisclosureRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise RequestNotFound()
    if request.status != RequestStatus.PENDING:
        raise RequestNotPending()
    return request


async def approve(
    rt: Runtime, *, staff: StaffIdentity, request_id: int, passphrase: str
) -> OpenedMetadata:
    """Approve a request: the passphrase unlocks the prosecution office's private key in
    memory, which opens this one ciphertext and is then forgotten.

    Prosecutors (`prosecutor:disclosure:decide`). The opened metadata is kept encrypted under
    a server key for `disclosure_reveal_hours`, for the requester and this prosecutor.
    Audited as `disclosure.approved`. A wrong passphrase changes nothing.
    """
    if not staff.can(Permission.DISCLOSURE_DECIDE):
        raise PermissionDenied()
    async with rt.reading() as session:
        request = await session.get(DisclosureRequest, request_id)
        if request is None:
            raise RequestNotFound()
        if request.status != RequestStatus.PENDING:
            raise RequestNotPending()
        sealed = await queries.sealed_for(session, request.conversation_id)
        if sealed is None:
            raise NothingToOpen()
        key = await session.get(ProsecutorKey, sealed.key_id)
        assert key is not None  # foreign key
        conversation_id = request.conversation_id
        ciphertext, protected = sealed.ciphertext, key.protected_private_key
    # Argon2id takes about a second on purpose: in a thread, outside any transaction.
    try:
        private = await asyncio.to_thread(crypto.unprotect_with_passphrase, protected, passphrase)
    except crypto.WrongPassphrase:
        raise WrongPassphrase() from None
    try:
        opened = OpenedMetadata.from_json(crypto.open_sealed(private, ciphertext))
    finally:
        del private
    async with rt.transaction() as tx:
        request = await _pending_request(tx, request_id)
        request.status = str(RequestStatus.APPROVED)
        request.decided_at = tx.now
        request.decided_by_staff_id = staff.id
        request.revealed = _encrypt(rt, queries.REVEALED_KEY, conversation_id, opened.to_json())
        request.reveal_until = tx.now + timedelta(hours=rt.settings.disclosure_reveal_hours)
        await record(
            tx,
            AuditAction.DISCLOSURE_APPROVED,
            actor_staff_id=staff.id,
            conversation_id=conversation_id,
            detail={"request_id": request_id, "key_id": key.id},
        )
    return opened


async def refuse(rt: Runtime, *, staff: StaffIdentity, request_id: int, reason: str) -> None:
    """Refuse a request, with a reason given to the requester. Prosecutors only. Nothing is
    opened. Audited as `disclosure.refused` (the reason is stored encrypted)."""
    if not staff.can(Permission.DISCLOSURE_DECIDE):
        raise PermissionDenied()
    reason = reason.strip()
    if not reason or len(reason) > JUSTIFICATION_MAX:
        raise RefusalReasonMissing()
    async with rt.transaction() as tx:
        request = await _pending_request(tx, request_id)
        request.status = str(RequestStatus.REFUSED)
        request.decided_at = tx.now
        request.decided_by_staff_id = staff.id
        request.refusal = _encrypt(
            rt, queries.REFUSAL_KEY, request.conversation_id, reason.encode()
        )
        await record(
            tx,
            AuditAction.DISCLOSURE_REFUSED,
            actor_staff_id=staff.id,
            conversation_id=request.conversation_id,
            detail={"request_id": request_id},
        )


async def view_revealed(
    rt: Runtime, *, staff: StaffIdentity, request_id: int
) -> OpenedMetadata | None:
    """The opened metadata of an approved request, for its requester and the prosecutor who
    approved it, until it expires; None otherwise (refused, pending, expired reveal nothing).
    Each viewing is audited as `disclosure.viewed`. An expired request is wiped on sight."""
    async with rt.transaction() as tx:
        request = await tx.session.get(DisclosureRequest, request_id)
        if request is None:
            raise RequestNotFound()
        if staff.id not in (request.requester_staff_id, request.decided_by_staff_id):
            raise PermissionDenied()
        if request.status != RequestStatus.APPROVED or request.revealed is None:
            return None
        if request.reveal_until is None or request.reveal_until <= tx.now:
            request.status = str(RequestStatus.EXPIRED)
            request.revealed = None
            return None
        try:
            opened = OpenedMetadata.from_json(
                rt.keyring.decrypt_derived(
                    queries.REVEALED_KEY, request.conversation_id, request.revealed
                )
            )
        except crypto.CryptoError:
            log.error("opened metadata of request %s cannot be decrypted", request_id)
            return None
        await record(
            tx,
            AuditAction.DISCLOSURE_VIEWED,
            actor_staff_id=staff.id,
            conversation_id=request.conversation_id,
            detail={"request_id": request_id},
        )
    return opened


async def open_requested_conversation(
    rt: Runtime, *, staff: StaffIdentity, request_id: int
) -> Conversation:
    """A conversation that has a disclosure request, for a prosecutor deciding it.

    Needs `prosecutor:conversation:read_requested`; audited as `conversation.read`."""
    if not staff.can(Permission.CONVERSATION_READ_REQUESTED):
        raise PermissionDenied()
    async with rt.transaction() as tx:
        request = await tx.session.get(DisclosureRequest, request_id)
        if request is None:
            raise RequestNotFound()
        conversation = await tx.session.get(Conversation, request.conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        await record(
            tx,
            AuditAction.CONVERSATION_READ,
            actor_staff_id=staff.id,
            conversation_id=conversation.id,
            detail={"request_id": request_id},
        )
    return conversation


# --------------------------------------------------------------------------- voluntary identity


def check_identity(fields: object) -> dict[str, str]:
    """The non-empty known fields, each trimmed; at least one is needed."""
    if not isinstance(fields, dict):
        raise IdentityInvalid()
    cleaned: dict[str, str] = {}
    for name in IDENTITY_FIELDS:
        value = fields.get(name, "")
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > IDENTITY_FIELD_MAX:
            raise IdentityInvalid()
        if value.strip():
            cleaned[name] = value.strip()
    if not cleaned:
        raise IdentityInvalid()
    return cleaned


async def give_identity(rt: Runtime, *, conversation_id: str, fields: object) -> None:
    """The visitor (through their token) tells who they are, to get personalised help.

    Allowed while the conversation is open; replaces what was given before. Stored encrypted;
    the staff in charge is told that something was shared (not what)."""
    cleaned = check_identity(fields)
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if conversation.status not in OPEN_STATUSES:
            raise ConversationClosed()
        ciphertext = encrypt_text(
            conversation_queries.data_key(tx.keyring, conversation), json.dumps(cleaned)
        )
        row = await tx.session.get(VoluntaryIdentity, conversation_id)
        if row is None:
            tx.session.add(
                VoluntaryIdentity(
                    conversation_id=conversation_id, ciphertext=ciphertext, updated_at=tx.now
                )
            )
        else:
            row.ciphertext, row.updated_at = ciphertext, tx.now
        tx.publish_on_commit(
            f"conv:{conversation_id}", {"type": IDENTITY_TOPIC_EVENT, "present": True}
        )


async def withdraw_identity(rt: Runtime, *, conversation_id: str) -> None:
    """The visitor takes back what they gave, while the conversation is open."""
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if conversation.status not in OPEN_STATUSES:
            raise ConversationClosed()
        await tx.session.execute(
            delete(VoluntaryIdentity).where(VoluntaryIdentity.conversation_id == conversation_id)
        )
        tx.publish_on_commit(
            f"conv:{conversation_id}", {"type": IDENTITY_TOPIC_EVENT, "present": False}
        )


async def view_identity(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> dict[str, str] | None:
    """The identity the visitor gave, for the staff member assigned to the conversation only.
    Audited as `identity.viewed`; None when nothing (or nothing any more) was given."""
    async with rt.transaction() as tx:
        conversation = await tx.session.get(Conversation, conversation_id)
        if conversation is None:
            raise ConversationNotFound()
        if conversation.assigned_staff_id != staff.id or not staff.can(
            Permission.CONVERSATION_CHAT
        ):
            raise PermissionDenied()
        row = await tx.session.get(VoluntaryIdentity, conversation_id)
        if row is None:
            return None
        try:
            fields: dict[str, str] = json.loads(
                decrypt_text(
                    conversation_queries.data_key(tx.keyring, conversation), row.ciphertext
                )
            )
        except crypto.CryptoError:
            log.error("a voluntary identity cannot be decrypted")
            return None
        await record(
            tx,
            AuditAction.IDENTITY_VIEWED,
            actor_staff_id=staff.id,
            conversation_id=conversation_id,
        )
    return fields


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class PurgeReport:
    conversations: int
    sealed_metadata: int
    revealed_metadata: int

    @property
    def total(self) -> int:
        return self.conversations + self.sealed_metadata + self.revealed_metadata


async def purge(rt: Runtime, *, now: datetime, dry_run: bool = False) -> PurgeReport:
    """Delete what is past retention, as of `now`:

    - ended conversations (closed, abandoned, erased) older than `conversation_retention_days`
      (their messages, sealed metadata, identity and requests go with them);
    - sealed connection metadata older than `sealed_metadata_retention_days`, unless a
      request about the conversation is pending;
    - opened metadata of approved requests past their `reveal_until` (status → expired).

    `dry_run` counts without deleting. Run by the purge job (one node) or `confide purge`;
    audited as `retention.purged` with the counts when something was deleted.
    """
    settings = rt.settings
    conversations_before = now - timedelta(days=settings.conversation_retention_days)
    sealed_before = now - timedelta(days=settings.sealed_metadata_retention_days)
    ended = (
        Conversation.status.in_([str(Status.CLOSED), str(Status.ABANDONED), str(Status.ERASED)]),
        func.coalesce(Conversation.closed_at, Conversation.created_at) < conversations_before,
    )
    pending = select(DisclosureRequest.conversation_id).where(
        DisclosureRequest.status == str(RequestStatus.PENDING)
    )
    sealed = (
        SealedMetadata.created_at < sealed_before,
        SealedMetadata.conversation_id.not_in(pending),
    )
    revealed = (
        DisclosureRequest.status == str(RequestStatus.APPROVED),
        DisclosureRequest.reveal_until < now,
    )
    async with rt.transaction() as tx:
        session = tx.session
        doomed = select(Conversation.id).where(*ended)
        counts = PurgeReport(
            conversations=int(
                await session.scalar(select(func.count()).select_from(doomed.subquery())) or 0
            ),
            sealed_metadata=int(
                await session.scalar(
                    select(func.count())
                    .select_from(SealedMetadata)
                    .where(*sealed, SealedMetadata.conversation_id.not_in(doomed))
                )
                or 0
            ),
            revealed_metadata=int(
                await session.scalar(
                    select(func.count()).select_from(DisclosureRequest).where(*revealed)
                )
                or 0
            ),
        )
        if dry_run or counts.total == 0:
            return counts
        await session.execute(
            update(DisclosureRequest)
            .where(*revealed)
            .values(status=str(RequestStatus.EXPIRED), revealed=None)
        )
        await session.execute(delete(SealedMetadata).where(*sealed))
        # Messages, transfers, sealed metadata, identity and requests go by ON DELETE CASCADE
        # (declared in the schema; SQLite connections turn foreign keys on).
        await session.execute(delete(Conversation).where(Conversation.id.in_(doomed)))
        await record(
            tx,
            AuditAction.RETENTION_PURGED,
            actor_staff_id=None,
            actor_label="retention",
            detail={
                "conversations": counts.conversations,
                "sealed_metadata": counts.sealed_metadata,
                "revealed_metadata": counts.revealed_metadata,
            },
        )
    return counts


async def reencrypt_texts(rt: Runtime, *, batch_size: int = 200) -> int:
    """Re-encrypt justifications, refusals and opened metadata under keys derived from the
    current master key (`confide keys rotate-master`), one transaction per batch; returns how
    many requests changed. Operators only (command line)."""
    changed, after = 0, 0
    columns = (
        ("justification", queries.JUSTIFICATION_KEY),
        ("refusal", queries.REFUSAL_KEY),
        ("revealed", queries.REVEALED_KEY),
    )
    while True:
        async with rt.transaction() as tx:
            requests = list(
                await tx.session.scalars(
                    select(DisclosureRequest)
                    .where(DisclosureRequest.id > after)
                    .order_by(DisclosureRequest.id)
                    .limit(batch_size)
                    .with_for_update()
                )
            )
            for request in requests:
                touched = False
                for column, purpose in columns:
                    blob: bytes | None = getattr(request, column)
                    if blob is None:
                        continue
                    try:
                        new = rt.keyring.reencrypt_derived(purpose, request.conversation_id, blob)
                    except crypto.CryptoError:
                        log.error("%s of request %s cannot be decrypted", column, request.id)
                        continue
                    if new is not None:
                        setattr(request, column, new)
                        touched = True
                changed += touched
        if len(requests) < batch_size:
            return changed
        after = requests[-1].id
