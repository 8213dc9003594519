"""Topic words that point a question to a statute it does not name: 市営住宅 → 公営住宅法, 戸別訪問 → 公職選挙法.

Half of the questions text ranking misses on unseen sets fail on the statute, not on the article:
「買った家電が発火した。メーカーに賠償を求められるか」 shares no word with 製造物責任法, and the
words it does share (損害, 賠償) are in hundreds of statutes. ``resources/law_topics.json`` lists, per
official title, the everyday words, jargon and nicknames that mark a question as being about that
statute (our own list, kept as data like the glossary in ``vocabulary``). Search gives the articles
of a statute whose topic a question mentions a bonus smaller than naming the statute would; and,
since questions rarely use a topic word exactly as listed (飲酒して運転 for 飲酒運転), search also
scores each statute's topic words, split into words, like a short document about it (``statute_topics``).
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib import resources

from gennai.search.analysis import WordList, longest_matches

TOPICS_FILE = "resources/law_topics.json"


@cache
def statute_topics() -> dict[str, tuple[str, ...]]:
    """Official title -> its topic words (NFKC); keys starting with _ are notes and left out."""
    raw: dict[str, list[str]] = json.loads(
        resources.files("gennai.apps.legal").joinpath(TOPICS_FILE).read_text("utf-8")
    )
    return {
        title: tuple(dict.fromkeys(unicodedata.normalize("NFKC", word) for word in words))
        for title, words in raw.items()
        if not title.startswith("_")
    }


@cache
def topic_words() -> WordList[tuple[str, ...]]:
    """Each topic word with the official titles it points to."""
    index: dict[str, list[str]] = {}
    for title, words in statute_topics().items():
        for word in words:
            index.setdefault(word, []).append(title)
    return WordList((word, tuple(titles)) for word, titles in index.items())


def topical_titles(query: str) -> list[str]:
    """The titles of the statutes whose topic words ``query`` (NFKC) contains, each once.

    A longer word covers the shorter words inside it, so 市営住宅 does not also count as 住宅.
    """
    matched, _ = longest_matches(query, topic_words())
    return list(dict.fromkeys(title for titles in matched for title in titles))
