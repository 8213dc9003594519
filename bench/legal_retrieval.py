"""Retrieval quality of legal search on the dev set over the full reference corpus.

Run: .venv/bin/python bench/legal_retrieval.py
Prints recall@1, recall@10 and MRR (the last line is one JSON object). Target: recall@10 >= 0.9.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from gennai.apps.legal.search import LegalSearch
from legal_corpus import corpus_or_exit, fresh_store, ingest_corpus, load_devset


def _is_gold(hit_law: str, hit_article: str, gold: list[dict[str, str]]) -> bool:
    return any(g["law_id"] == hit_law and g["article"] == hit_article for g in gold)


async def main() -> None:
    corpus = corpus_or_exit()
    devset = load_devset()
    with tempfile.TemporaryDirectory() as directory:
        engine, sessions = await fresh_store(Path(directory))
        await ingest_corpus(sessions, corpus)
        search = await LegalSearch.load(sessions)
        first, top10, reciprocal, misses = 0, 0, 0.0, []
        for case in devset:
            gold = case["gold"]
            hits = await search.search(str(case["query"]), limit=10)
            ranks = [i for i, h in enumerate(hits, 1) if _is_gold(h.law_id, h.article, gold)]  # type: ignore[arg-type]
            if ranks:
                first += ranks[0] == 1
                top10 += 1
                reciprocal += 1 / ranks[0]
            else:
                top = [f"{h.law_title[:10]}:{h.article}" for h in hits[:3]]
                misses.append(f"{case['id']} {case['query']} -> {top}")
        await engine.dispose()
    for miss in misses:
        print("miss:", miss)
    n = len(devset)
    print(
        json.dumps(
            {
                "questions": n,
                "laws_in_corpus": search.law_count,
                "recall_at_1": round(first / n, 3),
                "recall_at_10": round(top10 / n, 3),
                "mrr": round(reciprocal / n, 3),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
