"""Citation verification benchmark: correct and fabricated citations generated from real statutes.

The full-structure statutes in ../shared/corpus/laws/egov-xml/ are ingested into a fresh SQLite
store; from the same XML, parsed in memory, cases are generated: correct citations (articles, 枝番,
paragraphs, items, イロハ sub-items, 附則, real quotes, Arabic and full-width digits) and fabricated
ones (nonexistent article, paragraph, item or sub-item; a law we do not hold; an article of one law
attributed to another; a deleted provision; an altered quote). Every case runs through the verifier
against the store. Target: every fabricated case flagged, no correct case flagged.
The last line of output is one JSON object with the figures.

    .venv/bin/python bench/legal_verification.py
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gennai.apps.legal.citations import CitationParser
from gennai.apps.legal.egov_xml import parse_law_xml
from gennai.apps.legal.ingest import ingest_path
from gennai.apps.legal.model import Article, Law, num_key
from gennai.apps.legal.numerals import IROHA, NUMERAL, article_label, item_label, paragraph_label, parse_number
from gennai.apps.legal.store import LawStore
from gennai.apps.legal.verify import normalize, verify_text
from legal_corpus import fresh_store

EGOV_XML = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "laws" / "egov-xml"
PER_LAW = 6  # cases of each kind per statute, where the statute has them
UNHELD_LAWS = ("民法", "刑法", "地方自治法", "国家公務員法", "特定非営利活動促進法")
EXPECTED: dict[str, str] = {
    "missing_article": "not_found",
    "missing_paragraph": "not_found",
    "missing_item": "not_found",
    "missing_subitem": "not_found",
    "relative_missing": "not_found",
    "unheld_law": "not_found",
    "wrong_law": "not_found",
    "wrong_law_quote": "quote_mismatch",
    "deleted": "not_in_force",
    "altered_quote": "quote_mismatch",
}
"""The status a fabricated case should get: flagged for the right reason, not just flagged."""
ALTERATIONS = (
    ("しなければならない", "することができる"),
    ("することができる", "しなければならない"),
    ("ものとする", "ものとしない"),
    ("行政庁", "裁判所"),
    ("厚生労働大臣", "内閣総理大臣"),
    ("以上", "未満"),
    ("以下", "を超える"),
)


@dataclass(frozen=True)
class Case:
    kind: str
    fabricated: bool
    text: str


def live_articles(law: Law) -> list[Article]:
    return [a for a in law.articles if not a.deleted and ":" not in a.num and a.paragraphs]


def quote_of(text: str, rng: random.Random) -> str | None:
    """A 15-40 character stretch of a sentence; inner 「」 become 『』 as a writer nests quotations."""
    body = text.split("\n")[0].replace("「", "『").replace("」", "』")
    if len(body) < 20:
        return None
    length = rng.randint(15, min(40, len(body)))
    start = rng.randint(0, len(body) - length)
    return body[start : start + length]


def digits(label: str, style: int) -> str:
    """Rewrite kanji numbers of a label in Arabic (1) or full-width (2) digits; 0 leaves it."""
    if style == 0:
        return label

    def swap(m: re.Match[str]) -> str:
        value = str(parse_number(m.group()))
        return value if style == 1 else value.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    return re.sub(NUMERAL, swap, label)


def correct_cases(law: Law, rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    articles = live_articles(law)
    title = law.title
    for article in rng.sample(articles, min(PER_LAW, len(articles))):
        cases.append(Case("article", False, f"{title}{digits(article_label(article.num), rng.randint(0, 2))}を参照。"))
    branched = [a for a in articles if "_" in a.num]
    for article in rng.sample(branched, min(PER_LAW, len(branched))):
        cases.append(Case("branch_article", False, f"{title}{article_label(article.num)}による。"))
    multi = [a for a in articles if len(a.paragraphs) > 1]
    for article in rng.sample(multi, min(PER_LAW, len(multi))):
        paragraph = rng.choice(article.paragraphs)
        label = article_label(article.num) + paragraph_label(paragraph.num)
        cases.append(Case("paragraph", False, f"{title}{digits(label, rng.randint(0, 2))}に定める。"))
    with_items = [(a, p) for a in articles for p in a.paragraphs if p.items and not any(i.deleted for i in p.items)]
    for article, paragraph in rng.sample(with_items, min(PER_LAW, len(with_items))):
        item = rng.choice(paragraph.items)
        label = f"{article_label(article.num)}{paragraph_label(paragraph.num)}{item_label(item.num)}"
        cases.append(Case("item", False, f"{title}{label}に掲げるもの。"))
        subs = [s for s in item.subitems if s.title in IROHA and len(s.title) == 1 and not s.deleted]
        if subs:
            cases.append(Case("subitem", False, f"{title}{label}{rng.choice(subs).title}の場合。"))
    for article in rng.sample(articles, min(PER_LAW, len(articles))):
        paragraph = rng.choice(article.paragraphs)
        quote = quote_of(paragraph.text, rng)
        if quote:
            label = article_label(article.num) + paragraph_label(paragraph.num)
            cases.append(Case("quote", False, f"{title}{label}は「{quote}」と定めている。"))
            cases.append(Case("quote_numbered", False, f"条文は「{quote}」[1]としている。\n\n[1] {title}{label}\n"))
    for article in rng.sample(multi, min(PER_LAW, len(multi))):
        first, second = article.paragraphs[0], article.paragraphs[1]
        cited = f"{title}{article_label(article.num)}{paragraph_label(first.num)}"
        answer = f"{cited}のほか、同条{paragraph_label(second.num)}。"
        cases.append(Case("relative", False, answer))
    suppl = law.original_suppl
    suppl_articles = [a for a in (suppl.articles if suppl else []) if not a.deleted and ":" not in a.num]
    for article in rng.sample(suppl_articles, min(2, len(suppl_articles))):
        cases.append(Case("supplementary", False, f"{title}附則{article_label(article.num)}の経過措置。"))
    return cases


def fabricated_cases(law: Law, others: list[Law], rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    title = law.title
    articles = live_articles(law)
    last = max(num_key(a.num)[0] for a in law.articles)
    for _ in range(PER_LAW):
        num = str(last + rng.randint(1, 60))
        cases.append(Case("missing_article", True, f"{title}{article_label(num)}を参照。"))
    for article in rng.sample(articles, min(PER_LAW, len(articles))):
        beyond = paragraph_label(len(article.paragraphs) + rng.randint(1, 3))
        cases.append(Case("missing_paragraph", True, f"{title}{article_label(article.num)}{beyond}"))
    with_items = [(a, p) for a in articles for p in a.paragraphs if p.items]
    for article, paragraph in rng.sample(with_items, min(PER_LAW, len(with_items))):
        beyond_item = str(max(num_key(i.num)[0] for i in paragraph.items) + rng.randint(1, 3))
        label = f"{article_label(article.num)}{paragraph_label(paragraph.num)}{item_label(beyond_item)}"
        cases.append(Case("missing_item", True, f"{title}{label}に掲げるもの。"))
        item = rng.choice(paragraph.items)
        extra_sub = IROHA[len(item.subitems) + rng.randint(0, 2)]
        label = f"{article_label(article.num)}{paragraph_label(paragraph.num)}{item_label(item.num)}{extra_sub}"
        cases.append(Case("missing_subitem", True, f"{title}{label}の場合。"))
    for article in rng.sample(articles, min(PER_LAW, len(articles))):
        extra = paragraph_label(len(article.paragraphs) + rng.randint(1, 3))
        answer = f"{title}{article_label(article.num)}{paragraph_label(1)}及び同条{extra}。"
        cases.append(Case("relative_missing", True, answer))
    for article in rng.sample(articles, min(2, len(articles))):
        cases.append(Case("unheld_law", True, f"{rng.choice(UNHELD_LAWS)}{article_label(article.num)}による。"))
    for article in rng.sample(articles, min(PER_LAW, len(articles))):
        other = rng.choice(others)
        if other.article(article.num) is None:
            cases.append(Case("wrong_law", True, f"{other.title}{article_label(article.num)}による。"))
            continue
        quote = quote_of(article.paragraphs[0].text, rng)
        target = other.article(article.num)
        if quote and target and not target.deleted and normalize(quote) not in normalize(target.text):
            label = article_label(article.num)
            cases.append(Case("wrong_law_quote", True, f"{other.title}{label}は「{quote}」と定める。"))
    for article in [a for a in law.articles if a.deleted][:PER_LAW]:
        first = article.num.split(":")[0]
        cases.append(Case("deleted", True, f"{title}{article_label(first)}に基づく。"))
    for article in rng.sample(articles, len(articles)):
        if len([c for c in cases if c.kind == "altered_quote"]) >= PER_LAW:
            break
        paragraph = article.paragraphs[0]
        for old, new in ALTERATIONS:
            at = paragraph.text.find(old)
            if at < 0:
                continue
            start = max(0, at - 12)
            quote = paragraph.text[start : at + len(old) + 6].replace(old, new, 1)
            if "「" in quote or "」" in quote or normalize(quote) in normalize(article.text):
                continue
            cite = f"{title}{article_label(article.num)}{paragraph_label(paragraph.num)}"
            cases.append(Case("altered_quote", True, f"{cite}は「{quote}」と定める。"))
            break
    return cases


async def run(corpus: Path, laws: list[Law]) -> dict[str, object]:
    rng = random.Random(20240401)
    cases: list[Case] = []
    for law in laws:
        others = [o for o in laws if o.law_id != law.law_id]
        cases += correct_cases(law, rng) + fabricated_cases(law, others, rng)
    with tempfile.TemporaryDirectory() as directory:
        engine, sessions = await fresh_store(Path(directory))
        try:
            started = time.perf_counter()
            report = await ingest_path(sessions, corpus)
            ingest_seconds = time.perf_counter() - started
            store = LawStore(sessions)
            parser = CitationParser(titles=[law.title for law in await store.list_laws()])
            outcomes: Counter[tuple[str, bool]] = Counter()
            right_status = 0
            misses: list[dict[str, object]] = []
            started = time.perf_counter()
            for case in cases:
                checks = await verify_text(case.text, store, parser=parser)
                flagged = not checks or any(c.status != "verified" for c in checks)
                outcomes[(case.kind, flagged)] += 1
                failures = [c.status for c in checks if c.status != "verified"]
                right = case.fabricated and failures == [EXPECTED[case.kind]]
                right_status += right
                if flagged is not case.fabricated or (case.fabricated and not right):
                    misses.append({"kind": case.kind, "text": case.text, "checks": [c.to_json() for c in checks]})
            verify_seconds = time.perf_counter() - started
        finally:
            await engine.dispose()
    for miss in misses[:20]:
        print(json.dumps(miss, ensure_ascii=False))
    fabricated = sum(n for (kind, _), n in outcomes.items() if _is_fabricated(cases, kind))
    fabricated_flagged = sum(n for (kind, f), n in outcomes.items() if f and _is_fabricated(cases, kind))
    correct = sum(n for (kind, _), n in outcomes.items() if not _is_fabricated(cases, kind))
    correct_flagged = sum(n for (kind, f), n in outcomes.items() if f and not _is_fabricated(cases, kind))
    kinds = sorted({c.kind for c in cases})
    return {
        "laws": len(laws),
        "ingest_failed": len(report.failed),
        "fabricated": fabricated,
        "fabricated_flagged_share": round(fabricated_flagged / fabricated, 4) if fabricated else None,
        "fabricated_right_status_share": round(right_status / fabricated, 4) if fabricated else None,
        "correct": correct,
        "correct_flagged": correct_flagged,
        "correct_flagged_share": round(correct_flagged / correct, 4) if correct else None,
        "by_kind": {
            k: {"cases": outcomes[(k, True)] + outcomes[(k, False)], "flagged": outcomes[(k, True)]} for k in kinds
        },
        "verify_ms_per_case": round(1000 * verify_seconds / max(1, len(cases)), 2),
        "ingest_seconds": round(ingest_seconds, 2),
    }


def _is_fabricated(cases: list[Case], kind: str) -> bool:
    return next(c.fabricated for c in cases if c.kind == kind)


def main() -> None:
    if not EGOV_XML.is_dir():
        print(json.dumps({"skipped": f"reference corpus not found at {EGOV_XML}"}))
        sys.exit(0)
    laws = [parse_law_xml(p.read_bytes(), file_name=p.name) for p in sorted(EGOV_XML.glob("*.xml"))]
    print(json.dumps(asyncio.run(run(EGOV_XML, laws)), ensure_ascii=False))


if __name__ == "__main__":
    main()
