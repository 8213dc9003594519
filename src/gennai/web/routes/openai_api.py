"""An OpenAI-compatible API for programs: ``GET /v1/models``, ``POST /v1/chat/completions`` and
``POST /v1/embeddings``.

The official ``openai`` client works against it unchanged. Errors use OpenAI's shape
``{"error": {"message", "type", "param", "code"}}`` so existing tooling reports them well.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gennai.gateway.base import ChatMessage, ChatRequest, Finished, ProviderError, TextDelta
from gennai.gateway.registry import ALL_KINDS, UnknownModelError, WrongModelKindError
from gennai.gateway.service import EmbeddingInputError
from gennai.guard.policy import GuardRefusal
from gennai.web.deps import ApiUser, ServicesDep, key_allows
from gennai.web.streams import ClosingStreamingResponse

router = APIRouter(prefix="/v1")


def openai_error(
    status: int, message: str, kind: str, code: str | None = None, param: str | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status)


def scope_refusal(request: Request, model: str) -> JSONResponse | None:
    """The 403 for an API key not scoped to ``model``, or None when the key may use it."""
    if key_allows(request, "models", model):
        return None
    return openai_error(
        403, f"this API key is not allowed to use the model `{model}`", "permission_error", "model_not_allowed", "model"
    )


def model_not_found(error: UnknownModelError) -> JSONResponse:
    """A model that is not configured, or not of the kind the endpoint needs (chat vs embedding)."""
    message = str(error) if isinstance(error, WrongModelKindError) else f"The model `{error.name}` does not exist"
    return openai_error(404, message, "invalid_request_error", "model_not_found", "model")


def guard_refusal(refusal: GuardRefusal) -> JSONResponse:
    return openai_error(403, str(refusal), "permission_error", "refused_by_guard")


class ContentPart(BaseModel):
    type: Literal["text"]
    text: str


class IncomingMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart]

    def as_chat_message(self) -> ChatMessage:
        text = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)
        role = "system" if self.role == "developer" else self.role
        return ChatMessage(role, text)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[IncomingMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    stop: str | list[str] | None = None

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value


@router.get("/models")
async def list_models(request: Request, user: ApiUser, services: ServicesDep) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": info.name, "object": "model", "created": 0, "owned_by": "gennai", "kind": info.kind}
            for info in services.models.catalogue(ALL_KINDS)
            if key_allows(request, "models", info.name)
        ],
    }


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    request: Request, body: ChatCompletionRequest, user: ApiUser, services: ServicesDep
) -> Response:
    if (refused := scope_refusal(request, body.model)) is not None:
        return refused
    messages = [m.as_chat_message() for m in body.messages]
    limit = services.settings.max_message_chars
    if any(len(m.content) > limit for m in messages):
        return openai_error(
            400, f"a message is longer than {limit} characters", "invalid_request_error", "message_too_long", "messages"
        )
    if not any(m.content.strip() for m in messages if m.role == "user"):
        return openai_error(400, "no user message with content", "invalid_request_error", "empty_message", "messages")
    try:
        await services.gateway.admit(user.id, [m.content for m in messages], body.model)
    except UnknownModelError as error:
        return model_not_found(error)
    except GuardRefusal as refusal:
        return guard_refusal(refusal)
    stops = [body.stop] if isinstance(body.stop, str) else body.stop or []
    stop = [sequence for sequence in stops if sequence]  # llama.cpp stops at once on "": an empty answer
    chat_request = ChatRequest(
        messages, max_tokens=body.max_completion_tokens or body.max_tokens, temperature=body.temperature, stop=stop
    )
    events = services.gateway.stream(user.id, body.model, chat_request, source="api")
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _stream_chunks(events, completion_id, created, body.model, include_usage)
        return ClosingStreamingResponse(chunks, media_type="text/event-stream", headers={"Cache-Control": "no-store"})
    text: list[str] = []
    finished: Finished | None = None
    try:
        async with aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                elif isinstance(event, Finished):
                    finished = event
    except ProviderError as failure:
        return openai_error(502, str(failure), "api_error", "model_failed")
    if finished is None:
        return openai_error(502, "the model ended without finishing", "api_error", "model_failed")
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(text)},
                    "finish_reason": finished.finish_reason,
                }
            ],
            "usage": _usage(finished),
        }
    )


def _usage(event: Finished) -> dict[str, int]:
    usage = event.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


async def _stream_chunks(
    events: AsyncGenerator[Any, None], completion_id: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[str]:
    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    try:
        async with aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    yield chunk([{"index": 0, "delta": {"content": event.text}, "finish_reason": None}])
                elif isinstance(event, Finished):
                    yield chunk([{"index": 0, "delta": {}, "finish_reason": event.finish_reason}])
                    if include_usage:
                        yield chunk([], usage=_usage(event))
    except ProviderError as failure:
        error = {"message": str(failure), "type": "api_error", "param": None, "code": "model_failed"}
        yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    input: str | list[str]
    # The official client asks for base64 unless told otherwise, so both are served.
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None


@router.post("/embeddings", response_model=None)
async def embeddings(request: Request, body: EmbeddingsRequest, user: ApiUser, services: ServicesDep) -> Response:
    if (refused := scope_refusal(request, body.model)) is not None:
        return refused
    if body.dimensions is not None:
        return openai_error(
            400,
            "`dimensions` is not supported: vectors have the model's own size",
            "invalid_request_error",
            "unsupported_parameter",
            "dimensions",
        )
    texts = [body.input] if isinstance(body.input, str) else body.input
    try:
        result = await services.gateway.embed_with_usage(user.id, body.model, texts, source="api")
    except UnknownModelError as error:
        return model_not_found(error)
    except EmbeddingInputError as error:
        return openai_error(400, str(error), "invalid_request_error", "invalid_input", "input")
    except GuardRefusal as refusal:
        return guard_refusal(refusal)
    except ProviderError as failure:
        return openai_error(502, str(failure), "api_error", "model_failed")
    encode = _base64_floats if body.encoding_format == "base64" else list
    tokens = result.usage.prompt_tokens
    return JSONResponse(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(result.vectors)],
            "model": body.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def _base64_floats(vector: list[float]) -> str:
    """OpenAI's base64 encoding: the vector as little-endian float32 bytes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
