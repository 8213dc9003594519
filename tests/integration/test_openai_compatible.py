"""Real model servers: llama.cpp's OpenAI-compatible server behind our gateway (chat and embeddings), and
the official ``openai`` client against gennai's own /v1 API on a real ``gennai serve`` process.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import select
from tests.conftest import LiveServer, free_port, serve, wait_for_http

from gennai.config import ModelSpec, Settings
from gennai.db.models import ModelCall
from gennai.gateway.base import ChatMessage, ChatRequest, ProviderError, complete
from gennai.gateway.local import bundled_model_path
from gennai.gateway.openai_compat import OpenAICompatibleProvider

pytestmark = pytest.mark.model


@contextmanager
def llama_cpp_server(log_dir: Path, alias: str, *options: str) -> Iterator[str]:
    """``python -m llama_cpp.server`` serving the bundled GGUF on loopback; yields its /v1 URL."""
    port = free_port()
    log = (log_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(bundled_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            alias,
            *options,
        ],
        stdout=log,
        stderr=log,
        env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_http(url + "/models", timeout=120, process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_cpp_server(tmp_path_factory.mktemp("llama"), "smollm2") as url:
        yield url


@pytest.fixture(scope="module")
def llama_embedding_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same GGUF as an embedding server: the server has no pooling option and the chat GGUF pools per
    token, so mean pooling (1) is set through the model's metadata."""
    with llama_cpp_server(
        tmp_path_factory.mktemp("llama-embed"),
        "smollm2-embed",
        "--embedding",
        "true",
        "--kv_overrides",
        "llama.pooling_type=int:1",
    ) as url:
        yield url


async def test_gateway_streams_from_a_real_openai_compatible_server(llama_server: str):
    provider = OpenAICompatibleProvider(
        ModelSpec(
            name="remote", provider="openai-compatible", model="smollm2", base_url=llama_server, max_output_tokens=16
        )
    )
    try:
        result = await complete(provider, ChatRequest([ChatMessage("user", "Say hello.")], max_tokens=16))
    finally:
        await provider.close()
    assert result.text.strip()
    assert 0 < result.usage.completion_tokens <= 16


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ('{"error": {"message": "upstream overloaded", "type": "server_error"}}', "reported an error"),
        ("{not json", "could not be read"),
    ],
)
async def test_a_broken_stream_is_a_clear_provider_error(event: str, message: str):
    first = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    first["choices"] = [{"index": 0, "delta": {"content": "途中まで"}, "finish_reason": None}]
    body = f"data: {json.dumps(first)}\n\ndata: {event}\n\ndata: [DONE]\n\n".encode()

    class BreaksMidStream(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BreaksMidStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    provider = OpenAICompatibleProvider(
        ModelSpec(name="flaky", provider="openai-compatible", model="m", base_url=base_url)
    )
    try:
        with pytest.raises(ProviderError, match=message):
            await complete(provider, ChatRequest([ChatMessage("user", "hi")]))
    finally:
        await provider.close()
        server.shutdown()


async def test_unreachable_server_is_a_clear_provider_error():
    provider = OpenAICompatibleProvider(
        ModelSpec(
            name="down",
            provider="openai-compatible",
            model="x",
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            timeout_seconds=3,
        )
    )
    with pytest.raises(ProviderError, match="unreachable"):
        await complete(provider, ChatRequest([ChatMessage("user", "hi")]))
    await provider.close()


async def test_portal_chat_through_openai_compatible_model(llama_server: str, database, tmp_path: Path):
    from tests.conftest import csrf_token_of
    from tests.integration.test_chat_portal import parse_sse

    from gennai.web.app import create_app

    settings = Settings(
        data_dir=tmp_path,
        database_url=database.url,
        secret_key="t",
        models=[
            ModelSpec(
                name="llama-server",
                provider="openai-compatible",
                model="smollm2",
                base_url=llama_server,
                max_output_tokens=12,
            )
        ],
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        token = await csrf_token_of(client)
        response = await client.post(
            "/chat/messages", headers={"X-CSRF-Token": token}, json={"content": "Hello", "model": "llama-server"}
        )
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

    answer = client.chat.completions.create(
        model="smollm2-135m", max_tokens=8, messages=[{"role": "user", "content": "Hello"}]
    )
    assert answer.choices[0].message.content
    assert answer.usage is not None and 0 < answer.usage.completion_tokens <= 8
    unstopped = client.chat.completions.create(
        model="smollm2-135m", max_tokens=8, stop="", messages=[{"role": "user", "content": "Hello"}]
    )
    assert unstopped.choices[0].message.content  # an empty stop sequence stops nothing

    pieces = []
    stream = client.chat.completions.create(
        model="smollm2-135m",
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Hello"}],
    )
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


CAT, CAT_AGAIN, MARKETS = "The cat sits on the mat.", "A cat is sitting on a mat.", "Stock markets fell sharply today."


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


async def test_gateway_embeds_through_a_real_openai_compatible_server(llama_embedding_server: str):
    provider = OpenAICompatibleProvider(
        ModelSpec(
            name="remote-embed",
            provider="openai-compatible",
            kind="embedding",
            model="smollm2-embed",
            base_url=llama_embedding_server,
        )
    )
    try:
        result = await provider.embed([CAT, CAT_AGAIN, MARKETS])
    finally:
        await provider.close()
    cat, cat_again, markets = result.vectors
    assert len(cat) == 576 and result.usage.prompt_tokens > 0
    # SmolLM2 is no embedding model, but mean-pooled it still tells these apart (0.97 against 0.79).
    assert cosine(cat, cat_again) > cosine(cat, markets) + 0.05


@pytest.fixture(scope="module")
def embedding_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``gennai serve`` with the embedded chat model and the same GGUF as a local embedding model."""
    models = [
        {"name": "smollm2-135m", "provider": "local"},
        {"name": "smollm2-embed", "provider": "local", "kind": "embedding", "label": "SmolLM2 (embedding)"},
    ]
    with serve(
        tmp_path_factory.mktemp("live-embed"), GENNAI_MODELS=json.dumps(models), GENNAI_LEGAL_SAMPLE="false"
    ) as server:
        yield server


def test_official_openai_client_embeds_through_gennai(embedding_live_server: LiveServer):
    created = embedding_live_server.cli("keys", "create", "--user", "program@example.go.jp", "--name", "test")
    assert created.returncode == 0, created.stderr
    client = openai.OpenAI(base_url=embedding_live_server.url + "/v1", api_key=created.stdout.strip().splitlines()[-1])
    assert [(m.id, m.kind) for m in client.models.list()] == [("smollm2-135m", "chat"), ("smollm2-embed", "embedding")]

    # The client's default encoding is base64 (decoded by the client); float is asked for explicitly.
    encoded = client.embeddings.create(model="smollm2-embed", input=[CAT, CAT_AGAIN, MARKETS, CAT])
    floats = client.embeddings.create(model="smollm2-embed", input=CAT, encoding_format="float")
    cat, cat_again, markets, cat_twice = (item.embedding for item in encoded.data)
    assert len(cat) == 576 and encoded.usage.prompt_tokens > 0
    assert all(abs(math.hypot(*v) - 1) < 1e-4 for v in (cat, cat_again, markets))
    assert cosine(cat, cat_twice) > 0.9999 and cosine(cat, floats.data[0].embedding) > 0.9999
    assert cosine(cat, cat_again) > cosine(cat, markets) + 0.05

    with pytest.raises(openai.NotFoundError, match="is an embedding model"):
        client.chat.completions.create(model="smollm2-embed", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.NotFoundError, match="is a chat model"):
        client.embeddings.create(model="smollm2-135m", input="x")
    with pytest.raises(openai.InternalServerError, match=r"text 0 has \d+ tokens; .* at most 2048"):
        client.with_options(max_retries=0).embeddings.create(model="smollm2-embed", input="猫" * 3000)
