"""Every write of the replies domain: canned replies (written by supervisors and admins) and
sending a complaint-guidance card into a conversation; and the console's reads that need an
access check (the replies and cards offered in a conversation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confide.audit.actions import AuditAction, record
from confide.conversations import actions as conversation_actions
from confide.conversations import queries as conversation_queries
from confide.conversations.errors import ConversationNotFound
from confide.conversations.models import Conversation
from confide.conversations.schemas import MessageKind, MessageOut
from confide.errors import PermissionDenied
from confide.i18n import N_
from confide.replies import guidance, queries
from confide.replies.errors import GuidanceNotFound, ReplyInvalid, ReplyNotFound
from confide.replies.models import CannedReply
from confide.runtime import Runtime
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity

TITLE_MAX_CHARS = 120
#: Like a message: a reply is meant to be sent once edited.
BODY_MAX_CHARS = 4000


@dataclass(frozen=True)
class ReplySpec:
    title: str
    body: str
    channel: str
    lang: str


def check_reply(*, title: str, body: str, channel: str, lang: str) -> ReplySpec:
    """A reply's fields, cleaned; raises `ReplyInvalid` naming every wrong field."""
    title = " ".join(title.split())
    body = body.replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = N_("Give the reply a short title.")
    elif len(title) > TITLE_MAX_CHARS:
        errors["title"] = N_("The title is too long: 120 characters at most.")
    if not body:
        errors["body"] = N_("Write the text of the reply.")
    elif len(body) > BODY_MAX_CHARS:
        errors["body"] = N_("The text is too long: 4,000 characters at most.")
    if channel not in queries.REPLY_CHANNELS:
        errors["channel"] = N_("Choose the chat this reply is for, or all chats.")
    if lang not in queries.REPLY_LANGS:
        errors["lang"] = N_("Choose the language of the reply.")
    if errors:
        raise ReplyInvalid(errors)
    return ReplySpec(title=title, body=body, channel=channel, lang=lang)


def _may_manage(actor: StaffIdentity | None) -> None:
    if actor is not None and not actor.can(Permission.REPLIES_MANAGE):
        raise PermissionDenied()


async def save_reply(
    rt: Runtime, *, actor: StaffIdentity | None, spec: ReplySpec, reply_id: int | None = None
) -> CannedReply:
    """Create a canned reply, or replace one's title, text, chat and language. Supervisors and
    admins (`supervisor:replies:manage`), and the command line (actor None, the demo).
    Audited as `reply.changed` (`op` created or updated)."""
    _may_manage(actor)
    async with rt.transaction() as tx:
        if reply_id is None:
            reply = CannedReply()
            tx.session.add(reply)
        else:
            found = await tx.session.get(CannedReply, reply_id)
            if found is None:
                raise ReplyNotFound()
            reply = found
        reply.title, reply.body = spec.title, spec.body
        reply.channel, reply.lang = spec.channel, spec.lang
        reply.updated_at = tx.now
        reply.updated_by = actor.id if actor else None
        await tx.session.flush()
        await record(
            tx,
            AuditAction.REPLY_CHANGED,
            actor_staff_id=actor.id if actor else None,
            actor_label="" if actor else "cli",
            detail={"reply_id": reply.id, "op": "created" if reply_id is None else "updated"},
        )
    return reply


async def delete_reply(rt: Runtime, *, actor: StaffIdentity, reply_id: int) -> None:
    """Remove a canned reply (messages already sent with it stay as they are). Supervisors and
    admins. Audited as `reply.changed` (`op` deleted)."""
    _may_manage(actor)
    async with rt.transaction() as tx:
        reply = await tx.session.get(CannedReply, reply_id)
        if reply is None:
            raise ReplyNotFound()
        await tx.session.delete(reply)
        await record(
            tx,
            AuditAction.REPLY_CHANGED,
            actor_staff_id=actor.id,
            detail={"reply_id": reply_id, "op": "deleted"},
        )


async def _conversation_for(
    rt: Runtime, staff: StaffIdentity, conversation_id: str, *, in_charge: bool
) -> Conversation:
    """The conversation if `staff` may use replies in it: the staff member in charge, or (to
    read what is offered, `in_charge` False) staff who may read any conversation. Nothing of
    the conversation's content is read, so nothing is audited here."""
    if not staff.can(Permission.REPLIES_USE):
        raise PermissionDenied()
    async with rt.reading() as session:
        conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    may = (
        conversation.assigned_staff_id == staff.id
        if in_charge
        else conversation_queries.in_charge_or_reads_all(staff, conversation)
    )
    if not may:
        raise PermissionDenied()
    return conversation


async def replies_for(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str
) -> list[dict[str, str | int]]:
    """The canned replies offered in a conversation: written for its chat (or all chats) and in
    **its** language (the visitor's). Staff with `staff:replies:use` in charge of it, or who
    may read every conversation."""
    conversation = await _conversation_for(rt, staff, conversation_id, in_charge=False)
    async with rt.reading() as session:
        found = await queries.for_conversation(
            session, channel=conversation.channel, lang=conversation.lang
        )
    return [queries.picker_item(r) for r in found]


async def guidance_for(
    rt: Runtime, *, staff: StaffIdentity, conversation_id: str, lang: str
) -> list[dict[str, Any]]:
    """The guidance cards of the conversation's chat, in `lang` (the reader's console), to
    choose from. Same access as `replies_for`."""
    conversation = await _conversation_for(rt, staff, conversation_id, in_charge=False)
    return [guidance.render(card, lang) for card in guidance.cards_for(conversation.channel)]


async def send_guidance(
    rt: Runtime,
    *,
    staff: StaffIdentity,
    conversation_id: str,
    card_id: str,
    client_id: str | None = None,
) -> MessageOut:
    """Send a guidance card into the conversation: a message of kind `guidance` whose body is
    the card rendered in the conversation's language (JSON), encrypted and sequenced like any
    message. The staff member in charge only; idempotent per `client_id`. Audited as
    `guidance.sent` with the card's id."""
    conversation = await _conversation_for(rt, staff, conversation_id, in_charge=True)
    card = guidance.card_for(card_id, conversation.channel)
    if card is None:
        raise GuidanceNotFound()
    return await conversation_actions.send_card(
        rt,
        staff=staff,
        conversation_id=conversation_id,
        kind=MessageKind.GUIDANCE,
        card=guidance.render(card, conversation.lang),
        client_id=client_id,
        audit=AuditAction.GUIDANCE_SENT,
        detail={"card": card.id},
    )
