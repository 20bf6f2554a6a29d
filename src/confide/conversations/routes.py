"""HTTP API of the visitor: start a conversation, leave or erase it (beacon)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from confide.conversations import actions
from confide.conversations.schemas import LeaveConversation, StartConversation, StartedConversation
from confide.errors import RateLimited
from confide.security.guards import public, runtime_of

router = APIRouter(prefix="/api/conversations")


def _network_key(request: Request) -> str:
    """A digest of the client network, for rate limiting in memory only (never stored)."""
    host = request.client.host if request.client else ""
    pepper = runtime_of(request).secrets.token_pepper
    return hashlib.blake2b(host.encode(), key=pepper[:32], digest_size=16).hexdigest()


@router.post(
    "",
    status_code=201,
    dependencies=[Depends(public("visitors start anonymous conversations"))],
)
async def start(payload: StartConversation, request: Request) -> StartedConversation:
    rt = runtime_of(request)
    if not request.app.state.start_limiter.allow(_network_key(request)):
        raise RateLimited()
    conversation, token = await actions.start_conversation(
        rt,
        channel=payload.channel,
        visitor_role=payload.role,
        postcode=payload.postcode,
        lang=payload.lang,
    )
    return StartedConversation(conversation_id=conversation.id, token=token)


@router.post(
    "/leave",
    status_code=204,
    dependencies=[
        Depends(public("quick exit beacon; authorised by the visitor token in the body"))
    ],
)
async def leave(request: Request) -> Response:
    # sendBeacon posts text/plain; parse the body ourselves whatever its content type.
    try:
        payload = LeaveConversation.model_validate_json(await request.body())
    except ValueError:
        return Response(status_code=204)
    await actions.visitor_leaves(runtime_of(request), token=payload.token, erase=payload.erase)
    return Response(status_code=204)
