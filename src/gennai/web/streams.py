"""A streaming response that closes its body however the response ends.

Starlette leaves an async generator body suspended where it was when the client goes away; it is
closed only when garbage collection reaches it. The usage row, the audit event and the answer's final
status are written in the ``finally`` blocks of the generators below the body (``Gateway.stream``),
and the embedded model serves one stream at a time, so those waited for the collector, and other users
for the model. Closing the body as soon as the response ends runs those blocks at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class ClosingStreamingResponse(StreamingResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if isinstance(self.body_iterator, AsyncGenerator):
                await self.body_iterator.aclose()
