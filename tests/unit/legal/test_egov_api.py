"""The e-Gov 法令API v2 client against recorded response shapes (httpx.MockTransport)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from gennai.apps.legal.egov_api import EgovApiError, EgovLawClient
from gennai.apps.legal.egov_xml import LawParseError

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "egov-api-samples"
LAW_XML = Path(__file__).resolve().parents[3] / "src/gennai/apps/legal/sample/full/322AC0000000049.xml"

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="egov-api-samples not present")


def client(handler) -> EgovLawClient:  # type: ignore[no-untyped-def]
    return EgovLawClient("https://laws.example/api/2", transport=httpx.MockTransport(handler))


@needs_samples
async def test_list_laws() -> None:
    body = (SAMPLES / "v2_法令一覧取得API.json").read_text("utf-8")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/2/laws" and request.url.params["law_title"] == "地方自治法施行令"
        return httpx.Response(200, text=body, headers={"content-type": "application/json"})

    async with client(handler) as api:
        laws = await api.list_laws(law_title="地方自治法施行令")
    assert laws[0].law_id == "322CO0000000016"
    assert laws[0].revision_id == "322CO0000000016_20240401_506CO0000000161"
    assert laws[0].in_force_from == date(2024, 4, 1) and laws[0].abbreviations == ("地自法施行令",)
    assert laws[0].status == "CurrentEnforced"


@needs_samples
async def test_law_revisions() -> None:
    body = (SAMPLES / "v2_法令履歴一覧取得API.json").read_text("utf-8")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/2/law_revisions/503AC0000000036"
        return httpx.Response(200, text=body)

    async with client(handler) as api:
        revisions = await api.law_revisions("503AC0000000036")
    assert [r.title for r in revisions] == ["デジタル庁設置法"]
    assert revisions[0].amend_law_id == "506AC0000000046"


async def test_law_data_as_xml_with_asof_is_parsed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/2/law_data/322AC0000000049"
        assert request.url.params["response_format"] == "xml" and request.url.params["asof"] == "2025-07-01"
        return httpx.Response(200, content=LAW_XML.read_bytes())

    async with client(handler) as api:
        law = await api.fetch_law("322AC0000000049", as_of=date(2025, 7, 1))
    assert law.title == "労働基準法" and law.in_force_from == date(2025, 6, 1)


@needs_samples
async def test_a_v1_error_body_is_not_taken_for_a_law() -> None:
    body = (SAMPLES / "v1_lawdata_error_code1.xml").read_bytes()
    async with client(lambda request: httpx.Response(200, content=body)) as api:
        with pytest.raises(LawParseError, match="not e-Gov law XML"):
            await api.fetch_law("637593")


async def test_http_errors_and_bad_bodies_raise_egov_api_error() -> None:
    async with client(lambda request: httpx.Response(404, json={"code": "404"})) as api:
        with pytest.raises(EgovApiError, match="HTTP 404"):
            await api.law_revisions("000")
    async with client(lambda request: httpx.Response(200, text="<html>")) as api:
        with pytest.raises(EgovApiError, match="not JSON"):
            await api.list_laws()
    async with client(lambda request: httpx.Response(200, text=json.dumps({"laws": [{"law_info": {}}]}))) as api:
        with pytest.raises(EgovApiError, match="unexpected"):
            await api.list_laws()

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route")

    async with client(unreachable) as api:
        with pytest.raises(EgovApiError, match="unreachable"):
            await api.list_laws()
