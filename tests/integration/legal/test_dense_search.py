"""Search fused with stored article embeddings, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.legal.test_store_and_search import AI_ACT, PROCEDURE, PROCEDURE_ID
from tests.integration.legal.test_vectors import bigram_vector

from gennai.apps.legal.ingest import ingest_path
from gennai.apps.legal.search import DenseRanking, LegalSearch
from gennai.apps.legal.tables import ProvisionRow, RevisionRow
from gennai.apps.legal.vectors import backfill, load_vectors
from gennai.gateway.base import ProviderError

Sessions = async_sessionmaker[AsyncSession]
MODEL = "test-embedding"
NONSENSE = "ぬぬぬぬ"  # no statute word: text ranking finds nothing


class PointingEmbedder:
    """Embeds texts by character bigrams, except queries pointed at a chosen vector."""

    def __init__(self) -> None:
        self.pointed: dict[str, list[float]] = {}
        self.failing = False
        self.callers: list[uuid.UUID | None] = []

    async def __call__(self, texts: list[str], user_id: uuid.UUID | None = None, /) -> list[list[float]]:
        self.callers.append(user_id)
        if self.failing:
            raise ProviderError("embedding server unreachable", retryable=True)
        return [self.pointed.get(text) or bigram_vector(text) for text in texts]


async def article_vector(sessions: Sessions, law_id: str, article: str) -> list[float]:
    async with sessions() as session:
        provision_id = await session.scalar(
            select(ProvisionRow.id)
            .join(RevisionRow, RevisionRow.id == ProvisionRow.revision_pk)
            .where(RevisionRow.law_id == law_id, ProvisionRow.article_num == article, ProvisionRow.part == "main")
        )
    ids, matrix = await load_vectors(sessions, MODEL)
    return [float(x) for x in matrix[int(np.flatnonzero(ids == provision_id)[0])]]


async def test_embeddings_find_what_words_do_not(db_sessions: Sessions) -> None:
    await ingest_path(db_sessions, PROCEDURE)
    await ingest_path(db_sessions, AI_ACT)
    embedder = PointingEmbedder()
    search = await LegalSearch.load(db_sessions, DenseRanking(MODEL, embedder))
    assert await search.search(NONSENSE) == []  # no vectors yet: text ranking only

    await backfill(db_sessions, embedder, MODEL)
    embedder.pointed[NONSENSE] = await article_vector(db_sessions, PROCEDURE_ID, "35")
    assert await search.refresh()  # new vectors are picked up like new articles
    user = uuid.uuid4()
    found = await search.search(NONSENSE, limit=5, caller=user)
    assert (found[0].law_id, found[0].article) == (PROCEDURE_ID, "35")
    assert embedder.callers[-1] == user  # the query is embedded on the searcher's behalf

    # Both rankings are heard: the text's best article and the embedding's best article, which text
    # ranking alone does not find at all.
    embedder.pointed["審査基準"] = await article_vector(db_sessions, PROCEDURE_ID, "35")
    fused = [(h.law_id, h.article) for h in await search.search("審査基準", limit=20)]
    assert (PROCEDURE_ID, "5") in fused and (PROCEDURE_ID, "35") in fused
    text_only = await (await LegalSearch.load(db_sessions)).search("審査基準", limit=50)
    assert (PROCEDURE_ID, "35") not in [(h.law_id, h.article) for h in text_only]

    # Filters hold for what the embeddings bring.
    assert all(h.law_id != PROCEDURE_ID for h in await search.search(NONSENSE, law="507AC0000000053"))

    # An embedding model that fails leaves search working on text alone.
    lexical = [(h.law_id, h.article) for h in await (await LegalSearch.load(db_sessions)).search("審査基準")]
    embedder.failing = True
    assert [(h.law_id, h.article) for h in await search.search("審査基準")] == lexical
    assert await search.search(NONSENSE) == []


async def test_the_embedding_share_of_the_fusion_is_a_setting(db_sessions: Sessions) -> None:
    await ingest_path(db_sessions, PROCEDURE)
    embedder = PointingEmbedder()
    await backfill(db_sessions, embedder, MODEL)
    embedder.pointed["審査基準"] = await article_vector(db_sessions, PROCEDURE_ID, "35")
    lexical = [h.article for h in await (await LegalSearch.load(db_sessions)).search("審査基準", limit=20)]

    async def ranking(weight: float) -> list[str]:
        search = await LegalSearch.load(db_sessions, DenseRanking(MODEL, embedder, weight))
        return [h.article for h in await search.search("審査基準", limit=20)]

    light, equal, heavy = await ranking(0.01), await ranking(1.0), await ranking(10.0)
    assert light[:3] == lexical[:3]  # a tiny share leaves the text ranking's best alone
    assert heavy.index("35") <= equal.index("35") and heavy.index("35") < 3
