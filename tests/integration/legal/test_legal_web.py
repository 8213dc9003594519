"""Legal Research through the portal's HTTP interfaces, on the shipped sample, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.conftest import Database, csrf_token_of, echo_settings
from tests.integration.legal.test_store_and_search import bare_law

from gennai.apps.legal import service
from gennai.apps.legal.ingest import ingest_path
from gennai.apps.legal.search import LegalSearch
from gennai.apps.legal.service import LegalResearch
from gennai.web.app import create_app


@pytest.fixture
async def legal_client(database: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(echo_settings(database.url, tmp_path).model_copy(update={"legal_sample": True}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


async def test_search_verify_ask_pages_and_csrf(legal_client: httpx.AsyncClient):
    found = await legal_client.get("/api/legal/search", params={"q": "審査基準を定める", "limit": 5})
    assert found.status_code == 200
    results = found.json()["results"]
    assert {"law_id", "law_title", "article", "paragraph", "text", "score"} <= set(results[0])
    assert ("405AC0000000088", "5") in {(r["law_id"], r["article"]) for r in results}

    direct = (await legal_client.get("/api/legal/search", params={"q": "行政手続法第五条"})).json()["results"]
    assert (direct[0]["law_id"], direct[0]["article"]) == ("405AC0000000088", "5")

    filtered = (await legal_client.get("/api/legal/search", params={"q": "目的", "law": "行政手続法"})).json()
    assert filtered["results"] and {r["law_id"] for r in filtered["results"]} == {"405AC0000000088"}

    for bad in ("", "  ", "あ" * 2_500):
        response = await legal_client.get("/api/legal/search", params={"q": bad})
        assert response.status_code == 400 and response.json()["error"]["code"] in {"empty", "too_long"}
    assert (await legal_client.get("/api/legal/search", params={"q": "あ"})).status_code == 200
    # A malformed kanji number (十十) is no citation; a range of a million paragraphs is refused, not expanded.
    assert (await legal_client.get("/api/legal/search", params={"q": "行政手続法第十十条"})).status_code == 200
    odd = await legal_client.post(
        "/api/legal/verify", json={"text": "行政手続法第十十条、行政手続法第五条第一項から第九九九九九九項まで"}
    )
    assert [(c["text"], c["status"]) for c in odd.json()["citations"]] == [
        ("行政手続法第五条第一項から第九九九九九九項まで", "not_found")
    ]
    assert (await legal_client.get("/api/legal/search", params={"q": "x", "limit": 0})).status_code == 400

    verified = await legal_client.post(
        "/api/legal/verify",
        json={"text": "行政手続法第五条第一項により審査基準を定める。同法第九百九十九条は存在しない。"},
    )
    statuses = [(c["text"], c["status"]) for c in verified.json()["citations"]]
    assert statuses == [("行政手続法第五条第一項", "verified"), ("同法第九百九十九条", "not_found")]
    # Article-level statutes (no paragraph data) cannot confirm a paragraph: ambiguous, never verified.
    lossy = await legal_client.post("/api/legal/verify", json={"text": "民法第七百九条及び民法第七百九条第九項"})
    assert [c["status"] for c in lossy.json()["citations"]] == ["verified", "ambiguous"]
    first = verified.json()["citations"][0]
    assert first["span"] == [0, 11] and first["law_id"] == "405AC0000000088" and first["article"] == "5"

    token = await csrf_token_of(legal_client, "/legal")
    asked = await legal_client.post(
        "/api/legal/ask", headers={"X-CSRF-Token": token}, json={"question": "審査基準とは何か", "form": "definition"}
    )
    body = asked.json()
    assert asked.status_code == 200, body
    assert body["sources"] and body["sources"][0]["law_id"]
    assert all(
        c["status"] in {"verified", "not_found", "not_in_force", "quote_mismatch", "ambiguous"}
        for c in body["citations"]
    )
    long_question = await legal_client.post(
        "/api/legal/ask", headers={"X-CSRF-Token": token}, json={"question": "審査基準とは何か。" * 400}
    )
    assert long_question.status_code == 200  # 3,600 characters: within the ask limit, searched by its start
    bad_form = await legal_client.post("/api/legal/ask", json={"question": "x", "form": "poem"})
    assert bad_form.status_code == 400 and bad_form.json()["error"]["code"] == "bad_form"

    page = await legal_client.get("/legal", params={"q": "審査基準"})
    assert page.status_code == 200 and "行政手続法" in page.text
    article = await legal_client.get("/legal/laws/405AC0000000088/articles/5")
    assert article.status_code == 200 and "審査基準" in article.text and 'rel="next"' in article.text
    assert (await legal_client.get("/legal/laws/405AC0000000088/articles/9999")).status_code == 404

    # A form post (which another site could forge) needs the CSRF token; JSON cannot be sent cross-site.
    forged = await legal_client.post("/api/legal/verify", data={"text": "行政手続法第五条"})
    assert forged.status_code == 403


async def test_a_running_server_finds_statutes_another_process_ingests(
    legal_client: httpx.AsyncClient,
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `gennai ingest laws` runs beside the server and writes to the same database; the server's index
    # checks the database for changes every REFRESH_SECONDS (here at once) and rebuilds.
    monkeypatch.setattr(service, "REFRESH_SECONDS", 0.0)
    assert not (await ingest_path(db_sessions, _write_law(tmp_path))).failed
    found = (await legal_client.get("/api/legal/search", params={"q": "養蜂の振興"})).json()["results"]
    assert [(r["law_title"], r["article"]) for r in found][:1] == [("蜂蜜振興法", "1")]


async def test_a_rebuild_outlives_the_request_that_started_it(
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that gives up on the slow first search after an ingest must not throw the rebuild away.
    research = await LegalResearch.open(db_sessions)
    in_use = research.search_index
    monkeypatch.setattr(service, "REFRESH_SECONDS", 0.0)
    gate = asyncio.Event()
    real_rebuilt = LegalSearch.rebuilt

    async def rebuilt_when_let(index: LegalSearch) -> LegalSearch | None:
        await gate.wait()
        return await real_rebuilt(index)

    monkeypatch.setattr(LegalSearch, "rebuilt", rebuilt_when_let)
    assert not (await ingest_path(db_sessions, _write_law(tmp_path))).failed
    waiting = asyncio.create_task(research.search("養蜂の振興"))
    for _ in range(100):
        if research._rebuilding is not None:
            break
        await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.set()
    for _ in range(200):
        if research.search_index is not in_use:
            break
        await asyncio.sleep(0.01)
    assert research.search_index is not in_use
    assert (await research.search("養蜂の振興"))[0].law_title == "蜂蜜振興法"


def _write_law(folder: Path) -> Path:
    """A one-article statute, 蜂蜜振興法, as the bulk download has it, in a folder of its own."""
    (folder / "laws").mkdir()
    law = bare_law("21", "蜂蜜振興法", ["この法律は、養蜂の振興を図ることを目的とする。"])
    (folder / "laws" / "509AC0000000021.xml").write_text(law, "utf-8")
    return folder / "laws"
