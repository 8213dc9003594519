"""Legal Research Support as one service: search, article view, verification and grounded answers.

This is the app's whole core behind one object, free of the web layer, so the portal routes and the
GENAI app contract can serve the same thing. Input checks live here for the same reason.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal.answers import (
    MAX_SOURCE_CHARS,
    REPORT_FORMS,
    Generate,
    GroundedAnswer,
    ReportForm,
    answer_question,
)
from gennai.apps.legal.articles import ArticleView, article_view
from gennai.apps.legal.provisions import ProvisionRef, ProvisionText
from gennai.apps.legal.search import MAX_LIMIT, DenseRanking, LegalSearch, SearchHit
from gennai.apps.legal.store import LawStore
from gennai.apps.legal.verify import CitationCheck, verify_text

MAX_QUERY_CHARS = 2000
MAX_VERIFY_CHARS = 50_000
MAX_QUESTION_CHARS = 4000
ANSWER_SOURCES = 6
# How stale the search index may be: another process's ingest is seen within this many seconds.
# Checking the database costs a count over every article (20 ms on the full corpus, more than a
# search), so it is done at most this often rather than on every request.
REFRESH_SECONDS = 2.0


class LegalInputError(ValueError):
    """A request the app will not run; ``code`` names the cause for APIs and translations."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _checked_text(value: str, limit: int, what: str) -> str:
    text = value.strip()
    if not text:
        raise LegalInputError("empty", f"the {what} is empty")
    if len(text) > limit:
        raise LegalInputError("too_long", f"the {what} is longer than {limit} characters")
    return text


@dataclass
class LegalResearch:
    store: LawStore
    search_index: LegalSearch
    _checked_at: float = field(default_factory=time.monotonic)
    _rebuilding: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, sessions: async_sessionmaker[AsyncSession], dense: DenseRanking | None = None) -> LegalResearch:
        """Build the in-memory search index from the stored statutes (and their vectors, with ``dense``)."""
        index = await LegalSearch.load(sessions, dense)
        return cls(index.store, index)

    async def _fresh(self) -> None:
        """``refresh`` if the last check is ``REFRESH_SECONDS`` old: the check counts every article."""
        if time.monotonic() - self._checked_at >= REFRESH_SECONDS:
            await self.refresh()

    async def refresh(self) -> None:
        """Swap in a rebuilt search index if statutes or their vectors changed.

        The caller (the request that found the change) waits for the new index, so its answer includes
        what was just ingested; requests arriving during the rebuild are answered from the current index
        meanwhile. The rebuild is a task of its own: a client giving up on the waiting request does not
        end it.
        """
        if self._rebuilding is not None:
            return
        self._checked_at = time.monotonic()
        self._rebuilding = asyncio.create_task(self._swap_in_rebuilt())
        await asyncio.shield(self._rebuilding)

    async def _swap_in_rebuilt(self) -> None:
        try:
            rebuilt = await self.search_index.rebuilt()
            if rebuilt is not None:
                self.search_index = rebuilt
        finally:
            self._rebuilding = None

    async def search(
        self,
        query: str,
        *,
        law: str | None = None,
        law_type: str | None = None,
        as_of: date | None = None,
        limit: int = 10,
        caller: uuid.UUID | None = None,
    ) -> list[SearchHit]:
        text = _checked_text(query, MAX_QUERY_CHARS, "query")
        if not 1 <= limit <= MAX_LIMIT:
            raise LegalInputError("bad_limit", f"limit must be between 1 and {MAX_LIMIT}")
        await self._fresh()
        return await self.search_index.search(text, law=law, law_type=law_type, as_of=as_of, limit=limit, caller=caller)

    async def article(self, law_id: str, article: str, as_of: date | None = None) -> ArticleView | None:
        await self._fresh()
        return await article_view(self.search_index, law_id, article, as_of)

    async def verify(self, text: str, as_of: date | None = None) -> list[CitationCheck]:
        checked = _checked_text(text, MAX_VERIFY_CHARS, "text")
        await self._fresh()
        return await verify_text(checked, self.store, as_of=as_of, parser=self.search_index.parser)

    async def ask(
        self,
        question: str,
        generate: Generate,
        *,
        form: str = "overview",
        as_of: date | None = None,
        law: str | None = None,
        source_chars: int = 8000,
        caller: uuid.UUID | None = None,
    ) -> GroundedAnswer:
        """Retrieve provisions for the question, let the model answer from them, verify every citation.

        ``source_chars`` bounds the statute text put in the prompt, so that it fits the model's context.
        """
        if form not in REPORT_FORMS:
            raise LegalInputError("bad_form", f"form must be one of {', '.join(REPORT_FORMS)}")
        text = _checked_text(question, MAX_QUESTION_CHARS, "question")
        hits = await self.search(text[:MAX_QUERY_CHARS], law=law, as_of=as_of, limit=ANSWER_SOURCES, caller=caller)
        provisions = await self._provisions(hits, as_of, source_chars)
        report_form: ReportForm = form  # type: ignore[assignment]
        return await answer_question(
            text, provisions, generate, self.store, form=report_form, as_of=as_of, parser=self.search_index.parser
        )

    async def _provisions(self, hits: list[SearchHit], as_of: date | None, budget: int) -> list[ProvisionText]:
        found: list[ProvisionText] = []
        for hit in hits:
            provision = await self.store.get_provision(ProvisionRef(hit.law_id, hit.article, hit.paragraph), as_of)
            if provision is None:
                continue
            cost = min(len(provision.text), MAX_SOURCE_CHARS)
            if found and cost > budget:
                break
            budget -= cost
            found.append(provision)
        return found
