"""Shared by the legal benchmarks: find the reference corpus and load it into a fresh SQLite store."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gennai.apps.legal.ingest import IngestReport, ingest_path
from gennai.apps.legal.search import LegalSearch
from gennai.db.engine import create_engine, session_factory
from gennai.db.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "laws"
QUESTION_SETS = {
    "dev": REPO / "bench" / "legal" / "devset.jsonl",  # seen while tuning
    "heldout": REPO / "bench" / "legal" / "heldout.jsonl",  # written blind; its misses were read on 2026-11-29
    "fresh": REPO / "bench" / "legal" / "fresh.jsonl",  # written without running search; misses read later
    "blind": REPO / "bench" / "legal" / "blind.jsonl",  # written last without running search; never tuned on
    "blind2": REPO / "bench" / "legal" / "blind2.jsonl",  # written by a helper who saw neither search nor glossaries
    "blind3": REPO / "bench" / "legal" / "blind3.jsonl",  # the same, written after the second glossary was drafted
    "blind4": REPO / "bench" / "legal" / "blind4.jsonl",  # the same again, written once blind3's misses had been read
    "blind5": REPO / "bench" / "legal" / "blind5.jsonl",  # the same, written on 2026-12-07 after all tuning so far
    "blind6": REPO / "bench" / "legal" / "blind6.jsonl",  # the same, written once the article captions were in
    "blind7": REPO / "bench" / "legal" / "blind7.jsonl",  # the same, written once the coordination bonus was in
    "blind8": REPO / "bench" / "legal" / "blind8.jsonl",  # the same, at the same time, on the other half of the ground
    "blind9": REPO / "bench" / "legal" / "blind9.jsonl",  # the same, written on 2026-12-07 to be read
    "blind10": REPO / "bench" / "legal" / "blind10.jsonl",  # likewise, on the other half of the ground
    "blind11": REPO / "bench" / "legal" / "blind11.jsonl",  # written beside them on everyday ground; unread
}
DEVSET = QUESTION_SETS["dev"]
# Sets whose misses are never printed and never fitted on, so that they keep measuring generalisation.
UNREAD = frozenset({"blind4", "blind5", "blind6", "blind7", "blind8", "blind11"})


def corpus_or_exit() -> Path:
    """The corpus folder, or a clean skip (exit 0) where it is absent."""
    if not (CORPUS / "bulk-articles.zip").is_file() or not (CORPUS / "egov-xml").is_dir():
        print(json.dumps({"skipped": f"reference corpus not found at {CORPUS}"}))
        sys.exit(0)
    return CORPUS


def load_devset(name: str = "dev") -> list[dict[str, object]]:
    """A question set by name (see ``QUESTION_SETS``): one JSON object a line with query and gold."""
    path = QUESTION_SETS[name]
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


async def fresh_store(directory: Path) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await upgrade(engine)
    return engine, session_factory(engine)


async def ingest_corpus(sessions: async_sessionmaker[AsyncSession], corpus: Path) -> tuple[float, list[IngestReport]]:
    """Ingest egov-xml/ and bulk-articles.zip; returns the seconds taken and both reports."""
    started = time.perf_counter()
    reports = [
        await ingest_path(sessions, corpus / "egov-xml"),
        await ingest_path(sessions, corpus / "bulk-articles.zip"),
    ]
    return time.perf_counter() - started, reports


async def evaluate(search: LegalSearch, name: str, *, show_misses: bool = True) -> dict[str, float]:
    """Recall@1, recall@10 and MRR of ``search`` on a question set; misses are printed unless told not to.

    The misses of an ``UNREAD`` set are never printed: reading them would make it one more set tuned on.
    """
    show_misses = show_misses and name not in UNREAD
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
        if show_misses and (not ranks or ranks[0] > 1):
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


def _is_gold(hit_law: str, hit_article: str, gold: list[dict[str, str]]) -> bool:
    return any(g["law_id"] == hit_law and g["article"] == hit_article for g in gold)
