import pytest

from gennai.apps.legal.numerals import (
    article_label,
    item_label,
    normalize_digits,
    num_label,
    paragraph_label,
    parse_article_label,
    parse_item_label,
    parse_num_label,
    parse_number,
    parse_paragraph_label,
    parse_subitem_label,
    subitem_label,
    to_kanji,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("三十二", 32),
        ("百", 100),
        ("七百九", 709),
        ("千", 1000),
        ("千二百", 1200),
        ("一千二百", 1200),
        ("一万", 10000),
        ("一万二千三百四十五", 12345),
        ("二億三万", 200_030_000),
        ("〇", 0),
        ("零", 0),
        ("二〇二四", 2024),
        ("壱", 1),
        ("弐拾参", 23),
        ("709", 709),
        ("７０９", 709),
        ("５", 5),
    ],
)
def test_parse_number(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "百千", "十十", "x", "〇十", "五a"])
def test_parse_number_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "〇"), (1, "一"), (10, "十"), (11, "十一"), (32, "三十二"), (709, "七百九"), (1200, "千二百"),
     (10000, "一万"), (12345, "一万二千三百四十五"), (100_000_000, "一億")],
)  # fmt: skip
def test_to_kanji(value: int, text: str) -> None:
    assert to_kanji(value) == text


def test_round_trip_up_to_ten_thousand() -> None:
    for value in range(10001):
        assert parse_number(to_kanji(value)) == value


def test_to_kanji_rejects_negative() -> None:
    with pytest.raises(ValueError):
        to_kanji(-1)


def test_normalize_digits() -> None:
    assert normalize_digits("第５条第２項") == "第5条第2項"


@pytest.mark.parametrize(
    ("num", "label"),
    [
        ("1", "第一条"),
        ("709", "第七百九条"),
        ("32_2", "第三十二条の二"),
        ("10_2_3", "第十条の二の三"),
        ("29:31", "第二十九条から第三十一条まで"),
        ("5_2:5_4", "第五条の二から第五条の四まで"),
    ],
)
def test_article_label_both_ways(num: str, label: str) -> None:
    assert article_label(num) == label
    assert parse_article_label(label) == num


def test_article_label_accepts_digits() -> None:
    assert parse_article_label("第5条") == "5"
    assert parse_article_label("第３２条の２") == "32_2"
    assert parse_article_label("第29条から第31条まで") == "29:31"


@pytest.mark.parametrize("bad", ["第条", "三十二条", "第三十二項", "第x条", "", "32_2"])
def test_parse_article_label_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_article_label(bad)


def test_bad_num_rejected() -> None:
    with pytest.raises(ValueError):
        article_label("3a")
    with pytest.raises(ValueError):
        num_label("", "条")


def test_paragraph_labels() -> None:
    assert paragraph_label(6) == "第六項"
    assert parse_paragraph_label("第六項") == 6
    assert parse_paragraph_label("第６項") == 6
    with pytest.raises(ValueError):
        parse_paragraph_label("第一項から第三項まで")


def test_item_labels() -> None:
    assert item_label("2") == "第二号"
    assert item_label("2_2") == "第二号の二"
    assert parse_item_label("第二号の二") == "2_2"
    assert parse_num_label("第一号から第三号まで", "号") == "1:3"


def test_subitem_labels() -> None:
    assert [subitem_label(n) for n in (1, 2, 3, 4)] == ["イ", "ロ", "ハ", "ニ"]
    assert parse_subitem_label("ホ") == 5
    with pytest.raises(ValueError):
        subitem_label(0)
    with pytest.raises(ValueError):
        parse_subitem_label("A")
