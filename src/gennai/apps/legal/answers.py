"""Grounded answers: a question, retrieved provisions and a model give an answer whose every
citation has been checked against the statutes.

The model sees only numbered sources and is told to cite them as ``[n]`` with the provision's full
label and to quote verbatim in 「」. Whatever it writes is then verified (``verify``): citations that
fail are marked ⚠ in the answer, and markers to sources that were never given are marked too, so
nothing unverified reaches the reader unmarked. Free of the web layer and of any model vendor: the
model is any ``async`` callable from chat messages to text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from gennai.apps.legal.citations import CitationParser
from gennai.apps.legal.provisions import ProvisionSource, ProvisionText
from gennai.apps.legal.resolve import provision_label
from gennai.apps.legal.verify import REFERENCE_LINE, SOURCE_MARKER, CitationCheck, mark_unverified, verify_text

Generate = Callable[[list[dict[str, str]]], Awaitable[str]]
ReportForm = Literal["definition", "procedure", "comparison", "interpretation", "overview"]
REPORT_FORMS: tuple[ReportForm, ...] = get_args(ReportForm)

MAX_SOURCE_CHARS = 1500
"""Per source, so a few long articles cannot crowd the others out of the model's context."""

NO_SOURCES_ANSWER = (
    "ご質問に関係する条文が見つからなかったため、条文に基づく回答はできません。検索語を変えてお試しください。"
)

FORM_INSTRUCTIONS: dict[ReportForm, str] = {
    "definition": (
        "【回答形式：定義】用語を定義する条文（定義規定）を示し、定義の文言を「」でそのまま引用してください。"
        "定義が及ぶ範囲（「この法律において」など）と、除かれるものがあればそれも示してください。"
    ),
    "procedure": (
        "【回答形式：手続】手続を時系列の番号付きの手順で示し、手順ごとに主体・期限・要件と根拠条文を付けてください。"
    ),
    "comparison": (
        "【回答形式：比較】比較する対象ごとに要件・効果・手続の違いをMarkdownの表で整理し、"
        "各欄に根拠条文を付けてください。表の後に主な違いを二、三文でまとめてください。"
    ),
    "interpretation": (
        "【回答形式：解釈】条文の文言を引用したうえで、要件と効果に分けて説明してください。"
        "文言から直ちに言えることと、解釈の余地がある点とを区別して書いてください。"
        "資料にない判例・通達・学説は挙げないでください。"
    ),
    "overview": "【回答形式：概要】結論を最初に一、二文で述べ、続けて主要な規定を箇条書きで示してください。",
}

SYSTEM_PROMPT = "\n".join(
    [
        "あなたは日本の行政職員の法令調査を支援するアシスタントです。",
        "利用者の質問に、下に示す「資料」の条文だけを根拠として、日本語で正確に回答してください。",
        "",
        "守ること:",
        "1. 根拠にした箇所の文末に、資料の番号を [1] のように付けてください。",
        "2. 条文の文言を示すときは「」で囲み、資料の文言を一字一句そのまま写してください。"
        "途中を省くときは…を使ってください。要約や言い換えは「」で囲まないでください。",
        "3. 条文は「行政手続法第五条第一項」のように、法令名から正式な条名で書いてください。"
        "「同法」「前条」「本条」などの略記は使わないでください。",
        "4. 資料から答えられないことは、答えられないと明記してください。資料にない条文番号を推測で挙げないでください。",
        "5. 回答の最後に「参照条文」の見出しを置き、使った資料を1行に1つ「[番号] 条文名」の形で列挙してください。",
    ]
)


@dataclass(frozen=True)
class NumberedSource:
    """A provision as shown to the model: its number in the prompt and its full label."""

    number: int
    label: str  # 行政手続法第五条第一項
    provision: ProvisionText


@dataclass(frozen=True)
class GroundedAnswer:
    """The answer with unverifiable citations marked, the sources it was given, and every verdict."""

    question: str
    form: ReportForm
    text: str
    raw_text: str
    sources: list[NumberedSource]
    citations: list[CitationCheck]

    @property
    def all_verified(self) -> bool:
        return all(c.status == "verified" for c in self.citations)


async def number_sources(provisions: Sequence[ProvisionText], source: ProvisionSource) -> list[NumberedSource]:
    """Number the retrieved provisions [1], [2], … with labels that carry their statute's title."""
    titles: dict[str, str] = {}
    numbered = []
    for number, provision in enumerate(provisions, start=1):
        law_id = provision.ref.law_id
        if law_id not in titles:
            law = await source.get_law(law_id)
            titles[law_id] = law.title if law else law_id
        numbered.append(NumberedSource(number, provision_label(titles[law_id], provision.ref), provision))
    return numbered


def build_messages(
    question: str, sources: Sequence[NumberedSource], form: ReportForm = "overview", as_of: date | None = None
) -> list[dict[str, str]]:
    """The chat messages for the model: rules and the form in the system message, sources with the question."""
    system = f"{SYSTEM_PROMPT}\n\n{FORM_INSTRUCTIONS[form]}"
    if as_of is not None:
        system += f"\n\n基準日は{as_of.isoformat()}です。この日に効力のある条文として回答してください。"
    blocks = []
    for s in sources:
        caption = s.provision.caption
        text = s.provision.text
        if len(text) > MAX_SOURCE_CHARS:
            text = text[:MAX_SOURCE_CHARS] + "（以下略）"
        blocks.append(f"[{s.number}] {s.label}{caption}\n{text}")
    user = "資料:\n\n" + "\n\n".join(blocks) + f"\n\n質問: {question}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def complete_references(text: str, sources: Sequence[NumberedSource]) -> str:
    """Make sure every ``[n]`` used has a reference line naming its provision, so that quotes tied to
    ``[n]`` are checked against it; a marker with no such source is marked rather than kept silently."""
    by_number = {s.number: s for s in sources}
    listed = {int(n) for n in REFERENCE_LINE.findall(text)}
    used = [int(n) for n in dict.fromkeys(SOURCE_MARKER.findall(text))]
    unknown = {n for n in used if n not in by_number and n not in listed}
    if unknown:
        text = SOURCE_MARKER.sub(
            lambda m: m.group() + (" ⚠（資料にない番号です）" if int(m.group(1)) in unknown else ""), text
        )
    missing = [by_number[n] for n in used if n in by_number and n not in listed]
    if missing:
        lines = "\n".join(f"[{s.number}] {s.label}" for s in missing)
        heading = "" if "参照条文" in text else "\n\n参照条文"
        text = f"{text.rstrip()}{heading}\n{lines}\n"
    return text


async def answer_question(
    question: str,
    provisions: Sequence[ProvisionText],
    generate: Generate,
    source: ProvisionSource,
    *,
    form: ReportForm = "overview",
    as_of: date | None = None,
    parser: CitationParser | None = None,
) -> GroundedAnswer:
    """Ask the model with the retrieved provisions as numbered sources, then verify and mark the answer."""
    sources = await number_sources(provisions, source)
    if not sources:
        return GroundedAnswer(question, form, NO_SOURCES_ANSWER, NO_SOURCES_ANSWER, [], [])
    raw = await generate(build_messages(question, sources, form, as_of))
    completed = complete_references(raw, sources)
    checks = await verify_text(completed, source, as_of=as_of, parser=parser)
    return GroundedAnswer(question, form, mark_unverified(completed, checks), raw, sources, checks)
