"""The article view: an article with its neighbours and the provisions its text cites, resolved.

Kept apart from ranking (``search``): it reads one article from the store, and needs the search index
only for what it knows of statute names (its citation parser and ``resolve_law``), so that a citation
to another held statute links to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gennai.apps.legal.citations import CitationContext
from gennai.apps.legal.model import Article
from gennai.apps.legal.provisions import LawRecord
from gennai.apps.legal.search import LegalSearch
from gennai.apps.legal.store import StoredArticle


@dataclass(frozen=True)
class CrossReference:
    """A citation found in an article's text, resolved to a held statute when possible."""

    text: str
    span: tuple[int, int]
    law_id: str | None  # None: a statute we do not hold, or one the text does not name clearly
    article: str | None
    paragraph: int | None
    item: str | None


@dataclass(frozen=True)
class ArticleView:
    """An article with what a reader needs around it."""

    law: LawRecord
    article: Article
    previous: Article | None
    next: Article | None
    references: list[CrossReference]
    lossy: bool


async def article_view(
    index: LegalSearch, law_id: str, article_num: str, as_of: date | None = None
) -> ArticleView | None:
    """An article with its neighbours and the provisions its text cites; None where it is not held."""
    law = await index.store.get_law(law_id, as_of)
    stored = await index.store.get_article(law_id, article_num, as_of)
    if law is None or stored is None:
        return None
    previous, following = await index.store.neighbours(stored)
    return ArticleView(
        law=law,
        article=stored.article,
        previous=previous.article if previous else None,
        next=following.article if following else None,
        references=_references(index, stored, law),
        lossy=stored.lossy,
    )


def _references(index: LegalSearch, stored: StoredArticle, law: LawRecord) -> list[CrossReference]:
    context = CitationContext(law=law.title, article=stored.article.num.split(":")[0])
    references = []
    for citation in index.parser.parse(stored.article.text, context):
        if citation.article is None or citation.article_shift or citation.ambiguous:
            continue
        references.append(
            CrossReference(
                text=citation.text,
                span=citation.span,
                law_id=index.resolve_law(citation.law) if citation.law else law.law_id,
                article=citation.article,
                paragraph=citation.paragraph,
                item=citation.item,
            )
        )
    return references
