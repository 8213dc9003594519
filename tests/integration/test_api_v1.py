"""The OpenAI-compatible API in-process on both databases: keys, shapes, errors, usage rows, embeddings."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import Database, echo_settings, in_process

from gennai.config import ModelSpec
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.db.models import ApiKey, AuditEvent, ModelCall, User
from gennai.identity.apikeys import create_key
from gennai.identity.users import get_or_create_user


@pytest.fixture
async def api_key(app_client: httpx.AsyncClient, db_sessions) -> str:
    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "Program@Example.go.jp")
        _, plain = await create_key(session, user, "tests")
    return plain


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_models_and_completion(app_client: httpx.AsyncClient, api_key: str, db_sessions):
    models = (await app_client.get("/v1/models", headers=auth(api_key))).json()
    assert [m["id"] for m in models["data"]] == ["echo", "echo-2"]

    response = await app_client.post(
        "/v1/chat/completions",
        headers=auth(api_key),
        json={
            "model": "echo",
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": [{"type": "text", "text": "部分"}]},
            ],
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Echo: 部分"}
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    async with db_sessions() as session:
        call = (await session.scalars(select(ModelCall))).one()
        assert (call.source, call.status, call.model) == ("api", "complete", "echo")
        user = await session.get(User, call.user_id)
        assert user is not None and user.email == "program@example.go.jp"
        assert "api.model_call" in (await session.scalars(select(AuditEvent.action))).all()
        key = (await session.scalars(select(ApiKey))).one()
        assert key.last_used_at is not None and api_key not in {key.key_hash, key.prefix}


async def test_streaming_chunks_follow_openai_format(app_client: httpx.AsyncClient, api_key: str):
    response = await app_client.post(
        "/v1/chat/completions",
        headers=auth(api_key),
        json={
            "model": "echo",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "abcdefgh"}],
        },
    )
    lines = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Echo: abcdefgh"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


async def test_errors_use_the_openai_shape(app_client: httpx.AsyncClient, api_key: str, db_sessions):
    def expect_error(response: httpx.Response, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code and error["message"] and "type" in error

    expect_error(await app_client.get("/v1/models"), 401, "invalid_api_key")
    expect_error(await app_client.get("/v1/models", headers=auth("gn-not-a-key")), 401, "invalid_api_key")
    post = app_client.post
    url = "/v1/chat/completions"
    expect_error(
        await post(url, headers=auth(api_key), json={"model": "ghost", "messages": [{"role": "user", "content": "x"}]}),
        404,
        "model_not_found",
    )
    expect_error(await post(url, headers=auth(api_key), json={"model": "echo", "messages": []}), 400, "invalid_request")
    expect_error(
        await post(url, headers=auth(api_key), json={"model": "echo", "messages": [{"role": "user", "content": "  "}]}),
        400,
        "empty_message",
    )
    expect_error(
        await post(
            url, headers=auth(api_key), json={"model": "echo", "messages": [{"role": "user", "content": "x" * 20_001}]}
        ),
        400,
        "message_too_long",
    )
    expect_error(
        await post(
            url, headers=auth(api_key), json={"model": "echo", "messages": [{"role": "user", "content": "[[error]]"}]}
        ),
        502,
        "model_failed",
    )
    async with db_sessions() as session:
        statuses = (await session.scalars(select(ModelCall.status))).all()
    assert statuses == ["incomplete"]


async def test_mid_stream_failure_is_reported_in_the_stream(app_client: httpx.AsyncClient, api_key: str):
    response = await app_client.post(
        "/v1/chat/completions",
        headers=auth(api_key),
        json={"model": "echo", "stream": True, "messages": [{"role": "user", "content": "[[error]]"}]},
    )
    events = [line[6:] for line in response.text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["code"] == "model_failed"


@pytest.mark.parametrize("problem", ["revoked", "expired", "inactive"])
async def test_unusable_keys_are_refused(app_client: httpx.AsyncClient, db_sessions, problem: str):
    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, f"{problem}@example.go.jp")
        key, plain = await create_key(session, user)
        if problem == "revoked":
            key.revoked_at = utcnow()
        elif problem == "expired":
            key.expires_at = utcnow() - timedelta(seconds=1)
        else:
            user.is_active = False
    response = await app_client.get("/v1/models", headers=auth(plain))
    assert response.status_code == 401


async def test_key_scopes_limit_models_and_apps(app_client: httpx.AsyncClient, db_sessions):
    from gennai.identity.apikeys import KeyScopes

    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "scoped@example.go.jp")
        _, plain = await create_key(session, user, "scoped", scopes=KeyScopes(models=["echo-2"], apps=[]))
    listed = (await app_client.get("/v1/models", headers=auth(plain))).json()
    assert [m["id"] for m in listed["data"]] == ["echo-2"]
    refused = await app_client.post(
        "/v1/chat/completions",
        headers=auth(plain),
        json={"model": "echo", "messages": [{"role": "user", "content": "x"}]},
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "model_not_allowed"
    allowed = await app_client.post(
        "/v1/chat/completions",
        headers=auth(plain),
        json={"model": "echo-2", "messages": [{"role": "user", "content": "x"}]},
    )
    assert allowed.status_code == 200
    app_refused = await app_client.get("/api/legal/search", params={"q": "審査基準"}, headers=auth(plain))
    assert app_refused.status_code == 403 and app_refused.json()["error"]["code"] == "scope_not_allowed"


@pytest.fixture
async def embedding_client(database: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the echo chat models and an echo embedding model."""
    embedder = ModelSpec(name="echo-embed", provider="test", kind="embedding")
    async with in_process(echo_settings(database.url, tmp_path, embedder)) as client:
        yield client


async def test_embeddings_follow_openai_format(embedding_client: httpx.AsyncClient, db_sessions):
    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "program@example.go.jp")
        _, key = await create_key(session, user, "tests")
    listed = (await embedding_client.get("/v1/models", headers=auth(key))).json()["data"]
    assert [(m["id"], m["kind"]) for m in listed] == [("echo", "chat"), ("echo-2", "chat"), ("echo-embed", "embedding")]

    response = await embedding_client.post(
        "/v1/embeddings", headers=auth(key), json={"model": "echo-embed", "input": ["労働時間", "休日"]}
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["object"] == "list" and body["model"] == "echo-embed"
    assert [(d["object"], d["index"], len(d["embedding"])) for d in body["data"]] == [
        ("embedding", 0, 256),
        ("embedding", 1, 256),
    ]
    assert body["usage"] == {"prompt_tokens": 2, "total_tokens": 2}

    encoded = (
        await embedding_client.post(
            "/v1/embeddings",
            headers=auth(key),
            json={"model": "echo-embed", "input": "労働時間", "encoding_format": "base64"},
        )
    ).json()["data"][0]["embedding"]
    decoded = struct.unpack("<256f", base64.b64decode(encoded))
    assert decoded == pytest.approx(body["data"][0]["embedding"], abs=1e-6)
    async with db_sessions() as session:
        calls = (await session.scalars(select(ModelCall).order_by(ModelCall.id))).all()
    assert [(c.source, c.status, c.model, c.user_id) for c in calls] == [("api", "complete", "echo-embed", user.id)] * 2


async def test_embedding_errors_use_the_openai_shape(embedding_client: httpx.AsyncClient, db_sessions):
    from gennai.identity.apikeys import KeyScopes

    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "program@example.go.jp")
        _, key = await create_key(session, user, "tests")
        _, scoped = await create_key(session, user, "chat only", scopes=KeyScopes(models=["echo"], apps=[]))

    async def error_of(url: str, body: dict[str, object], status: int, api_key: str = key) -> str:
        response = await embedding_client.post(url, headers=auth(api_key), json=body)
        assert response.status_code == status, response.text
        return f"{response.json()['error']['code']}: {response.json()['error']['message']}"

    url = "/v1/embeddings"
    assert (await error_of(url, {"model": "echo", "input": "x"}, 404)).startswith(
        "model_not_found: model echo is a chat model"
    )
    assert (
        await error_of(
            "/v1/chat/completions", {"model": "echo-embed", "messages": [{"role": "user", "content": "x"}]}, 404
        )
    ).startswith("model_not_found: model echo-embed is an embedding model")
    assert await error_of(url, {"model": "echo-embed", "input": []}, 400) == "invalid_input: no texts to embed"
    assert await error_of(url, {"model": "echo-embed", "input": ["a", ""]}, 400) == "invalid_input: text 1 is empty"
    assert (await error_of(url, {"model": "echo-embed", "input": "x", "dimensions": 8}, 400)).startswith(
        "unsupported_parameter"
    )
    assert (await error_of(url, {"model": "echo-embed", "input": "x"}, 403, scoped)).startswith("model_not_allowed")
    assert (await embedding_client.post(url, json={"model": "echo-embed", "input": "x"})).status_code == 401
    async with db_sessions() as session:
        assert (await session.scalars(select(ModelCall))).all() == []
