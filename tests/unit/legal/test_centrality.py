"""The prior for the articles a statute's own provisions keep citing."""

from __future__ import annotations

import math

import pytest

from gennai.apps.legal.centrality import citation_prior, cited_own_articles, statute_prior
from gennai.apps.legal.citations import law_numbers_in


def test_only_the_statutes_own_articles_are_cited() -> None:
    text = "労働者派遣法第四十四条第二項又は第十条の規定に違反した者は、三十万円以下の罰金に処する。"
    assert cited_own_articles(text) == {"10"}
    assert cited_own_articles("第九条から第九条の三までの規定") == {"9", "9_3"}


def test_an_article_counts_each_other_article_citing_it_once_within_its_revision() -> None:
    articles = [(0, "9"), (0, "10"), (0, "11"), (1, "9"), (1, "10")]
    texts = [
        (0, "第九条の規定にかかわらず"),  # an article citing itself is no link
        (1, "第九条第一項の規定による申込みの撤回、第九条第二項"),
        (2, "第九条又は第十条の規定は"),
        (4, "第九条の規定により"),  # another revision
    ]
    prior = citation_prior(articles, texts)
    assert prior.tolist() == pytest.approx([math.log(3), math.log(2), 0.0, math.log(2), 0.0])


def test_law_numbers_are_read_in_statute_spelling() -> None:
    text = "地方自治法（昭和二十二年法律第六十七号）第二条及び平成15年法律第57号"
    assert law_numbers_in(text) == {"昭和二十二年法律第六十七号", "平成十五年法律第五十七号"}


def test_a_statute_counts_each_other_statute_citing_it_once() -> None:
    numbers = ["昭和二十二年法律第六十七号", "平成五年法律第八十八号", "昭和二十三年法律第百二十二号"]
    texts = [
        (0, "昭和二十二年法律第六十七号の規定"),  # a statute citing itself is no link
        (1, "地方自治法（昭和二十二年法律第六十七号）"),
        (1, "地方自治法（昭和二十二年法律第六十七号）第二百四十五条"),  # the same statute again
        (2, "地方自治法（昭和二十二年法律第六十七号）、行政手続法（平成五年法律第八十八号）"),
        (2, "令和九年法律第一号"),  # a statute not held
    ]
    assert statute_prior(numbers, texts).tolist() == pytest.approx([math.log(3), math.log(2), 0.0])
