"""The seam between stored statutes and everything that cites them.

Citation resolution and verification ask questions of a ``ProvisionSource``; the statute store
answers them. Keeping the question small lets the verifier be tested against any source and lets
the store change its tables without touching the citation code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class LawRecord:
    """A statute as a whole, as of one revision."""

    law_id: str  # e.g. "405AC0000000088"
    title: str  # e.g. "行政手続法"
    law_num: str  # e.g. "平成五年法律第八十八号"
    law_type: str  # e-Gov LawType: Act, CabinetOrder, MinisterialOrdinance, ...
    abbreviations: tuple[str, ...] = ()
    revision_id: str | None = None
    in_force_from: date | None = None


@dataclass(frozen=True)
class ProvisionRef:
    """Where a provision sits: numbers are e-Gov ``Num`` values ("32_2" is 第三十二条の二)."""

    law_id: str
    article: str | None = None
    paragraph: int | None = None  # 1-based; paragraph 1 has an empty ParagraphNum in e-Gov XML
    item: str | None = None
    subitems: tuple[str, ...] = ()
    supplementary: bool = False  # in the 附則 of the original enactment


@dataclass(frozen=True)
class ProvisionText:
    """The text a reference points at, with the facts a verifier needs."""

    ref: ProvisionRef
    text: str
    caption: str = ""
    deleted: bool = False
    in_force_from: date | None = None
    in_force_until: date | None = None
    path_label: str = ""  # e.g. "第二章 第五条 第六項 第二号"
    children: tuple[str, ...] = field(default=())
    # True when ``text`` is wider than ``ref`` asked: article-level (lossy) data cannot narrow to a
    # paragraph or item, so a verifier must not call such a citation verified.
    approximate: bool = False


class ProvisionSource(Protocol):
    """What the statute store answers; implemented by the store, faked in unit tests."""

    async def find_laws(self, name: str) -> list[LawRecord]:
        """Laws whose title, abbreviation or law number (平成十五年法律第五十七号) is ``name``."""
        ...

    async def get_law(self, law_id: str, as_of: date | None = None) -> LawRecord | None: ...

    async def get_provision(self, ref: ProvisionRef, as_of: date | None = None) -> ProvisionText | None:
        """The provision in force at ``as_of`` (the latest revision when None), or None."""
        ...
