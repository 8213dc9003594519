"""Legal search with an embedding model configured: statutes embedded at start-up, queries embedded per user."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from tests.conftest import Database, echo_settings, in_process
from tests.integration.test_cli import gennai

from gennai.apps.legal.vectors import missing_count
from gennai.config import ModelSpec
from gennai.db.models import ModelCall
from gennai.web.services import Services

EMBEDDER = ModelSpec(name="echo-embed", provider="test", kind="embedding")


async def test_statutes_are_embedded_beside_the_server_and_searches_use_them(database: Database, tmp_path: Path):
    settings = echo_settings(database.url, tmp_path, EMBEDDER, legal_embedding_model="echo-embed").model_copy(
        update={"legal_sample": True}
    )
    async with in_process(settings) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        for _ in range(300):
            if not await missing_count(services.sessions, "echo-embed"):
                break
            await asyncio.sleep(0.1)
        assert await missing_count(services.sessions, "echo-embed") == 0
        await services.legal.search_index.refresh()
        assert len(services.legal.search_index._dense_positions) == services.legal.search_index.size

        found = await client.get("/api/legal/search", params={"q": "審査基準を定める", "limit": 5})
        assert found.status_code == 200
        assert ("405AC0000000088", "5") in {(r["law_id"], r["article"]) for r in found.json()["results"]}

        async with services.sessions() as session:
            calls = (await session.execute(select(ModelCall.source, ModelCall.user_id, ModelCall.status))).all()
        assert {status for _, _, status in calls} == {"complete"}
        assert any(source == "legal.index" and user is None for source, user, _ in calls)  # statutes: no one's
        assert [user for source, user, _ in calls if source == "legal.search"] == [services.local_user_id]


def test_ingest_embeds_new_articles_and_resumes(database: Database, tmp_path: Path):
    from importlib import resources

    env = {
        "GENNAI_DATA_DIR": str(tmp_path),
        "GENNAI_DATABASE_URL": database.url,
        "GENNAI_MODELS": '[{"name": "echo", "provider": "test"}, '
        '{"name": "echo-embed", "provider": "test", "kind": "embedding"}]',
    }
    unset = gennai("ingest", "embeddings", env=env)
    assert unset.returncode == 2 and "legal_embedding_model is not set" in unset.stderr

    env["GENNAI_LEGAL_EMBEDDING_MODEL"] = "echo-embed"
    with resources.as_file(resources.files("gennai.apps.legal") / "sample" / "full") as sample:
        first = gennai("ingest", "laws", str(sample), "-q", env=env)
    assert first.returncode == 0, first.stderr
    embedded = int(first.stdout.split("embedded ")[-1].split()[0])
    assert embedded > 100
    again = gennai("ingest", "embeddings", "-q", env=env)
    assert again.returncode == 0 and "embedded 0 articles with echo-embed" in again.stdout

    wrong = gennai("ingest", "embeddings", env={**env, "GENNAI_LEGAL_EMBEDDING_MODEL": "echo"})
    assert wrong.returncode == 2 and "must name a configured model of kind 'embedding'" in wrong.stderr
