"""Japanese text analysis for retrieval: SudachiPy tokens reduced to their normalized forms.

Normalized forms (付け加える/附加える → 付け加える, 申込み/申し込み → 申し込み) let a question written
in everyday spelling meet statute text written in legal spelling. Particles, auxiliaries, symbols
and blanks carry no topic and are dropped. Mode B keeps compounds such as 個人情報 split into
searchable parts without the over-splitting of mode A.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from sudachipy import Dictionary, SplitMode

DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白"})
MAX_ANALYSED_CHARS = 4000  # a query longer than this is cut: no question needs more to be found
_CHUNK = 8000  # Sudachi refuses inputs past ~49 KB; statutes are analysed in pieces below that

_local = threading.local()


class _Analyzer:
    def __init__(self) -> None:
        dictionary = Dictionary(dict="core")
        self.tokenizer = dictionary.create(mode=SplitMode.B)
        self.dropped = dictionary.pos_matcher(lambda pos: pos[0] in DROPPED_POS)


def _analyzer() -> _Analyzer:
    """One Sudachi tokenizer per thread: the tokenizer is not safe to share across threads."""
    analyzer: _Analyzer | None = getattr(_local, "analyzer", None)
    if analyzer is None:
        analyzer = _local.analyzer = _Analyzer()
    return analyzer


def _chunks(text: str) -> Iterator[str]:
    for start in range(0, len(text), _CHUNK):
        yield text[start : start + _CHUNK]


def analyze(text: str) -> list[str]:
    """The content tokens of ``text`` in normalized form, in order (repeats kept, for term counts)."""
    text = unicodedata.normalize("NFKC", text)
    analyzer = _analyzer()
    tokens: list[str] = []
    for chunk in _chunks(text):
        for morpheme in analyzer.tokenizer.tokenize(chunk):
            if not analyzer.dropped(morpheme):
                tokens.append(morpheme.normalized_form())
    return tokens


@lru_cache(maxsize=4096)
def analyze_query(query: str) -> tuple[str, ...]:
    """Distinct tokens of a query, cached: the same short queries come again and again.

    A one- or two-character query is its own token when Sudachi finds nothing left after dropping
    particles, so that a search for 「税」 still means something.
    """
    query = query.strip()[:MAX_ANALYSED_CHARS]
    tokens = tuple(dict.fromkeys(analyze(query)))
    if not tokens and 0 < len(query) <= 2:
        return (unicodedata.normalize("NFKC", query),)
    return tokens
