"""HTTP API of the visitor: start a conversation, leave or erase it (beacon)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from confide.conversations import actions
from confide.conversations.schemas import LeaveConversation, StartConversation, StartedConversation
from confide.disclosure.schemas import ConnectionInfo
from confide.errors import RateLimited
from confide.security.guards import public, runtime_of
from confide.security.network import client_address

router = APIRouter(prefix="/api/conversations")


def _client(request: Request) -> tuple[str, int | None]:
    peer = (request.client.host, request.client.port) if request.client else None
    return client_address(
        peer,
        request.headers.getlist("x-forwarded-for"),
        runtime_of(request).settings.trusted_proxies,
    )


def _network_key(request: Request) -> str:
    """A digest of the client network, for rate limiting in memory only (never stored)."""
    host, _port = _client(request)
    pepper = runtime_of(request).secrets.token_pepper
    return hashlib.blake2b(host.encode(), key=pepper[:32], digest_size=16).hexdigest()


@router.post(
    "",
    status_code=201,
    dependencies=[Depends(public("visitors start anonymous conversations"))],
)
async def start(payload: StartConversation, request: Request) -> StartedConversation:
    rt = runtime_of(request)
    if not await request.app.state.start_limiter.allow(_network_key(request)):
        raise RateLimited()
    ip, port = _client(request)
    conversation, token = await actions.start_conversation(
        rt,
        channel=payload.channel,
        visitor_role=payload.role,
        postcode=payload.postcode,
        lang=payload.lang,
        connection=ConnectionInfo(
            ip=ip, port=port, user_agent=request.headers.get("user-agent", "")
        ),
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
