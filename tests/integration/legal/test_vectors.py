"""Stored article embeddings on SQLite and PostgreSQL: backfill, resume, refusal, load and cascade."""

from __future__ import annotations

import zlib
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.legal.test_store_and_search import FULL, PROCEDURE, PROCEDURE_ID, later_revision

from gennai.apps.legal.ingest import ingest_path
from gennai.apps.legal.tables import ProvisionRow, RevisionRow, VectorRow
from gennai.apps.legal.vectors import MAX_EMBEDDING_CHARS, EmbedTexts, backfill, load_vectors, missing_count

Sessions = async_sessionmaker[AsyncSession]
MODEL = "test-embedding"
DIMENSIONS = 32


def bigram_vector(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """A deterministic stand-in for an embedding: character bigrams hashed into buckets."""
    vector = [0.0] * dimensions
    for a, b in pairwise(text):
        vector[zlib.crc32((a + b).encode()) % dimensions] += 1.0
    return vector


class Embedder:
    """Records what it was asked to embed; fails on call number ``fail_on`` when given."""

    def __init__(self, dimensions: int = DIMENSIONS, fail_on: int | None = None) -> None:
        self.dimensions = dimensions
        self.fail_on = fail_on
        self.calls: list[list[str]] = []

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(texts)
        if len(self.calls) == self.fail_on:
            raise ConnectionError("embedding server went away")
        return [bigram_vector(t, self.dimensions) for t in texts]

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]


async def indexed_ids(sessions: Sessions, law_id: str | None = None) -> set[int]:
    """The articles the search index holds, found without the module's own query."""
    query = select(ProvisionRow.id, ProvisionRow.part, ProvisionRow.article_num, ProvisionRow.deleted).join(
        RevisionRow, RevisionRow.id == ProvisionRow.revision_pk
    )
    if law_id:
        query = query.where(RevisionRow.law_id == law_id)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return {pk for pk, part, num, deleted in rows if part == "main" and num and not deleted}


async def vector_ids(sessions: Sessions, model: str = MODEL) -> set[int]:
    async with sessions() as session:
        return set((await session.scalars(select(VectorRow.provision_id).where(VectorRow.model == model))).all())


async def test_backfill_embeds_each_indexed_article_once(db_sessions: Sessions) -> None:
    await ingest_path(db_sessions, FULL)
    expected = await indexed_ids(db_sessions)
    async with db_sessions() as session:
        assert len(expected) < await session.scalar(select(func.count()).select_from(ProvisionRow))  # 附則, 削除
    assert await missing_count(db_sessions, MODEL) == len(expected)

    embedder = Embedder()
    seen: list[tuple[int, int]] = []
    done = await backfill(db_sessions, embedder, MODEL, batch_size=50, progress=lambda n, t: seen.append((n, t)))
    assert done == len(expected) and await vector_ids(db_sessions) == expected
    assert all(len(call) <= 50 for call in embedder.calls) and seen[-1] == (done, done)
    assert all(len(text) <= MAX_EMBEDDING_CHARS for text in embedder.texts)
    article_5 = next(t for t in embedder.texts if "（審査基準）" in t)
    assert article_5.startswith("行政手続法 第二章　申請に対する処分\n（審査基準）\n行政庁は、審査基準を定める")
    assert await missing_count(db_sessions, MODEL) == 0

    again = Embedder()
    assert await backfill(db_sessions, again, MODEL) == 0 and again.calls == []
    assert await missing_count(db_sessions, "another-model") == len(expected)  # vectors are per model


async def test_a_new_revision_gets_vectors_for_its_new_articles_only(db_sessions: Sessions, tmp_path: Path) -> None:
    await ingest_path(db_sessions, PROCEDURE)
    first = await indexed_ids(db_sessions)
    await backfill(db_sessions, Embedder(), MODEL)
    await ingest_path(db_sessions, later_revision(tmp_path))
    added = await indexed_ids(db_sessions) - first
    assert added and await missing_count(db_sessions, MODEL) == len(added)
    embedder = Embedder()
    assert await backfill(db_sessions, embedder, MODEL) == len(added)
    assert any("（審査基準の改正）" in t for t in embedder.texts)
    assert await vector_ids(db_sessions) == first | added


async def test_replaced_articles_take_their_vectors_with_them(db_sessions: Sessions, tmp_path: Path) -> None:
    await ingest_path(db_sessions, FULL)
    await backfill(db_sessions, Embedder(), MODEL)
    procedure = await indexed_ids(db_sessions, PROCEDURE_ID)
    corrected = tmp_path / PROCEDURE.name  # the same revision re-published with other bytes: its articles are replaced
    corrected.write_text(PROCEDURE.read_text("utf-8").replace("ものとする。", "ものとする。 "), "utf-8")
    report = await ingest_path(db_sessions, corrected)
    assert report.updated == [PROCEDURE_ID]
    assert not procedure & await vector_ids(db_sessions)
    assert await missing_count(db_sessions, MODEL) == len(await indexed_ids(db_sessions, PROCEDURE_ID))
    async with db_sessions() as session, session.begin():
        await session.execute(delete(ProvisionRow))
    assert await vector_ids(db_sessions) == set()


async def test_a_failed_batch_keeps_the_earlier_ones_and_the_next_run_resumes(db_sessions: Sessions) -> None:
    await ingest_path(db_sessions, PROCEDURE)
    total = len(await indexed_ids(db_sessions))
    failing = Embedder(fail_on=3)
    with pytest.raises(ConnectionError):
        await backfill(db_sessions, failing, MODEL, batch_size=10)
    assert len(await vector_ids(db_sessions)) == 20
    resumed = Embedder()
    assert await backfill(db_sessions, resumed, MODEL, batch_size=10) == total - 20
    assert not set(resumed.texts) & set(failing.texts[:20])


async def wrong_count(texts: list[str]) -> list[list[float]]:
    return [bigram_vector(t) for t in texts[1:]]


async def ragged(texts: list[str]) -> list[list[float]]:
    return [bigram_vector(t, DIMENSIONS + i % 2) for i, t in enumerate(texts)]


async def not_finite(texts: list[str]) -> list[list[float]]:
    return [[float("nan")] * DIMENSIONS for _ in texts]


async def other_dimensions(texts: list[str]) -> list[list[float]]:
    return [bigram_vector(t, DIMENSIONS * 2) for t in texts]


@pytest.mark.parametrize(
    ("embed", "message"),
    [
        (wrong_count, "returned 9 vectors for 10 texts"),
        (ragged, "inconsistent dimensions"),
        (not_finite, "not finite"),
        (other_dimensions, f"returned {DIMENSIONS * 2} dimensions but its stored vectors have {DIMENSIONS}"),
    ],
)
async def test_unusable_vectors_are_refused(db_sessions: Sessions, embed: EmbedTexts, message: str) -> None:
    await ingest_path(db_sessions, PROCEDURE)
    with pytest.raises(ConnectionError):
        await backfill(db_sessions, Embedder(fail_on=2), MODEL, batch_size=10)
    with pytest.raises(ValueError, match=message):
        await backfill(db_sessions, embed, MODEL, batch_size=10)
    assert len(await vector_ids(db_sessions)) == 10


async def test_load_vectors_gives_normalised_rows_aligned_with_ids(db_sessions: Sessions) -> None:
    ids, matrix = await load_vectors(db_sessions, MODEL)
    assert ids.shape == (0,) and matrix.shape == (0, 0)
    await ingest_path(db_sessions, PROCEDURE)
    embedder = Embedder()
    await backfill(db_sessions, embedder, MODEL, batch_size=7)
    ids, matrix = await load_vectors(db_sessions, MODEL)
    assert ids.dtype == np.int64 and matrix.dtype == np.float32
    assert ids.tolist() == sorted(await indexed_ids(db_sessions)) and matrix.shape == (len(ids), DIMENSIONS)
    expected = np.array([bigram_vector(t) for t in embedder.texts], dtype=np.float32)  # embedded in id order
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(matrix, expected, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, rtol=1e-6)
