"""Japanese text analysis for retrieval: SudachiPy tokens reduced to their normalized forms.

Normalized forms (付け加える/附加える → 付け加える, 申込み/申し込み → 申し込み) let a question written
in everyday spelling meet statute text written in legal spelling. Particles, auxiliaries, symbols
and blanks carry no topic and are dropped. Mode B keeps compounds such as 個人情報 split into
searchable parts without the over-splitting of mode A.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Generic, TypeVar

from sudachipy import Dictionary, SplitMode

DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白"})
# What a question adds around its topic: interrogatives (何, どのような, いつ), the verbs of asking and
# of grammar (教える, 出来る, 有る, 成る), and words about the law rather than its subject (規定, 根拠).
# Statutes use these everywhere or nowhere, so in a query they only blur the ranking. Queries only:
# stored document terms keep them.
QUESTION_POS = frozenset({"代名詞", "連体詞", "感動詞", "接続詞"})
QUESTION_WORDS = frozenset(
    {
        *("こと", "物", "時", "為", "よう", "何", "どう", "幾ら", "如何", "一体", "具体", "具体的"),
        *("有る", "為る", "出来る", "成る", "居る", "良い", "貰う", "下さる", "呉れる", "頂く"),
        *("教える", "知る", "分かる", "思う", "言う", "考える", "宜しい", "つく", "関する"),
        *("規定", "根拠", "ルール", "決まり", "条文", "定め", "内容", "仕組み", "方", "必要", "可能", "場合"),
        *("御", "さん", "様", "欲しい", "頂ける", "構う"),  # politeness: お医者さん must not find お茶
    }
)
MAX_ANALYSED_CHARS = 4000  # a query longer than this is cut: no question needs more to be found
_CHUNK = 8000  # Sudachi refuses inputs past ~49 KB; statutes are analysed in pieces below that

_local = threading.local()


class _Analyzer:
    def __init__(self) -> None:
        dictionary = Dictionary(dict="core")
        self.dictionary = dictionary
        self.tokenizer = dictionary.tokenizer(mode=SplitMode.B)
        self.dropped = dictionary.pos_matcher(lambda pos: pos[0] in DROPPED_POS)
        self.asking = dictionary.pos_matcher(lambda pos: pos[0] in QUESTION_POS)


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


def morphemes(text: str) -> list[str]:
    """Every morpheme of ``text`` in normalized form, particles and auxiliaries included."""
    analyzer = _analyzer()
    return [m.normalized_form() for m in analyzer.tokenizer.tokenize(unicodedata.normalize("NFKC", text))]


@lru_cache(maxsize=65536)
def synonym_groups(term: str) -> frozenset[int]:
    """The Sudachi synonym groups of a normalized form (cached: a vocabulary asks for each term once).

    SudachiDict marks each entry with the groups of its synonym dictionary (残業 and 時間外労働 share
    one, 医者 and 医師 another); only entries whose normalized form is ``term`` itself count.
    """
    entries = (entry for entry in _analyzer().dictionary.lookup(term) if entry.normalized_form() == term)
    return frozenset(group for entry in entries for group in entry.synonym_group_ids())


@lru_cache(maxsize=4096)
def query_tokens(query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Distinct content tokens of a query, and those of them left once question words are dropped."""
    analyzer = _analyzer()
    tokens: dict[str, None] = {}
    topical: dict[str, None] = {}
    text = unicodedata.normalize("NFKC", query.strip()[:MAX_ANALYSED_CHARS])
    for morpheme in analyzer.tokenizer.tokenize(text):
        if analyzer.dropped(morpheme):
            continue
        token = morpheme.normalized_form()
        tokens[token] = None
        if not analyzer.asking(morpheme) and token not in QUESTION_WORDS:
            topical[token] = None
    return tuple(tokens), tuple(topical)


def analyze_query(query: str) -> tuple[str, ...]:
    """Distinct topical tokens of a query (cached: the same short queries come again and again).

    Question words (何, どのような, 教えて, 規定) are dropped unless nothing else is left, so that
    「規定」 alone still searches. A one- or two-character query is its own token when Sudachi finds
    nothing left after dropping particles, so that a search for 「税」 still means something.
    """
    tokens, topical = query_tokens(query)
    if not tokens and 0 < len(query.strip()) <= 2:
        return (unicodedata.normalize("NFKC", query.strip()),)
    return topical or tokens


Found = TypeVar("Found")


class WordList(Generic[Found]):
    """Words with a value each, longest first, indexed by their first character.

    Thousands of words (statute titles and abbreviations, topic words) are looked for in every query;
    trying only the words whose first character the query contains costs a few dozen ``in`` tests
    instead of thousands.
    """

    def __init__(self, entries: Iterable[tuple[str, Found]]) -> None:
        self._entries = sorted(entries, key=lambda entry: -len(entry[0]))  # stable: equal lengths keep their order
        self._by_first: dict[str, list[int]] = {}
        for position, (word, _) in enumerate(self._entries):
            if word:
                self._by_first.setdefault(word[0], []).append(position)

    def __iter__(self) -> Iterator[tuple[str, Found]]:
        return iter(self._entries)

    def in_text(self, text: str) -> list[tuple[str, Found]]:
        """The entries whose word occurs in ``text``, longest first."""
        positions = sorted(position for char in set(text) for position in self._by_first.get(char, ()))
        return [self._entries[position] for position in positions if self._entries[position][0] in text]


def longest_matches(text: str, words: WordList[Found]) -> tuple[list[Found], str]:
    """The values of the words ``text`` contains, and ``text`` with those words blanked out.

    Longer words are looked for first, and a word found is blanked out before shorter words are
    looked for, so 市営住宅 is not also read as 住宅 and 行政手続法 not also as 行政.
    """
    found: list[Found] = []
    rest = text
    for word, value in words.in_text(text):
        blanked = blank_word(rest, word)
        if blanked is not None:
            found.append(value)
            rest = blanked
    return found, rest


def blank_word(text: str, word: str) -> str | None:
    """``text`` with each occurrence of ``word`` blanked out, or None where it does not occur as a word.

    Kanji compounds nest (残業 is the topic of 残業代), but katakana words do not: スト (a strike) is
    not in テスト, コスト or リスト. So an occurrence that a longer katakana word runs into is skipped.
    """
    if word not in text:  # the usual case: thousands of words are looked for in each query
        return None
    pieces: list[str] = []
    start = 0
    found = False
    while (at := text.find(word, start)) >= 0:
        end = at + len(word)
        inside = (_katakana(word[0]) and at > 0 and _katakana(text[at - 1])) or (
            _katakana(word[-1]) and end < len(text) and _katakana(text[end])
        )
        pieces.append(text[start:at] + (word if inside else "　"))
        found = found or not inside
        start = end
    pieces.append(text[start:])
    return "".join(pieces) if found else None


def _katakana(char: str) -> bool:
    """Katakana and the long-vowel mark ー, which belongs to katakana words; not the separator ・."""
    return "\u30a1" <= char <= "\u30fc" and char != "・"
