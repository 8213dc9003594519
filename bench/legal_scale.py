"""Scale of the statute store and search over the whole reference corpus.

Run: .venv/bin/python bench/legal_scale.py [--db PATH]
Ingests egov-xml/ and bulk-articles.zip (2,083 statutes) into a fresh SQLite database in a temporary
directory, builds the search index, then times searches: the dev-set questions, the same restricted
to a law, provision citations, caption words, and bad input (one character, 10,000 characters).
Targets: ingest < 300 s, p50 < 20 ms, p99 < 100 ms. The last line is one JSON object. ``--db`` reuses
a store that ``legal_retrieval.py --db`` filled (no ingest is timed then) to measure search alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from gennai.apps.legal.search import LegalSearch
from legal_corpus import corpus_or_exit, fresh_store, ingest_corpus, load_devset

EXTRA_QUERIES = [
    "行政手続法第五条",
    "AI法第3条",
    "労働基準法第三十二条の二",
    "個人情報の保護に関する法律第27条第1項",
    "会社法第三百二十七条",
    "国家公務員法第百条",
    "税",
    "者",
    "あ" * 10_000,
    "定義",
    "罰則",
    "施行期日",
    "経過措置",
    "審査請求",
    "許可の取消し",
    "報告の徴収及び立入検査",
    "個人情報",
    "地方公共団体の長の権限",
    "外国人の在留資格",
    "補助金の交付の申請",
]


def _rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


async def main(reuse: Path | None) -> None:
    corpus = corpus_or_exit()
    devset = load_devset() + load_devset("heldout")
    with tempfile.TemporaryDirectory() as directory:
        engine, sessions = await fresh_store(reuse or Path(directory))
        ingest_seconds, reports = (0.0, []) if reuse else await ingest_corpus(sessions, corpus)
        started = time.perf_counter()
        search = await LegalSearch.load(sessions)
        index_seconds = time.perf_counter() - started
        queries: list[tuple[str, str | None]] = [(str(c["query"]), None) for c in devset]
        queries += [(str(c["query"]), str(c["gold"][0]["law_id"])) for c in devset]  # type: ignore[index]
        queries += [(q, None) for q in EXTRA_QUERIES]
        await search.search("ウォームアップ")
        timings = []
        for query, law in queries:
            started = time.perf_counter()
            await search.search(query, law=law, limit=10)
            timings.append((time.perf_counter() - started) * 1000)
        await engine.dispose()
    timings.sort()
    laws = sum(len(r.added) + len(r.updated) + len(r.unchanged) for r in reports)
    print(
        json.dumps(
            {
                "laws": laws,
                "failed": sum(len(r.failed) for r in reports),
                "indexed_articles": search.size,
                "ingest_seconds": round(ingest_seconds, 1),
                "index_build_seconds": round(index_seconds, 2),
                "peak_rss_mb": _rss_mb(resource.RUSAGE_SELF),
                "peak_rss_worker_mb": _rss_mb(resource.RUSAGE_CHILDREN),
                "queries": len(timings),
                "search_p50_ms": round(statistics.median(timings), 2),
                "search_p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 2),
                "search_max_ms": round(timings[-1], 2),
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="folder of an already ingested SQLite store (bench.db)")
    asyncio.run(main(parser.parse_args().db))
