"""Stored embeddings of statute articles, for search ranked by meaning where an embedding model is configured.

Vectors live in ``legal_vectors`` (one row per article and model) rather than beside the search index
because computing them is the slow, paid part: about 94,000 articles for all statutes, through an
embedding server. ``backfill`` therefore embeds only what has no vector yet and commits batch by
batch, so an interrupted run resumes where it stopped and a failed batch costs only itself; a
re-ingested revision needs vectors for its new articles only, and the vectors of replaced articles
go with them (ON DELETE CASCADE). The vectors are stored as float32 bytes, which every backend keeps
as a plain blob, and ``load_vectors`` turns them into one normalised matrix for the in-memory ranking.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, and_, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal.tables import ProvisionRow, RevisionRow, VectorRow, indexed_article
from gennai.db.engine import transaction
from gennai.gateway.service import Gateway
from gennai.search.index import FloatArray

EmbedTexts = Callable[[list[str]], Awaitable[list[list[float]]]]


class EmbedFor(Protocol):
    """Embeddings on behalf of a user (their text is guarded) or of no one (statutes); also an ``EmbedTexts``."""

    def __call__(self, texts: list[str], user_id: uuid.UUID | None = None, /) -> Awaitable[list[list[float]]]: ...


Progress = Callable[[int, int], None]  # (articles embedded so far, articles missing a vector at the start)

MAX_EMBEDDING_CHARS = 500  # Japanese runs near a token a character: within a 512-token model such as e5
VECTOR_DTYPE = np.dtype("<f4")
LOAD_PAGE = 2000  # rows fetched per round trip by load_vectors: a few MB of vector bytes
IdArray = npt.NDArray[np.int64]


def gateway_embedder(gateway: Gateway, model: str, source: str) -> EmbedFor:
    """Embeddings through the gateway, metered and audited as ``source``.

    A user's text (a search) is embedded on the user's behalf, so the guard reads it; statutes are
    embedded by no one (``user_id`` None).
    """

    async def embed(texts: list[str], user_id: uuid.UUID | None = None, /) -> list[list[float]]:
        return await gateway.embed(user_id, model, texts, source=source)

    return embed


async def embed_statutes(
    sessions: async_sessionmaker[AsyncSession], gateway: Gateway, model: str, *, progress: Progress | None = None
) -> int:
    """``backfill`` through the gateway as system work: statutes are public and embedded by no one."""
    return await backfill(sessions, gateway_embedder(gateway, model, "legal.index"), model, progress=progress)


def embedding_text(law_title: str, caption: str, path_titles: Sequence[str], text: str) -> str:
    """What is embedded for an article: the statute and outline say what it is about, then its caption and text.

    An article's own words often leave the subject implicit (「前条の規定により…」), so the statute
    title and the 章・節 titles come first; the text is cut rather than the context.
    """
    context = " ".join(part for part in (law_title, *path_titles) if part)
    body = "\n".join(part for part in (caption, text) if part)
    return f"{context}\n{body}"[:MAX_EMBEDDING_CHARS]


def _without_vector(model: str) -> ColumnElement[bool]:
    has_vector = exists().where(VectorRow.provision_id == ProvisionRow.id, VectorRow.model == model)
    return and_(indexed_article(), ~has_vector)


async def missing_count(sessions: async_sessionmaker[AsyncSession], model: str) -> int:
    """How many indexed articles have no vector for ``model`` yet (for status display)."""
    async with sessions() as session:
        query = select(func.count()).select_from(ProvisionRow).where(_without_vector(model))
        return int(await session.scalar(query) or 0)


async def backfill(
    sessions: async_sessionmaker[AsyncSession],
    embed: EmbedTexts,
    model: str,
    *,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> int:
    """Embed every indexed article without a vector for ``model``; returns how many were embedded.

    Reads one page of articles at a time (by id), so memory stays bounded, and holds no database
    connection while ``embed`` runs. Each batch commits on its own: when ``embed`` fails or returns
    unusable vectors, the error propagates and the batches before it stay stored.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = await missing_count(sessions, model)
    async with sessions() as session:
        dimensions = await session.scalar(select(VectorRow.dimensions).where(VectorRow.model == model).limit(1))
    done = 0
    after = 0
    while True:
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(
                        ProvisionRow.id, RevisionRow.title, ProvisionRow.caption, ProvisionRow.path, ProvisionRow.text
                    )
                    .join(RevisionRow, RevisionRow.id == ProvisionRow.revision_pk)
                    .where(_without_vector(model), ProvisionRow.id > after)
                    .order_by(ProvisionRow.id)
                    .limit(batch_size)
                )
            ).all()
        if not rows:
            return done
        texts = [
            embedding_text(title, caption, [h["title"] for h in json.loads(path)], text)
            for _id, title, caption, path, text in rows
        ]
        matrix = _checked(await embed(texts), len(texts), dimensions, model)
        dimensions = matrix.shape[1]
        async with transaction(sessions) as session:
            await session.execute(
                insert(VectorRow),
                [
                    {"provision_id": row[0], "model": model, "dimensions": dimensions, "vector": vector.tobytes()}
                    for row, vector in zip(rows, matrix, strict=True)
                ],
            )
        done += len(rows)
        after = rows[-1][0]
        if progress:
            progress(done, total)


def _checked(vectors: list[list[float]], count: int, dimensions: int | None, model: str) -> FloatArray:
    """The batch as a float32 matrix, or a clear error when the embedding server answered unusably."""
    if len(vectors) != count:
        raise ValueError(f"embedding model {model!r} returned {len(vectors)} vectors for {count} texts")
    lengths = {len(v) for v in vectors}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"embedding model {model!r} returned vectors of inconsistent dimensions: {sorted(lengths)}")
    (length,) = lengths
    if dimensions is not None and length != dimensions:
        raise ValueError(
            f"embedding model {model!r} returned {length} dimensions but its stored vectors have {dimensions}"
        )
    matrix = np.asarray(vectors, dtype=VECTOR_DTYPE)
    if not np.isfinite(matrix).all():
        raise ValueError(f"embedding model {model!r} returned a vector that is not finite")
    return matrix


async def load_vectors(sessions: async_sessionmaker[AsyncSession], model: str) -> tuple[IdArray, FloatArray]:
    """Provision ids (int64, ascending) and their L2-normalised vectors as an (n, d) float32 matrix.

    Empty arrays of shape (0,) and (0, 0) when ``model`` has no vectors. The matrix is filled row by
    row from a streamed query, so memory holds the matrix and not also every row's bytes; rows added
    after the count are left for the next load.
    """
    async with sessions() as session:
        count, low, high = (
            await session.execute(
                select(func.count(), func.min(VectorRow.dimensions), func.max(VectorRow.dimensions)).where(
                    VectorRow.model == model
                )
            )
        ).one()
        if not count:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        if low != high:
            raise ValueError(f"stored vectors of embedding model {model!r} differ in dimensions ({low} and {high})")
        ids = np.empty(count, dtype=np.int64)
        matrix = np.empty((count, high), dtype=np.float32)
        filled = 0
        result = await session.stream(
            select(VectorRow.provision_id, VectorRow.vector)
            .where(VectorRow.model == model)
            .order_by(VectorRow.provision_id)
            .execution_options(yield_per=LOAD_PAGE)
        )
        async for page in result.partitions():  # a page per await: rows one by one would cost a context switch each
            for provision_id, blob in page[: count - filled]:
                ids[filled] = provision_id
                matrix[filled] = np.frombuffer(blob, dtype=VECTOR_DTYPE)
                filled += 1
    ids, matrix = ids[:filled], matrix[:filled]
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))  # unlike linalg.norm, no temporary copy of the matrix
    norms[norms == 0] = 1.0  # a zero vector stays zero: it matches nothing rather than everything
    matrix /= norms[:, None]
    return ids, matrix
