"""The portal's chat, end to end in-process, on SQLite and PostgreSQL with the echo model."""

from __future__ import annotations

import asyncio
import gc
import json

import httpx
from sqlalchemy import func, select
from tests.conftest import Database, csrf_token_of, echo_settings, in_process

from gennai.chat.service import SYSTEM_PROMPT
from gennai.config import ModelSpec
from gennai.db.engine import transaction
from gennai.db.models import AuditEvent, Message, ModelCall, User
from gennai.gateway.testing import PIECE_CHARS
from gennai.identity.apikeys import create_key


def parse_sse(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        name = data = ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        events.append((name, json.loads(data)))
    return events


async def send(client: httpx.AsyncClient, content: str, conversation_id: str | None = None, model: str = "echo"):
    token = await csrf_token_of(client)
    return await client.post(
        "/chat/messages",
        headers={"X-CSRF-Token": token},
        json={"conversation_id": conversation_id, "content": content, "model": model},
    )


async def test_message_streams_answer_and_is_kept_in_history(app_client: httpx.AsyncClient, db_sessions):
    response = await send(app_client, "法令の調べ方を教えて")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert events[0][0] == "start"
    conversation_id = events[0][1]["conversation_id"]
    deltas = "".join(data["text"] for name, data in events if name == "delta")
    assert deltas == "Echo: 法令の調べ方を教えて"
    assert events[-1] == (
        "done",
        {
            "status": "complete",
            "usage": {
                "prompt_tokens": events[-1][1]["usage"]["prompt_tokens"],
                "completion_tokens": events[-1][1]["usage"]["completion_tokens"],
            },
        },
    )

    async with db_sessions() as session:
        messages = (await session.scalars(select(Message).order_by(Message.seq))).all()
        assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
        assert messages[1].content == deltas
        call = await session.get(ModelCall, messages[1].model_call_id)
        assert call is not None and call.source == "portal" and call.completion_tokens > 0
        actions = set((await session.scalars(select(AuditEvent.action))).all())
        assert {"chat.message", "portal.model_call"} <= actions

    history = await app_client.get("/history")
    assert "法令の調べ方を教えて" in history.text
    page = await app_client.get(f"/c/{conversation_id}")
    assert page.status_code == 200 and "Echo: 法令の調べ方を教えて" in page.text

    follow = parse_sse((await send(app_client, "続けて", conversation_id)).text)
    assert follow[0][1]["conversation_id"] == conversation_id


async def test_bad_messages_are_refused_and_nothing_is_written(app_client: httpx.AsyncClient, db_sessions):
    empty = (await send(app_client, "   ")).json()["error"]
    assert empty == {"code": "empty_message", "message": "メッセージが空です。"}  # in the user's language
    too_long = await send(app_client, "あ" * 20_001)
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "message_too_long"
    unknown = await send(app_client, "hello", model="no-such-model")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_model"
    missing = await send(app_client, "hello", conversation_id="00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    async with db_sessions() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_change_without_csrf_token_is_refused(app_client: httpx.AsyncClient, db_sessions):
    response = await app_client.post("/chat/messages", json={"content": "hello"})
    assert response.status_code == 403
    async with db_sessions() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_model_failure_mid_stream_keeps_partial_answer_marked_incomplete(app_client, db_sessions):
    events = parse_sse((await send(app_client, "[[error]] please")).text)
    assert events[-1][0] == "error" and events[-1][1]["code"] == "model_failed"
    async with db_sessions() as session:
        answer = (await session.scalars(select(Message).where(Message.role == "assistant"))).one()
        assert answer.status == "incomplete"
        assert answer.content == "Echo"
        assert "mid-stream" in (answer.error or "")


async def test_retry_replaces_last_answer_and_rename_delete(app_client: httpx.AsyncClient, db_sessions):
    conversation_id = parse_sse((await send(app_client, "first question")).text)[0][1]["conversation_id"]
    token = await csrf_token_of(app_client)
    retried = parse_sse(
        (
            await app_client.post(
                f"/chat/{conversation_id}/retry", headers={"X-CSRF-Token": token}, json={"model": "echo-2"}
            )
        ).text
    )
    assert "".join(d["text"] for n, d in retried if n == "delta") == "Echo: first question"
    async with db_sessions() as session:
        rows = (await session.scalars(select(Message).order_by(Message.seq))).all()
        assert [(m.role, m.model) for m in rows] == [("user", None), ("assistant", "echo-2")]

    renamed = await app_client.post(
        f"/history/{conversation_id}/rename", data={"title": "新しい名前", "csrf_token": token}
    )
    assert renamed.status_code == 303
    assert "新しい名前" in (await app_client.get("/history")).text
    empty_title = await app_client.post(f"/history/{conversation_id}/rename", data={"title": " ", "csrf_token": token})
    assert empty_title.status_code == 400

    deleted = await app_client.post(f"/history/{conversation_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert (await app_client.get(f"/c/{conversation_id}")).status_code == 404
    async with db_sessions() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_health_and_readiness(app_client: httpx.AsyncClient):
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    ready = await app_client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "models": True}


async def test_pages_switch_language_and_carry_security_headers(app_client: httpx.AsyncClient):
    home = await app_client.get("/")
    assert 'lang="ja"' in home.text and "ローカル単一利用者モード" in home.text
    assert "script-src 'self'" in home.headers["content-security-policy"]
    switched = await app_client.get("/lang/en", headers={"referer": "http://127.0.0.1/history"})
    assert switched.status_code == 303 and switched.headers["location"] == "/history"
    english = await app_client.get("/")
    assert 'lang="en"' in english.text and "single-user local mode" in english.text


async def test_the_history_sent_to_a_model_fits_its_context_beside_the_answer(database: Database, tmp_path):
    # 1,200 tokens of context, 200 kept for the answer: about 500 characters of Japanese input at most.
    small = ModelSpec(name="echo-small", provider="test", context_window=1200, max_output_tokens=200)
    async with in_process(echo_settings(database.url, tmp_path, small)) as client:
        conversation_id = None
        for turn in range(4):
            question = f"{turn}" + "条文の趣旨を説明してください。" * 10
            response = await send(client, question, conversation_id, "echo-small")
            conversation_id = parse_sse(response.text)[0][1]["conversation_id"]
            assert parse_sse(response.text)[-1][1]["status"] == "complete"
        sessions = client.app.state.services.sessions  # type: ignore[attr-defined]
        async with sessions() as session:
            prompts = (await session.scalars(select(ModelCall.prompt_tokens).order_by(ModelCall.id))).all()
    sent_chars = [tokens * PIECE_CHARS for tokens in prompts]  # the echo model counts 4 characters a token
    assert sent_chars[1] > sent_chars[0]  # the second turn carries the first
    assert all(chars <= small.prompt_chars() + PIECE_CHARS for chars in sent_chars)
    assert sent_chars[-1] >= len(SYSTEM_PROMPT) + 150  # the newest message is always sent


async def _call_then_leave(app, path: str, headers: dict[str, str], body: dict) -> None:
    """One ASGI request whose client goes away half a second into the answer, as a closed browser tab does."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}
        await asyncio.sleep(0.5)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body":
            await asyncio.sleep(0.2)  # a slow reader: the disconnect finds the response waiting to send

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*raw, (b"content-type", b"application/json"), (b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)


async def test_a_client_leaving_mid_stream_has_its_call_recorded_at_once(database: Database, tmp_path):
    # The usage row and audit event are written when the stream is closed; a response left suspended
    # was closed only by the garbage collector, switched off here so that only closing can write them.
    async with in_process(echo_settings(database.url, tmp_path)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        async with transaction(services.sessions) as session:
            _, key = await create_key(session, await session.get(User, services.local_user_id))
        token = await csrf_token_of(client)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        question = {"role": "user", "content": "法令の調べ方を詳しく教えてください。" * 3}
        gc.disable()
        try:
            await _call_then_leave(
                client.app,
                "/v1/chat/completions",
                {"Authorization": f"Bearer {key}"},
                {"model": "echo", "stream": True, "messages": [question]},
            )
            await _call_then_leave(
                client.app,
                "/chat/messages",
                {"X-CSRF-Token": token, "cookie": cookie},
                {"content": question["content"], "model": "echo"},
            )
            async with services.sessions() as session:
                columns = select(ModelCall.source, ModelCall.status, ModelCall.prompt_tokens)
                calls = (await session.execute(columns)).all()
                pending = await session.scalar(
                    select(func.count()).select_from(Message).where(Message.status == "pending")
                )
        finally:
            gc.enable()
    assert sorted((source, status) for source, status, _ in calls) == [("api", "incomplete"), ("portal", "incomplete")]
    assert all(tokens > 0 for _, _, tokens in calls)  # the model never reported usage: the prompt is estimated
    assert pending == 0


async def test_messages_sent_at_once_to_one_conversation_are_kept_or_refused_clearly(
    app_client: httpx.AsyncClient, db_sessions
):
    first = parse_sse((await send(app_client, "最初の質問")).text)[0][1]["conversation_id"]
    responses = await asyncio.gather(*(send(app_client, f"同時の質問{n}", first) for n in range(4)))
    statuses = [response.status_code for response in responses]
    assert 200 in statuses and set(statuses) <= {200, 409}, statuses
    refused = [response.json()["error"]["code"] for response in responses if response.status_code == 409]
    assert set(refused) <= {"conversation_busy"}
    async with db_sessions() as session:
        messages = (await session.scalars(select(Message).order_by(Message.seq))).all()
    assert [m.seq for m in messages] == list(range(len(messages)))
    assert len(messages) == 2 + 2 * statuses.count(200)
