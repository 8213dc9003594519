"""Retrieval quality of legal search over the full reference corpus, on the question sets.

Run: .venv/bin/python bench/legal_retrieval.py [--set NAME|all] [--db PATH]
Prints the misses (not those of the unread sets, ``UNREAD``) and, per set, recall@1, recall@10 and
MRR (the last line is one JSON object). Target: recall@10 >= 0.9. The sets, in the order they were
written (``bench/legal/``): ``dev`` ranking was developed on; ``heldout`` was written blind, then its
misses were read while writing the glossary; ``fresh`` was written by someone who never ran search,
and its misses were read too; ``blind`` was written without running search, and its misses were read
later too; ``blind2`` to ``blind11`` were written by helpers who saw neither search nor its word lists
(the misses of blind2, blind3, blind9 and blind10 have been read; blind4 to blind8 and blind11 measure
generalisation; blind6 was written after the article captions, blind7 and blind8 after the
coordination bonus, each on half of the ground; blind9 to blind11, 70% situations told in everyday
words, before the word vectors). ``--db`` keeps the ingested store
in a SQLite file (ingesting only when it is empty), so repeated runs skip the ingest.
``--embedding-model`` measures search by meaning too (reciprocal rank fusion with an embedding
model's ranking, see ``DenseRanking``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from gennai.apps.legal.search import DenseRanking, LegalSearch
from gennai.apps.legal.tables import LawRow
from gennai.apps.legal.vectors import backfill
from gennai.config import ModelSpec
from gennai.gateway.registry import build_provider
from legal_corpus import QUESTION_SETS, corpus_or_exit, evaluate, fresh_store, ingest_corpus


def _dense(spec_json: str | None, weight: float) -> DenseRanking | None:
    """Search by meaning too, with the embedding model a ModelSpec JSON describes (as in settings)."""
    if spec_json is None:
        return None
    spec = ModelSpec.model_validate_json(spec_json)
    if spec.kind != "embedding":
        raise SystemExit(f"--embedding-model: {spec.name} is not of kind 'embedding'")
    provider = build_provider(spec)

    async def embed(texts: list[str], user_id: uuid.UUID | None = None, /) -> list[list[float]]:
        return (await provider.embed(texts)).vectors

    return DenseRanking(spec.name, embed, weight)


async def _run(names: list[str], directory: Path, dense: DenseRanking | None) -> dict[str, object]:
    corpus = corpus_or_exit()
    engine, sessions = await fresh_store(directory)
    async with sessions() as session:
        held = (await session.execute(select(func.count(LawRow.law_id)))).scalar_one()
    if not held:
        await ingest_corpus(sessions, corpus)
    report: dict[str, object] = {}
    if dense is not None:
        started = time.perf_counter()
        embedded = await backfill(sessions, dense.embed, dense.model)
        report["embedding"] = {
            "model": dense.model,
            "embedded": embedded,
            "seconds": round(time.perf_counter() - started, 1),
        }
    search = await LegalSearch.load(sessions, dense)
    report["laws_in_corpus"] = search.law_count
    for name in names:
        report[name] = await evaluate(search, name)
    await engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*QUESTION_SETS, "all"], default="dev", help="question set (default dev)")
    parser.add_argument("--db", type=Path, help="folder for a reusable SQLite store (default: a temporary one)")
    parser.add_argument(
        "--embedding-model",
        metavar="JSON",
        help='an embedding model as in settings, e.g. {"name": "e5", "kind": "embedding", '
        '"provider": "openai-compatible", "model": "intfloat/multilingual-e5-large", '
        '"base_url": "http://127.0.0.1:8080/v1"}: articles are embedded (once per --db) '
        "and search fuses both rankings",
    )
    parser.add_argument(
        "--embedding-weight",
        type=float,
        default=1.0,
        help="the embedding ranking's share of the fusion (setting legal_embedding_weight)",
    )
    args = parser.parse_args()
    names = list(QUESTION_SETS) if args.set == "all" else [args.set]
    if args.db:
        args.db.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(_run(names, args.db, _dense(args.embedding_model, args.embedding_weight)))
    else:
        with tempfile.TemporaryDirectory() as directory:
            report = asyncio.run(_run(names, Path(directory), _dense(args.embedding_model, args.embedding_weight)))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
