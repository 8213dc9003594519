"""How often provisions are cited: a prior for the articles a statute turns on and the statutes law turns on.

Article-level data has no captions, so among the articles of the right statute, text ranking often
prefers a short side provision (保険料の前納, 納付委託) to the one a question is about (保険料の免除).
The central provisions of a statute are those its other articles keep referring to: 国民年金法第九十条
is cited by every article about exempted months, 特定商取引法第九条 by every one about cooling-off.
Like links on the web, that count marks them. Citations are read within one revision's text, so an
as-of search weighs each revision by its own links.

The same holds one level up: 刑法, 地方自治法 and 民法 are cited by hundreds of other statutes (by
their law number at first mention: 地方自治法（昭和二十二年法律第六十七号）), 興行場法 by a few. Of two
statutes whose articles match a question alike, the one the rest of the law relies on is the likelier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from gennai.apps.legal.citations import law_numbers_in
from gennai.apps.legal.numerals import article_nums_in
from gennai.search.index import FloatArray

# A label right after these names an article of another statute (…法第十条, 同令第三条, 規則第二条).
_OTHER_STATUTE_END = ("法", "令", "則", "約")


def cited_own_articles(text: str) -> set[str]:
    """The article numbers a provision cites within its own statute (a range gives both ends)."""
    return {num for start, num in article_nums_in(text) if not text[:start].endswith(_OTHER_STATUTE_END)}


def citation_prior(articles: Sequence[tuple[int, str]], texts: Iterable[tuple[int, str]]) -> FloatArray:
    """Per article, log(1 + how many other articles of the same revision cite it).

    ``articles`` are (revision, Num) per indexed article; ``texts`` are (index into ``articles``, text).
    The logarithm keeps a statute's hub (定義, cited by nearly everything) from outweighing the text.
    """
    cited: Counter[tuple[int, str]] = Counter()
    for position, text in texts:
        revision, own = articles[position]
        cited.update((revision, num) for num in cited_own_articles(text) if num != own)
    return np.log1p(np.array([cited[article] for article in articles], dtype=np.float32))


def statute_prior(law_numbers: Sequence[str], texts: Iterable[tuple[int, str]]) -> FloatArray:
    """Per statute, log(1 + how many other statutes cite it by its law number).

    ``law_numbers`` are the statutes' numbers (昭和二十二年法律第六十七号); ``texts`` are (index into
    ``law_numbers``, text of one of that statute's articles).
    """
    statute_of = {number: law for law, number in enumerate(law_numbers)}
    citing: dict[int, set[int]] = {}
    for law, text in texts:
        for number in law_numbers_in(text):
            cited = statute_of.get(number)
            if cited is not None and cited != law:
                citing.setdefault(cited, set()).add(law)
    counts = [len(citing.get(law, ())) for law in range(len(law_numbers))]
    return np.log1p(np.array(counts, dtype=np.float32))
