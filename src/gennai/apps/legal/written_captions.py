"""Captions written for articles that arrived without them, and the words people use for each article.

e-Gov's 見出し say what an article is about in a few words ((保険料の免除), (敷地等と道路との関係)), and
search leans on them; article-level bulk data has lost them, so among the articles of the right
statute text ranking often picks a side provision over the one a question is about. Most misses on
questions written without seeing search were of that kind: the statute found, the article not.
``resources/article_captions.tsv`` gives, for every captionless article of the reference corpus's
2,069 bulk statutes (91,000 articles), a caption in e-Gov style, and for those and the 2,700
captioned articles of the statutes held in full, up to five words a person would use when asking
about the article and that its text does not contain (クーリングオフ for 申込みの撤回, 接道義務 for a
plot's frontage on a road, 残業代 for 割増賃金), then, for the 13,000 articles residents and clerks
ask about, up to four phrases in which they would describe their situation (罰金を払えない, 介護度を
見直す). They were written from each article's text, as data (like ``topics``), and serve ranking
only: a user is never shown them as if they were the statute's own caption. Keyed by law id and
article number, they hold for every revision of the statute.

Search scores them as a field of their own, weaker than an official caption, with a smaller bonus
for the share of a written caption the query states: put into the caption field with its weight and
bonus, the written captions cost 5-15 points of recall@10, since a written caption is a guess at
what matters in an article where an official one is the statute's own word. An official caption,
where a later revision brings one, replaces the written one; the words still count.
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from gennai.search.analysis import analyze

CAPTIONS_FILE = "resources/article_captions.tsv"


@dataclass(frozen=True)
class WrittenCaption:
    """Analysed once per process, when an index first needs it, so a rebuild after an ingest reuses it."""

    caption: str  # empty where the statute has its own
    words: str  # space-separated; may be empty

    @cached_property
    def caption_terms(self) -> tuple[str, ...]:
        return _terms(self.caption)

    @cached_property
    def word_terms(self) -> tuple[str, ...]:
        return _terms(self.words)


def _terms(text: str) -> tuple[str, ...]:
    return tuple(sys.intern(term) for term in analyze(text)) if text else ()  # interned: words recur across articles


@cache
def written_captions() -> dict[tuple[str, str], WrittenCaption]:
    """(law id, article Num) -> what was written for it (NFKC).

    The file has one article a line: law id, Num, caption, words, tab-separated.
    """
    captions: dict[tuple[str, str], WrittenCaption] = {}
    text = resources.files("gennai.apps.legal").joinpath(CAPTIONS_FILE).read_text("utf-8")
    for line in text.splitlines():
        law_id, num, caption, words = (unicodedata.normalize("NFKC", field) for field in line.split("\t"))
        captions[(law_id, num)] = WrittenCaption(caption, words)
    return captions
