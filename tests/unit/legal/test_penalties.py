"""Penalty provisions found from the duties they cite."""

from __future__ import annotations

import numpy as np

from gennai.apps.legal.numerals import article_nums_in
from gennai.apps.legal.penalties import PenaltyLinks, asks_about_penalty, is_penalty

WORKING_HOURS_PENALTY = (
    "次の各号のいずれかに該当する者は、六箇月以下の懲役又は三十万円以下の罰金に処する。"
    "一　第三条、第四条、第三十二条、第三十三条の二又は第百四条第二項の規定に違反した者"
)


def test_article_labels_are_read_with_their_positions() -> None:
    text = "第百条第一項又は第百九条の二、第２９条から第三十一条までの規定"
    assert [num for _, num in article_nums_in(text)] == ["100", "109_2", "29", "31"]
    assert article_nums_in("前条の規定") == []
    assert article_nums_in("第〇十条及び第三条") == [(6, "3")]  # a malformed number labels nothing


def test_a_penalty_imposes_a_sanction() -> None:
    assert is_penalty(WORKING_HOURS_PENALTY)
    assert is_penalty("前条の規定に違反した者は、十万円以下の過料に処する。")
    assert is_penalty("五年以下の拘禁刑若しくは千万円以下の罰金に処し、又はこれを併科する。")
    assert not is_penalty("使用者は、労働者に、休憩時間を除き一週間について四十時間を超えて、労働させてはならない。")
    assert not is_penalty("前項の規定により処分に処する")  # no sanction named


def test_penalty_words_in_a_query() -> None:
    assert asks_about_penalty(["労働", "時間", "罰則"])
    assert asks_about_penalty(["秘密", "刑罰"])
    assert not asks_about_penalty(["労働", "時間"])


def test_penalties_are_placed_just_above_the_duty_they_punish() -> None:
    links = PenaltyLinks()
    links.add(7, 0, WORKING_HOURS_PENALTY)
    links.add(8, 0, "第三十二条に違反した者は、十万円以下の過料に処する。")
    links.add(9, 1, "第三十二条に違反した者は、十万円以下の罰金に処する。")  # another statute's 32
    links.add(5, 0, "使用者は、第三十二条の規定にかかわらず…")  # not a penalty: ignored
    duty = {1: (0, "32"), 2: (0, "34"), 3: (0, "1"), 7: (0, "119"), 8: (0, "120"), 9: (1, "50")}
    allowed = np.ones(10, dtype=np.bool_)
    allowed[8] = False  # outside the search's filter: never shown
    ranked = links.promote([(2, 9.0), (1, 5.0), (3, 1.0)], duty.__getitem__, allowed)
    assert [position for position, _ in ranked] == [2, 7, 1, 3]
    assert ranked[1][1] > ranked[2][1]


def test_a_penalty_citing_a_penalty_is_not_followed() -> None:
    links = PenaltyLinks()
    links.add(4, 0, "第百十九条の違反行為をした者は、罰金に処する。")
    duty = {7: (0, "119"), 4: (0, "121")}
    links.add(7, 0, WORKING_HOURS_PENALTY)
    ranked = links.promote([(7, 3.0)], duty.__getitem__, np.ones(10, dtype=np.bool_))
    assert [position for position, _ in ranked] == [7]
