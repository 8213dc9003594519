"""Fit legal search's ranking weights by coordinate ascent on the question sets, with one set held out.

Run: .venv/bin/python bench/legal_tune.py [--db PATH] [--rounds N]
Each round tries every weight in ``WEIGHTS`` at ×0.5, ×0.75, ×1.33 and ×2 and keeps a change that
raises the objective, the mean of recall@10 + MRR over the training sets (all sets but the unread
ones, ``UNREAD``). A small, well-known method (the coordinate ascent of learning-to-rank toolkits such as RankLib)
suits a dozen interacting weights and a few hundred questions. The unread sets are only measured,
before and after: they say whether the fit generalises. Nothing is written: copy the weights the last
line reports into ``gennai/apps/legal/search.py`` if the held-out figures agree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select

from gennai.apps.legal import search, vocabulary
from gennai.apps.legal.search import LegalSearch
from gennai.apps.legal.tables import LawRow
from gennai.search import synonyms
from legal_corpus import QUESTION_SETS, UNREAD, corpus_or_exit, evaluate, fresh_store, ingest_corpus

WEIGHTS: dict[str, ModuleType] = {
    name: search
    for name in (
        "CAPTION_WEIGHT",
        "TITLE_WEIGHT",
        "PURPOSE_WEIGHT",
        "TOPIC_FIELD_WEIGHT",
        "NAMED_LAW_BONUS",
        "NAMED_LAW_TERM_WEIGHT",
        "OUTLINE_WEIGHT",
        "CAPTION_COVERAGE_BONUS",
        "DEFINITION_BONUS",
        "PASSAGE_WEIGHT",
        "NAMED_LAW_STEM_BONUS",
        "TOPIC_BONUS",
        "CENTRALITY_WEIGHT",
        "STATUTE_CITED_WEIGHT",
        "COORDINATION_BONUS",
        "MEANING_WEIGHT",
    )
} | {"EXPANSION_WEIGHT": vocabulary, "SYNONYM_WEIGHT": synonyms}
FACTORS = (0.5, 0.75, 1.33, 2.0)


async def _figures(index: LegalSearch, names: list[str]) -> dict[str, dict[str, float]]:
    return {name: await evaluate(index, name, show_misses=False) for name in names}


def _objective(figures: dict[str, dict[str, float]], train: list[str]) -> float:
    return sum(figures[name]["recall_at_10"] + figures[name]["mrr"] for name in train) / len(train)


async def _fit(directory: Path, rounds: int) -> dict[str, object]:
    engine, sessions = await fresh_store(directory)
    async with sessions() as session:
        if not (await session.execute(select(func.count(LawRow.law_id)))).scalar_one():
            await ingest_corpus(sessions, corpus_or_exit())
    index = await LegalSearch.load(sessions)
    train = [name for name in QUESTION_SETS if name not in UNREAD]
    held_out = sorted(UNREAD)
    start = await _figures(index, [*train, *held_out])
    best = _objective(start, train)
    print(f"start: objective {best:.4f}, held out {[start[name] for name in held_out]}", flush=True)
    for round_number in range(1, rounds + 1):
        for name, module in WEIGHTS.items():
            current = kept = getattr(module, name)
            for factor in FACTORS:
                setattr(module, name, current * factor)
                value = _objective(await _figures(index, train), train)
                if value > best + 1e-4:
                    best, kept = value, current * factor
                    print(f"round {round_number}: {name} {current:g} -> {kept:g}, objective {best:.4f}", flush=True)
            setattr(module, name, kept)
    end = await _figures(index, [*train, *held_out])
    await engine.dispose()
    return {
        "weights": {name: round(getattr(module, name), 3) for name, module in WEIGHTS.items()},
        "objective": {"before": round(_objective(start, train), 4), "after": round(best, 4)},
        "train": {name: {"before": start[name], "after": end[name]} for name in train},
        "holdout": {name: {"before": start[name], "after": end[name]} for name in held_out},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="folder for a reusable SQLite store (default: a temporary one)")
    parser.add_argument("--rounds", type=int, default=2, help="passes over all weights (default 2)")
    args = parser.parse_args()
    if args.db:
        args.db.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(_fit(args.db, args.rounds))
    else:
        with tempfile.TemporaryDirectory() as directory:
            report = asyncio.run(_fit(Path(directory), args.rounds))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
