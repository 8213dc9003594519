"""Japanese analysis and the BM25 index under legal search."""

from __future__ import annotations

import numpy as np
import pytest

from gennai.search.analysis import WordList, analyze, analyze_query, longest_matches
from gennai.search.index import BM25Index, top_k


def test_analysis_drops_particles_and_symbols_and_normalizes_spelling() -> None:
    tokens = analyze("個人情報の第三者提供について、教えてください。")
    assert "個人" in tokens and "情報" in tokens and "提供" in tokens
    assert "の" not in tokens and "、" not in tokens and "。" not in tokens
    assert analyze_query("申込みの取下げ") == analyze_query("申し込み取り下げ")


def test_politeness_is_not_a_topic() -> None:
    assert analyze_query("お医者さんに診てほしい") == ("医者", "見る")  # not 御 (お茶) nor さん


def test_full_width_and_half_width_analyse_alike() -> None:
    assert analyze_query("ＡＩ") == analyze_query("AI")


def test_short_and_huge_queries() -> None:
    assert analyze_query("税") == ("税",)
    assert analyze_query("の") == ("の",)  # a lone particle is still a query, not an empty one
    assert analyze_query("") == ()
    assert len(analyze_query("あ" * 10_000)) >= 1


def test_long_text_is_analysed_in_chunks() -> None:
    assert len(analyze("行政手続" * 20_000)) >= 20_000


def test_longest_matches_read_each_word_once_and_never_inside_a_longer_katakana_word() -> None:
    entries = WordList([("住宅", "house"), ("市営住宅", "housing"), ("ドローン", "drone"), ("スト", "strike")])
    assert [word for word, _ in entries.in_text("市営住宅の住宅")] == ["市営住宅", "住宅"]  # longest first
    assert longest_matches("市営住宅のドローン", entries) == (["housing", "drone"], "　の　")
    assert longest_matches("テストのコスト・スト", entries)[0] == ["strike"]
    assert longest_matches("ドローンズ", entries)[0] == []


def test_bm25_ranks_the_document_about_the_query_first() -> None:
    index = BM25Index([["休憩", "時間", "労働"], ["賃金", "支払", "労働"], ["休憩", "休憩", "時間"]])
    ranked = top_k(index.scores(["休憩", "時間"]), 3)
    assert [doc for doc, _ in ranked] == [2, 0]
    assert index.document_frequency("労働") == 2 and index.document_frequency("無い") == 0


def test_top_k_respects_the_mask_and_the_limit() -> None:
    index = BM25Index([["a"], ["a", "b"], ["a"]])
    scores = index.scores(["a"])
    assert len(top_k(scores, 2)) == 2
    assert [doc for doc, _ in top_k(scores, 3, np.array([False, True, False]))] == [1]
    assert top_k(index.scores(["z"]), 3) == []


def test_an_empty_index_answers_nothing() -> None:
    assert top_k(BM25Index([]).scores(["a"]), 5) == []


def test_question_words_are_dropped_from_queries_unless_nothing_else_is_left() -> None:
    assert analyze_query("どのような外国人が退去強制の対象になるか") == ("外国人", "退去", "強制", "対象")
    assert "教える" not in analyze_query("営利企業の役員を兼ねることについて教えてください")
    assert analyze_query("規定") == ("規定",)  # alone it is the query
    assert "出来る" in analyze("することができる")  # stored statute terms keep them


def test_coverage_says_how_much_of_a_short_field_the_query_states() -> None:
    index = BM25Index([["退去", "強制"], ["退去", "強制", "令書", "方式"], []])
    coverage = index.coverage(["外国人", "退去", "強制"])
    assert coverage.tolist() == [1.0, 0.5, 0.0]


def test_best_passage_is_not_diluted_by_the_rest_of_a_long_document() -> None:
    filler = ["他"] * 400
    short, long = ["休憩", "時間"], [*filler, "休憩", "時間", *filler]
    ending = [*filler[:73], "休憩"]  # 74 tokens: windows of 50 stepping by 25 start at 0 and 25 only
    index = BM25Index([short, long, ["賃金"] * 50, [], ending, ending[::-1]], positions=True)
    whole = index.scores(["休憩", "時間"])
    assert whole[1] < whole[0] / 2  # BM25 over the whole article dilutes the match
    short_passage, long_passage = index.best_passages([0, 1], ["休憩", "時間"], window=50)
    assert long_passage > whole[1] * 2
    assert short_passage == pytest.approx(whole[0])  # a short document is one passage: its own BM25
    assert index.best_passages([1, 3], ["無い"]) == [0.0, 0.0] and index.best_passages([3], ["休憩"]) == [0.0]
    at_end, at_start = index.best_passages([4, 5], ["休憩"], window=50)
    assert at_end == at_start > 0  # the last window ends at the last token
    weighted = index.best_passages([1], ["休憩", "時間"], [2.0, 2.0], window=50)[0]
    assert weighted == pytest.approx(2 * long_passage)


def test_best_passages_needs_the_positions_of_tokens() -> None:
    with pytest.raises(ValueError, match="positions"):
        BM25Index([["休憩"]]).best_passages([0], ["休憩"])
