"""Real model servers: llama.cpp's OpenAI-compatible server behind our gateway, and the official
``openai`` client against gennai's own /v1 API on a real ``gennai serve`` process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import select
from tests.conftest import LiveServer, free_port, wait_for_http

from gennai.config import ModelSpec, Settings
from gennai.db.models import ModelCall
from gennai.gateway.base import ChatMessage, ChatRequest, ProviderError, complete
from gennai.gateway.local import bundled_model_path
from gennai.gateway.openai_compat import OpenAICompatibleProvider

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` serving the bundled GGUF on loopback."""
    port = free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
        stdout=log, stderr=log, env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_http(url + "/models", timeout=120, process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


async def test_gateway_streams_from_a_real_openai_compatible_server(llama_server: str):
    provider = OpenAICompatibleProvider(ModelSpec(name="remote", provider="openai-compatible", model="smollm2",
                                                  base_url=llama_server, max_output_tokens=16))
    try:
        result = await complete(provider, ChatRequest([ChatMessage("user", "Say hello.")], max_tokens=16))
    finally:
        await provider.close()
    assert result.text.strip()
    assert 0 < result.usage.completion_tokens <= 16


async def test_unreachable_server_is_a_clear_provider_error():
    provider = OpenAICompatibleProvider(ModelSpec(name="down", provider="openai-compatible", model="x",
                                                  base_url=f"http://127.0.0.1:{free_port()}/v1", timeout_seconds=3))
    with pytest.raises(ProviderError, match="unreachable"):
        await complete(provider, ChatRequest([ChatMessage("user", "hi")]))
    await provider.close()


async def test_portal_chat_through_openai_compatible_model(llama_server: str, database, tmp_path: Path):
    from tests.conftest import csrf_token_of
    from tests.integration.test_chat_portal import parse_sse

    from gennai.web.app import create_app

    settings = Settings(data_dir=tmp_path, database_url=database.url, secret_key="t", models=[
        ModelSpec(name="llama-server", provider="openai-compatible", model="smollm2", base_url=llama_server,
                  max_output_tokens=12)])
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                   base_url="http://127.0.0.1") as client:
        token = await csrf_token_of(client)
        response = await client.post("/chat/messages", headers={"X-CSRF-Token": token},
                                     json={"content": "Hello", "model": "llama-server"})
        events = parse_sse(response.text)
    assert events[-1][0] == "done"
    assert "".join(d["text"] for n, d in events if n == "delta").strip()
    async with app.state.services.sessions() as session:
        call = (await session.scalars(select(ModelCall))).one()
    assert call.model == "llama-server" and call.status == "complete" and call.first_token_ms is not None


def test_official_openai_client_against_gennai(live_server: LiveServer):
    created = live_server.cli("keys", "create", "--user", "program@example.go.jp", "--name", "test")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    client = openai.OpenAI(base_url=live_server.url + "/v1", api_key=key)

    assert [m.id for m in client.models.list()] == ["smollm2-135m"]

    answer = client.chat.completions.create(model="smollm2-135m", max_tokens=8,
                                            messages=[{"role": "user", "content": "Hello"}])
    assert answer.choices[0].message.content
    assert answer.usage is not None and 0 < answer.usage.completion_tokens <= 8

    pieces = []
    stream = client.chat.completions.create(model="smollm2-135m", max_tokens=8, stream=True,
                                            stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "Hello"}])
    usage = None
    for chunk in stream:
        pieces.extend(c.delta.content or "" for c in chunk.choices)
        usage = chunk.usage or usage
    assert "".join(pieces) and usage is not None and usage.completion_tokens > 0

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=live_server.url + "/v1", api_key="gn-wrong").models.list()
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="smollm2-135m", messages=[])
