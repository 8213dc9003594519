"""Retrieval quality of legal search over the full reference corpus, on the question sets.

Run: .venv/bin/python bench/legal_retrieval.py [--set dev|heldout|fresh|blind|all] [--db PATH]
Prints the misses and, per set, recall@1, recall@10 and MRR (the last line is one JSON object).
Target: recall@10 >= 0.9. The sets, in the order they were written (``bench/legal/``):
``dev`` ranking was developed on; ``heldout`` was written blind, then its misses were read while
writing the glossary; ``fresh`` was written by someone who never ran search, and its misses were
read too; ``blind`` was written last, without running search, and is never tuned on: it is the
measure of generalisation. ``--db`` keeps the ingested store in a SQLite file (ingesting only when
it is empty), so repeated runs skip the few minutes of ingest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from gennai.apps.legal.search import LegalSearch
from gennai.apps.legal.tables import LawRow
from legal_corpus import QUESTION_SETS, corpus_or_exit, fresh_store, ingest_corpus, load_devset


def _is_gold(hit_law: str, hit_article: str, gold: list[dict[str, str]]) -> bool:
    return any(g["law_id"] == hit_law and g["article"] == hit_article for g in gold)


async def _evaluate(search: LegalSearch, name: str) -> dict[str, object]:
    questions = load_devset(name)
    first, top10, reciprocal = 0, 0, 0.0
    for case in questions:
        gold = case["gold"]
        hits = await search.search(str(case["query"]), limit=10)
        ranks = [i for i, h in enumerate(hits, 1) if _is_gold(h.law_id, h.article, gold)]  # type: ignore[arg-type]
        if ranks:
            first += ranks[0] == 1
            top10 += 1
            reciprocal += 1 / ranks[0]
        if not ranks or ranks[0] > 1:
            top = [f"{h.law_title[:10]}:{h.article}" for h in hits[:3]]
            rank = ranks[0] if ranks else "-"
            print(f"{name} rank {rank}: {case['id']} {case['query']} -> {top}")
    n = len(questions)
    return {
        "questions": n,
        "recall_at_1": round(first / n, 3),
        "recall_at_10": round(top10 / n, 3),
        "mrr": round(reciprocal / n, 3),
    }


async def _run(names: list[str], directory: Path) -> dict[str, object]:
    corpus = corpus_or_exit()
    engine, sessions = await fresh_store(directory)
    async with sessions() as session:
        held = (await session.execute(select(func.count(LawRow.law_id)))).scalar_one()
    if not held:
        await ingest_corpus(sessions, corpus)
    search = await LegalSearch.load(sessions)
    report: dict[str, object] = {"laws_in_corpus": search.law_count}
    for name in names:
        report[name] = await _evaluate(search, name)
    await engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*QUESTION_SETS, "all"], default="dev", help="question set (default dev)")
    parser.add_argument("--db", type=Path, help="folder for a reusable SQLite store (default: a temporary one)")
    args = parser.parse_args()
    names = list(QUESTION_SETS) if args.set == "all" else [args.set]
    if args.db:
        args.db.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(_run(names, args.db))
    else:
        with tempfile.TemporaryDirectory() as directory:
            report = asyncio.run(_run(names, Path(directory)))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
