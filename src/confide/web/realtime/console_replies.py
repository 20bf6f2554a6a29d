"""Staff socket frames of the console's replies feature (registered with `frames.staff_frame`).

- `replies` `{conversation_id}` → the canned replies offered in that conversation (its chat,
  its visitor's language). Choosing one only fills the composer: nothing is sent.
- `guidance_list` `{conversation_id}` → the guidance cards of its chat, in the console's
  language, to preview.
- `send_guidance` `{conversation_id, card_id, client_id}` → the card, in the visitor's
  language, stored as a message of kind `guidance`; answered with `ack` like `send`.
"""

from __future__ import annotations

from typing import Any

from confide.replies import actions
from confide.security.permissions import Permission
from confide.staff.schemas import StaffIdentity
from confide.web.realtime.connection import BadFrame, Connection
from confide.web.realtime.frames import conversation_id_of, send_ack, staff_frame, staff_sends


@staff_frame("replies", Permission.REPLIES_USE)
async def replies(connection: Connection, staff: StaffIdentity, frame: dict[str, Any]) -> None:
    conversation_id = conversation_id_of(frame)
    found = await actions.replies_for(connection.rt, staff=staff, conversation_id=conversation_id)
    await connection.send({"type": "replies", "conversation_id": conversation_id, "replies": found})


@staff_frame("guidance_list", Permission.REPLIES_USE)
async def guidance_list(
    connection: Connection, staff: StaffIdentity, frame: dict[str, Any]
) -> None:
    conversation_id = conversation_id_of(frame)
    cards = await actions.guidance_for(
        connection.rt, staff=staff, conversation_id=conversation_id, lang=connection.lang
    )
    await connection.send(
        {"type": "guidance_list", "conversation_id": conversation_id, "cards": cards}
    )


@staff_frame("send_guidance", Permission.REPLIES_USE)
async def send_guidance(
    connection: Connection, staff: StaffIdentity, frame: dict[str, Any]
) -> None:
    conversation_id = conversation_id_of(frame)
    card_id = frame.get("card_id")
    if not isinstance(card_id, str) or not 1 <= len(card_id) <= 40:
        raise BadFrame()
    client_id = await staff_sends(connection, staff, frame)
    message = await actions.send_guidance(
        connection.rt,
        staff=staff,
        conversation_id=conversation_id,
        card_id=card_id,
        client_id=client_id,
    )
    await send_ack(connection, message)
