from datetime import date

import pytest
from tests.unit.legal.statute_fakes import LAW_ID, sample_source

from gennai.apps.legal.answers import (
    FORM_INSTRUCTIONS,
    NO_SOURCES_ANSWER,
    REPORT_FORMS,
    answer_question,
    build_messages,
    complete_references,
    number_sources,
)
from gennai.apps.legal.provisions import ProvisionRef, ProvisionText
from gennai.apps.legal.resolve import provision_label

SOURCE = sample_source()


class ScriptedModel:
    """Answers with a fixed text and keeps the messages it was sent."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls: list[list[dict[str, str]]] = []

    async def __call__(self, messages: list[dict[str, str]]) -> str:
        self.calls.append(messages)
        return self.reply


async def retrieved(*refs: ProvisionRef) -> list[ProvisionText]:
    found = [await SOURCE.get_provision(ref) for ref in refs]
    assert all(found)
    return [p for p in found if p is not None]


def test_provision_label() -> None:
    assert (
        provision_label("行政手続法", ProvisionRef(LAW_ID, "32_2", 1, "4", ("1",)))
        == "行政手続法第三十二条の二第一項第四号イ"
    )
    assert provision_label("行政手続法", ProvisionRef(LAW_ID, "2", supplementary=True)) == "行政手続法附則第二条"


async def test_prompt_numbers_sources_and_states_the_form() -> None:
    sources = await number_sources(await retrieved(ProvisionRef(LAW_ID, "5", 1), ProvisionRef(LAW_ID, "7")), SOURCE)
    assert [s.label for s in sources] == ["試験手続法第五条第一項", "試験手続法第七条"]
    messages = build_messages("審査基準とは何か", sources, "definition", date(2025, 4, 1))
    system, user = messages[0]["content"], messages[1]["content"]
    assert FORM_INSTRUCTIONS["definition"] in system
    assert "2025-04-01" in system
    assert "[1] 試験手続法第五条第一項" in user
    assert "行政庁は、審査基準を定めるものとする。" in user
    assert user.rstrip().endswith("質問: 審査基準とは何か")


async def test_every_form_changes_the_instructions() -> None:
    sources = await number_sources(await retrieved(ProvisionRef(LAW_ID, "5", 1)), SOURCE)
    systems = {build_messages("q", sources, form)[0]["content"] for form in REPORT_FORMS}
    assert len(systems) == len(REPORT_FORMS) == 5


async def test_verified_answer_is_left_alone() -> None:
    reply = (
        "行政庁は審査基準を定めます。試験手続法第五条第一項は「行政庁は、審査基準を定めるものとする。」と定めています[1]。\n\n"
        "参照条文\n[1] 試験手続法第五条第一項\n"
    )
    model = ScriptedModel(reply)
    answer = await answer_question("審査基準とは", await retrieved(ProvisionRef(LAW_ID, "5", 1)), model, SOURCE)
    assert answer.all_verified
    assert answer.text == reply
    assert len(model.calls) == 1
    assert [c.status for c in answer.citations] == ["verified", "verified"]


async def test_fabrications_are_marked_not_dropped() -> None:
    reply = (
        "審査基準は「行政庁は、審査基準を定めなければならない。」とされています[1]。"
        "また試験手続法第十二条も参照してください。\n\n参照条文\n[1] 試験手続法第五条第一項\n"
    )
    answer = await answer_question("q", await retrieved(ProvisionRef(LAW_ID, "5", 1)), ScriptedModel(reply), SOURCE)
    statuses = [(c.text, c.status) for c in answer.citations]
    assert statuses == [("試験手続法第十二条", "not_found"), ("試験手続法第五条第一項", "quote_mismatch")]
    assert answer.text.count("⚠") == 2
    assert answer.raw_text == reply
    assert "試験手続法第十二条 ⚠（条文が見つかりません" in answer.text


async def test_missing_reference_lines_are_added_so_quotes_are_checked() -> None:
    reply = "審査基準は「行政庁は、審査基準を定めなければならない」とされています[1]。"
    answer = await answer_question("q", await retrieved(ProvisionRef(LAW_ID, "5", 1)), ScriptedModel(reply), SOURCE)
    assert "参照条文\n[1] 試験手続法第五条第一項" in answer.text
    assert [c.status for c in answer.citations] == ["quote_mismatch"]


async def test_as_of_reaches_the_verifier() -> None:
    reply = "届出については試験手続法第六条の二に定めがあります[1]。\n\n参照条文\n[1] 試験手続法第六条の二\n"
    provisions = await retrieved(ProvisionRef(LAW_ID, "6_2"))
    answer = await answer_question("q", provisions, ScriptedModel(reply), SOURCE, as_of=date(2021, 1, 1))
    assert {c.status for c in answer.citations} == {"not_in_force"}


def test_unknown_marker_is_marked() -> None:
    assert complete_references("根拠は[3]です。", []) == "根拠は[3] ⚠（資料にない番号です）です。"


async def test_no_sources_no_model_call() -> None:
    model = ScriptedModel("should not be used")
    answer = await answer_question("q", [], model, SOURCE)
    assert answer.text == NO_SOURCES_ANSWER
    assert model.calls == []


@pytest.mark.parametrize("form", REPORT_FORMS)
async def test_answer_records_its_form(form: str) -> None:
    answer = await answer_question(
        "q",
        await retrieved(ProvisionRef(LAW_ID, "1")),
        ScriptedModel("回答です。"),
        SOURCE,
        form=form,  # type: ignore[arg-type]
    )
    assert answer.form == form
    assert answer.citations == []
