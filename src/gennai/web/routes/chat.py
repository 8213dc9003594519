"""The chat pages, the history list, and the streaming endpoints their script calls.

Answers stream as Server-Sent Events over a POST response (so the request can carry the CSRF
header); events: ``start`` (ids), ``delta`` (text), ``done`` (status, usage) and ``error``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from gennai.chat.service import ChatError, Turn
from gennai.db.models import User
from gennai.gateway.base import Finished, ProviderError, TextDelta
from gennai.gateway.registry import UnknownModelError
from gennai.web.deps import PortalUser, ServicesDep
from gennai.web.i18n import request_language, translate
from gennai.web.pages import render
from gennai.web.streams import ClosingStreamingResponse

router = APIRouter()


class SendMessage(BaseModel):
    conversation_id: uuid.UUID | None = None
    content: str = Field(max_length=1_000_000)
    model: str | None = None


class Retry(BaseModel):
    model: str | None = None


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def chat_error_response(request: Request, services: ServicesDep, error: ChatError | UnknownModelError) -> JSONResponse:
    """The error as the portal shows it: its code, and its message in the user's language."""
    code, status = ("unknown_model", 400) if isinstance(error, UnknownModelError) else (error.code, error.status)
    message = translate(request_language(request, services.settings.language), f"error.{code}")
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _stream_response(services: ServicesDep, user: User, turn: Turn) -> ClosingStreamingResponse:
    async def events() -> AsyncIterator[str]:
        yield _sse("start", {"conversation_id": str(turn.conversation_id), "answer_id": str(turn.answer_id)})
        try:
            async with aclosing(services.chats.stream(user, turn)) as stream:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        yield _sse("delta", {"text": event.text})
                    elif isinstance(event, Finished):
                        usage = {
                            "prompt_tokens": event.usage.prompt_tokens,
                            "completion_tokens": event.usage.completion_tokens,
                        }
                        yield _sse("done", {"status": "complete", "usage": usage})
        except ProviderError as failure:
            yield _sse("error", {"code": "model_failed", "message": str(failure)})

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return ClosingStreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.post("/chat/messages", response_model=None)
async def send_message(request: Request, body: SendMessage, user: PortalUser, services: ServicesDep) -> Response:
    try:
        turn = await services.chats.start_turn(user, body.conversation_id, body.content, body.model)
    except (ChatError, UnknownModelError) as error:
        return chat_error_response(request, services, error)
    return _stream_response(services, user, turn)


@router.post("/chat/{conversation_id}/retry", response_model=None)
async def retry(
    request: Request, conversation_id: uuid.UUID, body: Retry, user: PortalUser, services: ServicesDep
) -> Response:
    try:
        turn = await services.chats.retry(user, conversation_id, body.model)
    except (ChatError, UnknownModelError) as error:
        return chat_error_response(request, services, error)
    return _stream_response(services, user, turn)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: PortalUser, services: ServicesDep) -> Response:
    return render(
        request, "chat.html", {"conversation": None, "messages": [], "selected_model": services.models.default}
    )


@router.get("/c/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(
    conversation_id: uuid.UUID, request: Request, user: PortalUser, services: ServicesDep
) -> Response:
    try:
        conversation = await services.chats.get(user, conversation_id)
    except ChatError:
        return render(request, "error.html", {"code": "not_found"}, status_code=404)
    return render(
        request,
        "chat.html",
        {"conversation": conversation, "messages": conversation.messages, "selected_model": conversation.model},
    )


@router.get("/history", response_class=HTMLResponse)
async def history(request: Request, user: PortalUser, services: ServicesDep) -> Response:
    conversations = await services.chats.recent(user)
    return render(request, "history.html", {"conversations": conversations})


@router.post("/history/{conversation_id}/rename", response_model=None)
async def rename(
    conversation_id: uuid.UUID,
    request: Request,
    title: Annotated[str, Form()],
    user: PortalUser,
    services: ServicesDep,
) -> Response:
    try:
        await services.chats.rename(user, conversation_id, title)
    except ChatError as error:
        conversations = await services.chats.recent(user)
        return render(
            request, "history.html", {"conversations": conversations, "error": error.code}, status_code=error.status
        )
    return RedirectResponse("/history", status_code=303)


@router.post("/history/{conversation_id}/delete", response_model=None)
async def delete(conversation_id: uuid.UUID, request: Request, user: PortalUser, services: ServicesDep) -> Response:
    try:
        await services.chats.delete(user, conversation_id)
    except ChatError:
        return render(request, "error.html", {"code": "not_found"}, status_code=404)
    return RedirectResponse("/history", status_code=303)
