"""OpenAI, Azure OpenAI and every OpenAI-compatible server (vLLM, Ollama, llama.cpp server, domestic LLMs).

One module because they speak one protocol; the official ``openai`` SDK handles retries, timeouts
and the streaming wire format.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager

import openai

from gennai.config import ModelSpec
from gennai.gateway.base import (
    ChatRequest,
    EmbeddingResult,
    Finished,
    ProviderError,
    StreamEvent,
    TextDelta,
    Usage,
)


class OpenAICompatibleProvider:
    def __init__(self, spec: ModelSpec) -> None:
        self.name = spec.name
        self._model = spec.model
        self._max_tokens = spec.max_output_tokens
        api_key = spec.resolved_api_key() or "not-needed"
        self._client: openai.AsyncOpenAI
        if spec.provider == "azure-openai":
            self._client = openai.AsyncAzureOpenAI(
                azure_endpoint=spec.base_url or "",
                api_key=api_key,
                api_version=spec.api_version,
                timeout=spec.timeout_seconds,
                max_retries=1,
            )
        else:
            self._client = openai.AsyncOpenAI(
                base_url=spec.base_url, api_key=api_key, timeout=spec.timeout_seconds, max_retries=1
            )

    async def ready(self) -> bool:
        return True

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        with self._failures():
            options: dict[str, object] = {}
            if request.temperature is not None:
                options["temperature"] = request.temperature
            if request.stop:
                options["stop"] = request.stop
            chunks = await self._client.chat.completions.create(  # type: ignore[call-overload]
                model=self._model,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
                max_tokens=request.max_tokens or self._max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **options,
            )
            finish_reason = "stop"
            usage = Usage()
            completion_pieces = 0
            async for chunk in chunks:
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if choice.delta.content:
                        completion_pieces += 1
                        yield TextDelta(choice.delta.content)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
            if usage == Usage():
                usage = Usage(0, completion_pieces)
            yield Finished(usage, finish_reason)

    async def embed(self, texts: list[str]) -> EmbeddingResult:
        # "float" explicitly: the SDK otherwise asks for base64, which not every compatible server speaks.
        with self._failures():
            response = await self._client.embeddings.create(model=self._model, input=texts, encoding_format="float")
        vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        return EmbeddingResult(vectors, Usage(prompt_tokens=response.usage.prompt_tokens if response.usage else 0))

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """The SDK's errors as ProviderError, with a message safe to show and whether a retry may help."""
        try:
            yield
        except openai.APITimeoutError as error:
            raise ProviderError(f"model {self.name} timed out", retryable=True) from error
        except openai.APIConnectionError as error:
            raise ProviderError(f"model {self.name} is unreachable", retryable=True) from error
        except openai.APIStatusError as error:
            raise ProviderError(
                f"model {self.name} refused the request (HTTP {error.status_code})",
                retryable=error.status_code >= 500 or error.status_code == 429,
            ) from error
        except openai.APIError as error:  # an error event the server sent in the middle of a stream
            raise ProviderError(f"model {self.name} reported an error while answering") from error
        except json.JSONDecodeError as error:  # a stream event that is not JSON
            raise ProviderError(f"model {self.name} sent an answer that could not be read") from error

    async def close(self) -> None:
        await self._client.close()
