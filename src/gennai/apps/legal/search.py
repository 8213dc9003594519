"""Legal search: statute articles ranked by text and by where a statute puts meaning.

Why an in-memory index built from the database: the store already keeps every article's analysed
terms (``legal_provisions.terms``, written at ingest), so building the BM25 arrays is a read and a
count, about 7-15 s and 0.9 GB for all 2,083 statutes (94k articles) and under a second for the
shipped sample, and a query then costs a few milliseconds on SQLite and PostgreSQL alike. A database full
text index would behave differently on each backend (FTS5 vs. tsvector, neither of which segments
Japanese) and an FTS5 side file would be one more thing to keep in step. ``refresh`` rebuilds
after an ingest; the database stays the only source of truth.

Ranking = BM25 over article text + BM25 over the caption (見出し, strongly), over the caption
written for an article that has none and the everyday words written for every article
(``written_captions``, less strongly) and over the outline titles (章・節, each word once, weakly:
they are shared by many articles) + a bonus for the share of the caption (or written caption) the
query states + a bonus for the statute a query names (行政手続法, 個情法) or whose
title, 第一条 (its purpose clause: what the statute is about, where bulk data has no captions) or
topic words (``topics``: 飲酒運転 for 道路交通法, met by 飲酒して運転) it overlaps + a bonus for
the article defining a term the query contains (「…」とは, 「…」という。) + a prior for the articles
the rest of their statute keeps citing and the statutes other statutes keep citing (``centrality``)
+ a bonus for the share of the words the user typed that the article says (coordination), so that
saying all of a question beats saying one of its words many times + a bonus for how close what the
article means is to what the typed words mean, by averaged word vectors (``search.word_vectors``),
so that a question told in everyday words (給料を払ってもらえない) leans towards the articles about
the same thing in statute words (賃金の支払). The best 20 are then rescored with
their best passage, so that a long article (a list of items) is not lost to its length. Question
words (何, どのような, 教えて) are dropped from queries, everyday words bring the statute words
for them (``vocabulary``), and every word brings its synonyms the index holds (``search.synonyms``).
A question about a penalty puts the penalty articles citing the best duties just above them
(``penalties``).

Where an embedding model is configured (``DenseRanking``), the stored article vectors (``vectors``)
rank the allowed articles by closeness to the question too, and the two rankings are fused by
reciprocal rank: scale-free, so neither BM25's nor cosine's range has to be calibrated against the
other, and an article either ranking puts high is seen. If the embedding model fails, search stays
lexical and says so in the log rather than failing the user. A query that cites a provision
(行政手続法第五条, AI法第3条) returns that provision first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal.aliases import alias_index
from gennai.apps.legal.centrality import citation_prior, statute_prior
from gennai.apps.legal.citations import Citation, CitationContext, CitationParser
from gennai.apps.legal.model import Heading, num_covers, paragraph_text
from gennai.apps.legal.numerals import article_label, paragraph_label
from gennai.apps.legal.penalties import PenaltyLinks, asks_about_penalty
from gennai.apps.legal.store import LawStore, paragraph_from_json
from gennai.apps.legal.tables import LawRow, ProvisionRow, RevisionRow, VectorRow, indexed_article
from gennai.apps.legal.topics import statute_topics, topical_titles
from gennai.apps.legal.vectors import EmbedFor, load_vectors
from gennai.apps.legal.vocabulary import expand_query
from gennai.apps.legal.written_captions import written_captions
from gennai.gateway.base import ProviderError
from gennai.search.analysis import WordList, analyze, analyze_query, longest_matches
from gennai.search.index import BM25Index, BoolArray, FloatArray, top_k
from gennai.search.synonyms import Synonyms
from gennai.search.word_vectors import word_vectors

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
K1 = 0.9  # BM25 saturation: a word repeated in an article adds less than the textbook 1.2 (MRR +0.01-0.02)
MAX_LIMIT = 100
DIRECT_HIT_SCORE = 1000.0
RERANK_DEPTH = 20  # first-stage candidates rescored with their best passage (20-50 rank alike on every set)
PASSAGE_WINDOW = 50  # tokens: about one paragraph or a few items
COMMON_STEM_SHARE = 0.002  # an abbreviation stem in more than this share of articles is an ordinary word
DENSE_DEPTH = 50  # articles the embedding ranking contributes
RRF_K = 60  # reciprocal rank fusion's usual constant: ranks past a few dozen count little
# Ranking weights, fitted together by coordinate ascent on five question sets with blind3 held out
# (bench/legal_tune.py), from hand-set starting points; the comments say what each one weighs.
CAPTION_WEIGHT = 3.75  # BM25 over the caption (見出し), beside BM25 over the article text (1)
TITLE_WEIGHT = 0.15  # BM25 over the statute title, for articles that match otherwise
PURPOSE_WEIGHT = 0.2  # BM25 over the statute's 第一条 (この法律は、…を目的とする), likewise
WRITTEN_CAPTION_WEIGHT = 1.25  # BM25 over the caption and words written for an article (``written_captions``)
TOPIC_FIELD_WEIGHT = 1.0  # BM25 over the words of the statute's topic words (``topics``) where none is named
NAMED_LAW_BONUS = 40.0  # the statute a query names (行政手続法, 個情法)
NAMED_LAW_TERM_WEIGHT = 0.25  # the words of a named statute's title say which law, not what about
OUTLINE_WEIGHT = 2.0  # 章・節 titles: shared by many articles, so weaker than a caption
CAPTION_COVERAGE_BONUS = 6.0  # per share of the caption's words the query says
WRITTEN_CAPTION_COVERAGE_BONUS = 2.0  # likewise for a written caption
DEFINITION_BONUS = 4.5  # the article defining a term the query uses
PASSAGE_WEIGHT = 0.25  # the best passage's BM25, added when the first RERANK_DEPTH are rescored
NAMED_LAW_STEM_BONUS = 30.0  # a query saying 国家公務員 (not 国家公務員法) leans towards 国家公務員法
TOPIC_BONUS = 16.0  # a query saying 市営住宅 leans towards 公営住宅法 (``topics``), less than naming it would
CENTRALITY_WEIGHT = 4.0  # per log(1 + citations from the statute's own articles), see ``centrality``
STATUTE_CITED_WEIGHT = 1.3  # per log(1 + other statutes citing the article's statute)
# Per share of the words the user typed (idf-weighted) that an article says (``_coordination``); set on
# the six read question sets (20-40 alike), then measured once on the three unread ones: recall@10
# .817/.850/.883 -> .850/.883/.900, MRR .648 -> .667 on average; on blind7/blind8, written after it,
# .767/.817 without it, .833/.883 with it
COORDINATION_BONUS = 40.0
# Per cosine between what an article and what the typed words mean (averaged word vectors, see
# ``gennai.search.word_vectors``), where the article matches otherwise: set on the eight read question
# sets (40-85 alike; recall@10 .899 -> .909, MRR .736 -> .748 on average), then measured on the six
# unread ones: recall@10 .856 -> .908, MRR .671 -> .688
MEANING_WEIGHT = 70.0
CAPTION_MEANING_SHARE = 4.0  # a caption's words count this much more than the text's towards an article's meaning
WRITTEN_MEANING_SHARE = 2.0  # likewise the caption and words written for an article
_DEFINITION = re.compile(r"「([^「」]{1,40})」(?:とは|という。)")
_MAX_DEFINITION_SPAN = 4


@dataclass(frozen=True)
class DenseRanking:
    """An embedding model whose stored article vectors also rank results; ``embed`` goes through the gateway.

    ``weight`` scales the embedding ranking's share of the fusion (1.0: equal to the text ranking's),
    to be set from what ``bench/legal_retrieval.py --embedding-model`` measures for the model.
    """

    model: str
    embed: EmbedFor
    weight: float = 1.0


@dataclass(frozen=True)
class SearchHit:
    """One provision found: e-Gov numbers, display path (章/条/項), and text."""

    law_id: str
    law_title: str
    article: str  # e-Gov Num, e.g. "32_2"
    paragraph: int | None  # None: the whole article (or article-level data without paragraph numbers)
    text: str
    score: float
    path_label: str
    caption: str = ""
    law_type: str = ""


@dataclass(frozen=True)
class _Doc:
    provision_id: int
    law: int  # index into _laws
    revision: int  # index into revision arrays
    article_num: str
    caption: str
    path: tuple[Heading, ...]


@dataclass(frozen=True)
class _Query:
    """A query as ranking sees it: the statutes it names and its weighted terms."""

    named: list[int]  # statutes named by title or abbreviation
    stemmed: list[int]  # statutes named by their title without 法 (国家公務員)
    topical: list[int]  # statutes whose topic words the query says (市営住宅: 公営住宅法)
    named_terms: set[str]  # the words of those titles
    terms: list[str]
    weights: list[float]
    typed: list[str]  # the terms the user wrote, less the statute names: no expansions, no synonyms
    meaning: FloatArray  # what the typed terms mean together (``WordVectors.meaning``)


@dataclass(frozen=True)
class _LawInfo:
    law_id: str
    title: str
    law_type: str
    law_num: str  # 昭和二十二年法律第六十七号


class LegalSearch:
    """Search over the main provisions of every stored revision; build with ``await LegalSearch.load``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dense: DenseRanking | None = None) -> None:
        self.sessions = sessions
        self.store = LawStore(sessions)
        self.dense = dense
        self._fingerprint: tuple[int, int, int] | None = None
        self._build([], [], {}, [], [])
        self._dense_positions = np.zeros(0, dtype=np.int64)
        self._dense_matrix: FloatArray = np.zeros((0, 0), dtype=np.float32)

    @classmethod
    async def load(cls, sessions: async_sessionmaker[AsyncSession], dense: DenseRanking | None = None) -> LegalSearch:
        search = cls(sessions, dense)
        await search.refresh()
        return search

    async def refresh(self) -> bool:
        """Rebuild in place from the database if articles were added or replaced since the last build.

        For a single user of the index (the CLI, tests, benchmarks); a server, whose requests read the
        index concurrently, swaps in ``rebuilt`` instead (``LegalResearch.refresh``).
        """
        return await self._rebuild_if_changed()

    async def rebuilt(self) -> LegalSearch | None:
        """A new index, built beside this one, if the database changed since this one was built; else None.

        For a server: the build (seconds on the full corpus) runs in a worker thread, so requests go on
        being answered from this index meanwhile, and the caller swaps the new one in when it is whole.
        """
        fingerprint = await self._current_fingerprint()
        if fingerprint == self._fingerprint:
            return None
        fresh = LegalSearch(self.sessions, self.dense)
        await fresh._rebuild(fingerprint, in_thread=True)
        return fresh

    async def _current_fingerprint(self) -> tuple[int, int, int]:
        async with self.sessions() as session:
            return await _fingerprint(session, self.dense.model if self.dense else None)

    async def _rebuild_if_changed(self) -> bool:
        fingerprint = await self._current_fingerprint()
        if fingerprint == self._fingerprint:
            return False
        await self._rebuild(fingerprint, in_thread=False)
        return True

    async def _rebuild(self, fingerprint: tuple[int, int, int], *, in_thread: bool) -> None:
        """Build from the database as it is now; ``fingerprint``, read before the rows, marks what was read."""
        async with self.sessions() as session:
            laws = (
                await session.execute(
                    select(LawRow.law_id, LawRow.title, LawRow.law_type, LawRow.abbreviations, LawRow.law_num)
                )
            ).all()
            revisions = (
                await session.execute(select(RevisionRow.id, RevisionRow.law_id, RevisionRow.in_force_from))
            ).all()
            rows = (
                await session.execute(
                    select(
                        ProvisionRow.id,
                        ProvisionRow.revision_pk,
                        ProvisionRow.article_num,
                        ProvisionRow.caption,
                        ProvisionRow.path,
                        ProvisionRow.terms,
                        ProvisionRow.text,
                    )
                    .where(indexed_article())
                    .order_by(ProvisionRow.id)
                )
            ).all()
        law_index = {law_id: i for i, (law_id, *_rest) in enumerate(laws)}
        names: dict[str, int] = {}
        for i, (_law_id, title, _type, abbreviations, _number) in enumerate(laws):
            for name in [title, *abbreviations.split("\n"), *alias_index().get(title, ())]:  # new aliases too
                if name:
                    names[unicodedata.normalize("NFKC", name)] = i
        infos = [_LawInfo(law_id, title, law_type, number) for law_id, title, law_type, _, number in laws]
        built = (infos, list(revisions), names, rows, list(law_index.items()))
        if in_thread:  # only for an index no request sees yet (``rebuilt``): _build sets attributes one by one
            await asyncio.to_thread(self._build, *built)
        else:
            self._build(*built)
        await self._load_vectors()
        self._fingerprint = fingerprint

    def _build(
        self,
        laws: list[_LawInfo],
        revisions: Sequence[tuple[int, str, date | None]],
        names: dict[str, int],
        rows: Sequence[tuple[int, int, str, str, str, str, str]],
        law_index: list[tuple[str, int]],
    ) -> None:
        self._laws = laws
        self._law_index = dict(law_index)
        self._name_index = names
        self._names = WordList((name, law) for name, law in names.items() if len(name) >= 2)
        self._parser = CitationParser(titles=names)
        revision_index = {pk: i for i, (pk, _, _) in enumerate(revisions)}
        revision_law = np.array([self._law_index.get(law_id, -1) for _, law_id, _ in revisions], dtype=np.int32)
        starts = np.array([(d or date.min).toordinal() for _, _, d in revisions], dtype=np.int64)
        self._rev_from, self._rev_until, self._rev_latest = _validity(revision_law, starts)
        heading_terms: dict[str, list[str]] = {}
        docs: list[_Doc] = []
        body_terms: list[str] = []
        caption_terms: list[list[str]] = []
        written_terms: list[list[str]] = []
        written_caption_terms: list[Sequence[str]] = []
        written = written_captions()
        outline_terms: list[list[str]] = []
        purposes: dict[int, str] = {}  # statute -> terms of its 第一条 (of the revision read last)
        for provision_id, revision_pk, article_num, caption, path_json, terms, _text in rows:
            revision = revision_index[revision_pk]
            law = int(revision_law[revision])
            path = tuple(Heading(**h) for h in json.loads(path_json))
            docs.append(_Doc(provision_id, law, revision, article_num, caption, path))
            body_terms.append(terms)
            if article_num == "1":
                purposes[law] = terms
            caption_terms.append(analyze(caption) if caption else [])
            own = written.get((laws[law].law_id, article_num))
            own_caption = own.caption_terms if own and not caption else ()
            written_caption_terms.append(own_caption)
            written_terms.append([*own_caption, *own.word_terms] if own else [])
            outline: list[str] = []
            for heading in path:
                if heading.title not in heading_terms:
                    heading_terms[heading.title] = analyze(heading.title)
                outline.extend(heading_terms[heading.title])
            outline_terms.append(list(dict.fromkeys(outline)))  # a word repeated down the outline counts once
        self._docs = docs
        self._penalties = PenaltyLinks()
        self._doc_position = {doc.provision_id: i for i, doc in enumerate(docs)}
        self._doc_law = np.array([d.law for d in docs], dtype=np.int32)
        self._doc_revision = np.array([d.revision for d in docs], dtype=np.int32)
        self._body = BM25Index((terms.split() for terms in body_terms), k1=K1, positions=True)  # split lazily
        self._captions = BM25Index(caption_terms, k1=K1)
        self._outline = BM25Index(outline_terms, k1=K1)
        self._written = BM25Index(written_terms, k1=K1)
        self._written_captions = BM25Index(written_caption_terms, k1=K1)
        meaning_fields = [
            (self._body, 1.0),
            (self._captions, CAPTION_MEANING_SHARE),
            (self._written, WRITTEN_MEANING_SHARE),
        ]
        self._meanings = word_vectors().meanings(meaning_fields, self._body.idf)
        self._titles = BM25Index([analyze(law.title) for law in laws], k1=K1)
        self._purposes = BM25Index([purposes.get(law, "").split() for law in range(len(laws))], k1=K1)
        topics = statute_topics()
        self._topics = BM25Index([analyze(" ".join(topics.get(law.title, ()))) for law in laws], k1=K1)
        self._synonyms = Synonyms(self._body.vocabulary)
        self._stems = WordList(self._law_stems(laws).items())
        self._definitions: dict[str, list[int]] = {}
        keys: dict[str, str] = {}
        texts = [row[-1] for row in rows]
        for position, text in enumerate(texts):
            self._penalties.add(position, docs[position].law, text)
            for term in set(_DEFINITION.findall(text)):
                if term not in keys:
                    keys[term] = "".join(analyze(term))
                if keys[term]:
                    self._definitions.setdefault(keys[term], []).append(position)
        articles = citation_prior([(doc.revision, doc.article_num) for doc in docs], enumerate(texts))
        statutes = statute_prior(
            [law.law_num for law in laws], ((doc.law, text) for doc, text in zip(docs, texts, strict=True))
        )
        self._article_prior, self._statute_prior = articles, statutes[self._doc_law]

    async def _load_vectors(self) -> None:
        """The stored vectors of the indexed articles, rows aligned with ``_dense_positions``."""
        if self.dense is None:
            return
        ids, matrix = await load_vectors(self.sessions, self.dense.model)
        positions = np.array([self._doc_position.get(int(i), -1) for i in ids], dtype=np.int64)
        held = positions >= 0
        self._dense_positions, self._dense_matrix = positions[held], matrix[held]

    def _law_stems(self, laws: list[_LawInfo]) -> dict[str, int]:
        """Statute names without 法: 国家公務員(法), and abbreviations such as 労基(法), 国保(法).

        An abbreviation stem that is an everyday statute word (徴収(法), 車両(法)) would pull every
        question using it towards one law, so a one-word stem found in many articles is left out.
        """
        stems = {law.title[:-1]: i for i, law in enumerate(laws) if law.title.endswith("法") and len(law.title) >= 5}
        common = max(1, int(self._body.size * COMMON_STEM_SHARE))
        for name, i in self._names:
            if not name.endswith("法") or len(name) < 3 or name == laws[i].title:
                continue
            words = analyze(name[:-1])
            if len(words) == 1 and self._body.document_frequency(words[0]) > common:
                continue
            stems.setdefault(name[:-1], i)
        return stems

    @property
    def size(self) -> int:
        """How many articles the index holds (all revisions)."""
        return len(self._docs)

    @property
    def law_count(self) -> int:
        return len(self._laws)

    @property
    def parser(self) -> CitationParser:
        """The citation parser that knows every stored title and abbreviation (rebuilt on refresh)."""
        return self._parser

    def resolve_law(self, name: str) -> str | None:
        """A law id from a law id, title or abbreviation as held."""
        if name in self._law_index:
            return name
        law = self._name_index.get(unicodedata.normalize("NFKC", name.strip()))
        return None if law is None else self._laws[law].law_id

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
        """The best provisions for ``query``; ``law`` is a law id, title or abbreviation.

        ``caller`` is the user searching, on whose behalf the query is embedded (see ``DenseRanking``);
        a guard refusal of the query is raised.
        """
        query = unicodedata.normalize("NFKC", query.strip())[:MAX_QUERY_CHARS]
        limit = max(1, min(limit, MAX_LIMIT))
        if not query or not self._docs:
            return []
        law_filter = None
        if law:
            law_id = self.resolve_law(law)
            if law_id is None:
                return []
            law_filter = self._law_index[law_id]
        mask = self._mask(law_filter, law_type, as_of)
        direct = self._direct(query, law_filter, mask)
        parsed = self._query(query)
        ranked = self._rerank(parsed, top_k(self._scores(parsed), max(limit, RERANK_DEPTH), mask))
        if asks_about_penalty(parsed.terms):
            ranked = self._penalties.promote(ranked, self._duty, mask)
        if self.dense is not None and len(self._dense_positions):
            ranked = _fuse(ranked, await self._dense_ranking(query, mask, caller), self.dense.weight)
        ranked = ranked[:limit]
        positions = list(dict.fromkeys([*direct, *(doc for doc, _ in ranked)]))[:limit]
        score_of = dict(ranked) | dict.fromkeys(direct, DIRECT_HIT_SCORE)
        return await self._hits(positions, score_of, analyze_query(query))

    def _rerank(self, parsed: _Query, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """The first-stage candidates again, each also scored by its best passage (see ``BM25Index.best_passages``)."""
        if PASSAGE_WEIGHT <= 0:
            return ranked
        positions = [position for position, _ in ranked]
        passages = self._body.best_passages(positions, parsed.terms, parsed.weights, window=PASSAGE_WINDOW)
        rescored = [
            (position, score + PASSAGE_WEIGHT * passage)
            for (position, score), passage in zip(ranked, passages, strict=True)
        ]
        return sorted(rescored, key=lambda pair: (-pair[1], pair[0]))

    async def _dense_ranking(self, query: str, mask: BoolArray, caller: uuid.UUID | None) -> list[int]:
        """Allowed articles by cosine similarity to the query, best first; empty if the model fails."""
        assert self.dense is not None
        try:
            vector = np.asarray((await self.dense.embed([query], caller))[0], dtype=np.float32)
        except ProviderError as failure:
            log.warning("legal search without embeddings: %s", failure)
            return []
        if vector.shape != (self._dense_matrix.shape[1],) or not np.isfinite(vector).all():
            log.warning("legal search without embeddings: the query vector does not fit the stored vectors")
            return []
        norm = float(np.linalg.norm(vector))
        similarity = self._dense_matrix @ (vector / (norm or 1.0))
        best = top_k(similarity.astype(np.float32), DENSE_DEPTH, mask[self._dense_positions])
        return [int(self._dense_positions[row]) for row, _ in best]

    def _duty(self, position: int) -> tuple[int, str]:
        doc = self._docs[position]
        return doc.law, doc.article_num

    def _mask(self, law: int | None, law_type: str | None, as_of: date | None) -> BoolArray:
        if as_of is None:
            mask = self._rev_latest[self._doc_revision]
        else:
            day = as_of.toordinal()
            mask = (self._rev_from[self._doc_revision] <= day) & (day < self._rev_until[self._doc_revision])
        if law is not None:
            mask = mask & (self._doc_law == law)
        if law_type:
            allowed = np.array([info.law_type == law_type for info in self._laws], dtype=np.bool_)
            mask = mask & allowed[self._doc_law]
        return mask

    def _direct(self, query: str, law_filter: int | None, mask: BoolArray) -> list[int]:
        """Index positions of the provision a query cites, when it cites one we hold."""
        context = CitationContext(law=self._laws[law_filter].law_id) if law_filter is not None else None
        for citation in self._parser.parse(query, context):
            if citation.article is None or citation.article_shift or citation.supplementary:
                continue
            law = self._cited_law(citation, law_filter)
            if law is None:
                continue
            candidates = np.flatnonzero(mask & (self._doc_law == law))
            found = [
                int(p) for p in candidates if num_covers(self._docs[p].article_num, citation.article.split(":")[0])
            ]
            if found:
                return found[:1]
        return []

    def _cited_law(self, citation: Citation, law_filter: int | None) -> int | None:
        if citation.law is None:
            return law_filter
        law_id = self.resolve_law(citation.law)
        return None if law_id is None else self._law_index[law_id]

    def _query(self, query: str) -> _Query:
        named, rest = self._named_laws(query)
        stemmed = list(dict.fromkeys(law for _, law in self._stems.in_text(rest)))  # a statute counts once
        said = {*named, *stemmed}
        held = (self._name_index.get(title) for title in topical_titles(rest))
        topical = [law for law in dict.fromkeys(held) if law is not None and law not in said]
        named_terms = {t for law in [*named, *stemmed] for t in analyze(self._laws[law].title)}
        terms, weights = self._synonyms.expand(*expand_query(query))
        weights = [NAMED_LAW_TERM_WEIGHT if t in named_terms else w for t, w in zip(terms, weights, strict=True)]
        typed = [term for term in analyze_query(query) if term not in named_terms]
        meaning = word_vectors().meaning(typed, self._body.idf)
        return _Query(named, stemmed, topical, named_terms, terms, weights, typed, meaning)

    def _scores(self, parsed: _Query) -> FloatArray:
        """Every article's score."""
        terms, weights, named_terms = parsed.terms, parsed.weights, parsed.named_terms
        scores = self._body.scores(terms, weights)
        scores += CAPTION_WEIGHT * self._captions.scores(terms, weights)
        scores += OUTLINE_WEIGHT * self._outline.scores(terms, weights)
        scores += WRITTEN_CAPTION_WEIGHT * self._written.scores(terms, weights)
        scores += CAPTION_COVERAGE_BONUS * self._captions.coverage(terms)
        scores += WRITTEN_CAPTION_COVERAGE_BONUS * self._written_captions.coverage(terms)
        subject = [(t, w) for t, w in zip(terms, weights, strict=True) if t not in named_terms]
        if self._laws and subject:
            subject_terms, subject_weights = zip(*subject, strict=True)
            statute = TITLE_WEIGHT * self._titles.scores(subject_terms)
            statute += PURPOSE_WEIGHT * self._purposes.scores(subject_terms, subject_weights)
            if not parsed.named and not parsed.stemmed:  # a statute the question names needs no topic to find it
                statute += TOPIC_FIELD_WEIGHT * self._topics.scores(subject_terms, subject_weights)
            scores += statute[self._doc_law] * (scores > 0)
        for laws, bonus in (
            (parsed.named, NAMED_LAW_BONUS),
            (parsed.stemmed, NAMED_LAW_STEM_BONUS),
            (parsed.topical, TOPIC_BONUS),
        ):
            for law in laws:
                scores += bonus * ((self._doc_law == law) & (scores > 0))
        prior = CENTRALITY_WEIGHT * self._article_prior + STATUTE_CITED_WEIGHT * self._statute_prior
        scores += prior * (scores > 0)
        for position in self._defined(terms):
            scores[position] += DEFINITION_BONUS
        scores += COORDINATION_BONUS * self._coordination(parsed.typed) * (scores > 0)
        scores += MEANING_WEIGHT * np.maximum(self._meanings @ parsed.meaning, 0.0) * (scores > 0)
        return scores

    def _coordination(self, typed: Sequence[str]) -> FloatArray:
        """Per article, the idf-weighted share of the typed words its text, caption or written words contain.

        BM25 adds up what each word contributes, so an article saying one word of the question many
        times, or many of the looser words the question was expanded with, can outrank the article
        saying everything the user wrote; the classic coordination factor evens that out.
        """
        said = np.zeros(self._body.size, dtype=np.float32)
        total = 0.0
        for term in dict.fromkeys(typed):
            weight = self._body.idf(term)
            articles = np.concatenate(
                [field.documents_with(term) for field in (self._body, self._captions, self._written)]
            )
            said[articles] += weight  # an article listed by two fields gains once: ``+=`` on an index array is buffered
            total += weight
        return said / total if total else said

    def _named_laws(self, query: str) -> tuple[list[int], str]:
        """Statutes the query names by title or abbreviation (longest first), and the query without them."""
        return longest_matches(query, self._names)

    def _defined(self, terms: Sequence[str]) -> list[int]:
        positions: list[int] = []
        for start in range(len(terms)):
            for end in range(start + 1, min(len(terms), start + _MAX_DEFINITION_SPAN) + 1):
                positions.extend(self._definitions.get("".join(terms[start:end]), ()))
        return positions

    async def _hits(self, positions: list[int], score_of: dict[int, float], terms: Sequence[str]) -> list[SearchHit]:
        if not positions:
            return []
        ids = [self._docs[p].provision_id for p in positions]
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(ProvisionRow.id, ProvisionRow.body, RevisionRow.lossy)
                    .join(RevisionRow, RevisionRow.id == ProvisionRow.revision_pk)
                    .where(ProvisionRow.id.in_(ids))
                )
            ).all()
        bodies = {row[0]: (row[1], row[2]) for row in rows}
        hits = []
        for position in positions:
            doc = self._docs[position]
            if doc.provision_id not in bodies:
                continue  # replaced by a re-ingest since the last refresh
            body, lossy = bodies[doc.provision_id]
            hits.append(self._hit(doc, json.loads(body), lossy, score_of.get(position, 0.0), terms))
        return hits

    def _hit(self, doc: _Doc, body: list[dict[str, Any]], lossy: bool, score: float, terms: Sequence[str]) -> SearchHit:
        texts = [paragraph_text(paragraph_from_json(p)) for p in body]
        law = self._laws[doc.law]
        labels = [h.title.split("　")[0] for h in doc.path]
        labels.append(article_label(doc.article_num))
        paragraph: int | None = None
        text = "\n".join(texts)
        if not lossy and len(texts) > 1:
            best = max(range(len(texts)), key=lambda i: (sum(t in texts[i] for t in terms), -i))
            paragraph = int(str(body[best]["num"]))
            text = texts[best]
            labels.append(paragraph_label(paragraph))
        return SearchHit(
            law_id=law.law_id,
            law_title=law.title,
            article=doc.article_num,
            paragraph=paragraph,
            text=text,
            score=round(score, 4),
            path_label=" ".join(labels),
            caption=doc.caption,
            law_type=law.law_type,
        )


def _fuse(lexical: list[tuple[int, float]], dense: list[int], weight: float) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of the text ranking and the embedding ranking (weighted by ``weight``)."""
    if not dense:
        return lexical
    fused: dict[int, float] = {}
    for ranking, share in (([position for position, _ in lexical], 1.0), (dense, weight)):
        for rank, position in enumerate(ranking, 1):
            fused[position] = fused.get(position, 0.0) + share / (RRF_K + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


async def _fingerprint(session: AsyncSession, model: str | None) -> tuple[int, int, int]:
    """What the index was built from: articles (count, newest id) and the vectors of ``model``."""
    count, last = (await session.execute(select(func.count(ProvisionRow.id), func.max(ProvisionRow.id)))).one()
    vectors = 0
    if model is not None:
        vectors = int(await session.scalar(select(func.count()).where(VectorRow.model == model)) or 0)
    return int(count or 0), int(last or 0), vectors


def _validity(revision_law: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, BoolArray]:
    """Per revision: first day in force, first day no longer in force, and whether it is the newest."""
    until = np.full(len(starts), date.max.toordinal() + 1, dtype=np.int64)
    latest = np.ones(len(starts), dtype=np.bool_)
    order = np.lexsort((np.arange(len(starts)), starts, revision_law))
    for previous, current in pairwise(order):
        if revision_law[previous] == revision_law[current]:
            until[previous] = starts[current]
            latest[previous] = False
    return starts, until, latest
