"""Everyday words mapped to the words statutes use for them, so that a plain question meets the law.

Officials ask 「仕事中にけがをしたら」, statutes say 「業務上負傷し」; they ask about 又貸し, 民法 says 転貸.
Normalized forms (see ``gennai.search.analysis``) bridge spelling only, not vocabulary, so queries
are expanded with the statute words from ``resources/everyday_terms.json``: a hand-written list of
common plain-language paraphrases (our own, like a glossary of 法令用語 for citizens), kept as data so
that it can grow without touching ranking code. Expansions count less than the words a user typed.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from gennai.search.analysis import analyze_query, blank_word, morphemes, query_tokens

EXPANSION_WEIGHT = 0.85  # raised from 0.7 at 1,300 entries (legal_tune.py chose 0.93); 0.7-1.0 alike at 1,832
PHRASE_GAP = 8  # characters a question may put between a phrase's halves (病気で|会社を長く|休む)
_PHRASE = re.compile("(.+?)[をでがにとや](.+)")


@lru_cache(maxsize=1)
def everyday_terms() -> dict[str, str]:
    """Everyday word -> statute words, separated by spaces.

    Expansions are analysed as statute text is, so a word that needs its context to be read right
    is written in a phrase: 「普通地方公共団体の長は」 reads 長 as the noun, where a bare 長 reads as 長い.
    """
    raw = resources.files("gennai.apps.legal").joinpath("resources/everyday_terms.json").read_text("utf-8")
    terms: dict[str, str] = json.loads(raw)
    return terms


def expand_query(query: str) -> tuple[list[str], list[float]]:
    """Query terms with weights, plus the statute words for everyday words the query uses.

    Longer words are looked for first and what they cover is not read again, so いつまで (a deadline)
    does not also count as いつ (a time). A word of two or more characters is found as written; any
    word also by its normalized token (もらえる meets もらう), so that a one-character word such as 薬
    is found only as a word of its own, never inside 薬剤師; a katakana word is never found inside a
    longer one (スト is not in テスト); a phrase also with a few words between its halves (病気で休 in
    病気で会社を長く休む).
    """
    terms = list(analyze_query(query))
    weights = [1.0] * len(terms)
    rest = query
    said = set(query_tokens(query)[0])
    for word, token, parts, expansion in _longest_first():
        blanked = blank_word(rest, word) if len(word) > 1 else None
        if blanked is not None:
            rest = blanked
        elif parts is not None and _found_apart(rest, parts):
            pass  # the halves stay readable: 会社を休 and 病気で休 both describe 病気で会社を休む
        elif token not in said:
            continue
        else:
            said = set(query_tokens(rest)[0])
            if token not in said:
                continue
        for term in analyze_query(expansion):
            if term not in terms:
                terms.append(term)
                weights.append(EXPANSION_WEIGHT)
    return terms, weights


@lru_cache(maxsize=1)
def _longest_first() -> list[tuple[str, str | None, tuple[str, str] | None, str]]:
    """(word, its single token, its phrase parts, expansion), longest word first; read once, not per query."""
    pairs = sorted(everyday_terms().items(), key=lambda pair: -len(pair[0]))
    return [(word, _single_token(word), _phrase_parts(word), expansion) for word, expansion in pairs]


def _phrase_parts(word: str) -> tuple[str, str] | None:
    """A phrase's two halves around its particle (病気で休 -> 病気, 休), or None for a plain word.

    Phrases are written to catch a situation (病気で休む), and users put words between its halves
    (病気で会社を長く休む), so the halves are also found apart. A half of one kana is no word.
    """
    match = _PHRASE.fullmatch(word)
    if match is None or any(len(half) == 1 and not _kanji(half) for half in match.groups()):
        return None
    return match.group(1), match.group(2)


def _found_apart(text: str, parts: tuple[str, str]) -> bool:
    """Whether a phrase's halves occur in ``text`` in order, at most PHRASE_GAP characters apart."""
    first, second = parts
    start = text.find(first)
    while start >= 0:
        after = start + len(first)
        if text.find(second, after, after + PHRASE_GAP + len(second)) >= 0:
            return True
        start = text.find(first, after)
    return False


def _kanji(text: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in text)


def _single_token(word: str) -> str | None:
    """The normalized form of a one-morpheme word; None for a word Sudachi splits (いつ+まで, 掛から+ない)."""
    tokens = morphemes(word)
    return tokens[0] if len(tokens) == 1 else None
