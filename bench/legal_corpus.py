"""Shared by the legal benchmarks: find the reference corpus and load it into a fresh SQLite store."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gennai.apps.legal.ingest import IngestReport, ingest_path
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
}
DEVSET = QUESTION_SETS["dev"]


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
