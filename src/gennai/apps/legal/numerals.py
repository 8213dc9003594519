"""Japanese numerals and provision labels, both ways.

Statutes write numbers in kanji (第七百九条) while e-Gov XML stores them as ``Num`` values
(``"709"``, ``"32_2"`` for 第三十二条の二, ``"29:31"`` for a range). Users and models also write
Arabic or full-width digits (第5条, 第５条). Everything that reads or renders a provision label goes
through this module so the two spellings never drift apart.
"""

from __future__ import annotations

import re

_DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
for _i in range(10):
    _DIGITS[str(_i)] = _i
    _DIGITS[chr(ord("０") + _i)] = _i

_SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "千": 1000}
_LARGE_UNITS: dict[str, int] = {"万": 10**4, "億": 10**8}
_KANJI_DIGITS = "〇一二三四五六七八九"

NUMERAL_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_LARGE_UNITS)
"""Every character that may occur in a number; for building citation patterns."""

NUMERAL = f"[{NUMERAL_CHARS}]+"
"""A regular-expression fragment matching one number in any supported spelling."""

IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"
"""The order of sub-item (号の細分) labels: イ, ロ, ハ, …"""

_FULLWIDTH_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")
_NUM_PART = re.compile(r"\d+(?:_\d+)*")


def parse_number(text: str) -> int:
    """The value of a number written in kanji (七百九, 千二百, 二〇二四), Arabic or full-width digits.

    Raises ``ValueError`` for an empty or malformed number, so callers never cite a wrong provision.
    """
    if not text:
        raise ValueError("empty number")
    if all(ch in _DIGITS for ch in text):
        # Positional: "709", "７０９", "二〇二四".
        value = 0
        for ch in text:
            value = value * 10 + _DIGITS[ch]
        return value
    total = 0
    section = 0
    pending: int | None = None
    last_small = 10**5
    last_large = 10**13
    for ch in text:
        if ch in _DIGITS:
            pending = _DIGITS[ch] if pending is None else pending * 10 + _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            if unit >= last_small or pending == 0:
                raise ValueError(f"malformed number: {text!r}")
            section += (1 if pending is None else pending) * unit
            last_small = unit
            pending = None
        elif ch in _LARGE_UNITS:
            unit = _LARGE_UNITS[ch]
            section += pending or 0
            if unit >= last_large or section == 0:
                raise ValueError(f"malformed number: {text!r}")
            total += section * unit
            section, pending, last_small, last_large = 0, None, 10**5, unit
        else:
            raise ValueError(f"not a numeral: {ch!r} in {text!r}")
    if pending is not None and pending >= 10 and section:
        raise ValueError(f"malformed number: {text!r}")
    return total + section + (pending or 0)


def _kanji_below_10000(value: int) -> str:
    out = []
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        digit, value = divmod(value, unit)
        if digit:
            out.append(("" if digit == 1 else _KANJI_DIGITS[digit]) + name)
    if value:
        out.append(_KANJI_DIGITS[value])
    return "".join(out)


def to_kanji(value: int) -> str:
    """The statute spelling of a non-negative integer: 709 -> 七百九, 1200 -> 千二百, 0 -> 〇."""
    if value < 0:
        raise ValueError("negative numbers do not occur in provision labels")
    if value == 0:
        return "〇"
    out = []
    for unit, name in ((10**8, "億"), (10**4, "万")):
        group, value = divmod(value, unit)
        if group:
            out.append(to_kanji(group) + name)
    out.append(_kanji_below_10000(value))
    return "".join(out)


def normalize_digits(text: str) -> str:
    """Full-width digits to ASCII, leaving everything else alone."""
    return text.translate(_FULLWIDTH_TO_ASCII)


# --- Num values and labels ------------------------------------------------------------------


def _check_num(num: str) -> list[str]:
    if not _NUM_PART.fullmatch(num):
        raise ValueError(f"not an e-Gov Num: {num!r}")
    return num.split("_")


def _single_label(num: str, unit: str) -> str:
    base, *branches = _check_num(num)
    return f"第{to_kanji(int(base))}{unit}" + "".join(f"の{to_kanji(int(b))}" for b in branches)


def num_label(num: str, unit: str) -> str:
    """Render an e-Gov ``Num`` with its unit: ("32_2", "条") -> 第三十二条の二,
    ("29:31", "条") -> 第二十九条から第三十一条まで."""
    if ":" in num:
        first, _, last = num.partition(":")
        return f"{_single_label(first, unit)}から{_single_label(last, unit)}まで"
    return _single_label(num, unit)


_BRANCH = f"(?:の{NUMERAL})*"


def _label_pattern(unit: str) -> re.Pattern[str]:
    single = f"第{NUMERAL}{unit}{_BRANCH}"
    return re.compile(f"({single})(?:から({single})まで)?")


_LABEL_PATTERNS: dict[str, re.Pattern[str]] = {}


def _single_num(label: str, unit: str) -> str:
    body = label[1:]  # drop 第
    base, _, rest = body.partition(unit)
    parts = [parse_number(base)] + [parse_number(b) for b in rest.split("の")[1:]]
    return "_".join(str(p) for p in parts)


def parse_num_label(label: str, unit: str) -> str:
    """The e-Gov ``Num`` of a label: (第三十二条の二, 条) -> "32_2", (第5条から第７条まで, 条) -> "5:7"."""
    pattern = _LABEL_PATTERNS.setdefault(unit, _label_pattern(unit))
    match = pattern.fullmatch(label.strip())
    if match is None:
        raise ValueError(f"not a {unit} label: {label!r}")
    first = _single_num(match.group(1), unit)
    if match.group(2) is None:
        return first
    return f"{first}:{_single_num(match.group(2), unit)}"


def article_nums_in(text: str) -> list[tuple[int, str]]:
    """Where each article label in ``text`` starts, and its ``Num``; a range gives both ends.

    Only labels: whose statute a label belongs to (同法, 前条) is the citation parser's business.
    """
    pattern = _LABEL_PATTERNS.setdefault("条", _label_pattern("条"))
    found: list[tuple[int, str]] = []
    for match in pattern.finditer(text):
        try:
            labels = [group for group in (1, 2) if match.group(group)]
            nums = [(match.start(group), _single_num(match.group(group), "条")) for group in labels]
        except ValueError:  # a malformed number (第〇十条) labels no article
            continue
        found.extend(nums)
    return found


def article_label(num: str) -> str:
    """ "32_2" -> 第三十二条の二; "29:31" -> 第二十九条から第三十一条まで."""
    return num_label(num, "条")


def parse_article_label(label: str) -> str:
    """第三十二条の二 -> "32_2"; 第二十九条から第三十一条まで -> "29:31"."""
    return parse_num_label(label, "条")


def paragraph_label(number: int) -> str:
    """6 -> 第六項."""
    return f"第{to_kanji(number)}項"


def parse_paragraph_label(label: str) -> int:
    """第六項 (or 第6項) -> 6."""
    num = parse_num_label(label, "項")
    if not num.isdigit():
        raise ValueError(f"paragraphs have no branch numbers or ranges here: {label!r}")
    return int(num)


def item_label(num: str) -> str:
    """ "2" -> 第二号; "2_2" -> 第二号の二; "1:3" -> 第一号から第三号まで."""
    return num_label(num, "号")


def parse_item_label(label: str) -> str:
    """第二号の二 -> "2_2"."""
    return parse_num_label(label, "号")


def subitem_label(number: int) -> str:
    """The first-level sub-item label of a 1-based position: 1 -> イ, 3 -> ハ."""
    if not 1 <= number <= len(IROHA):
        raise ValueError(f"no イロハ label for sub-item {number}")
    return IROHA[number - 1]


def parse_subitem_label(label: str) -> int:
    """イ -> 1, ハ -> 3 (the 1-based position)."""
    position = IROHA.find(label.strip())
    if position < 0 or len(label.strip()) != 1:
        raise ValueError(f"not a sub-item label: {label!r}")
    return position + 1
