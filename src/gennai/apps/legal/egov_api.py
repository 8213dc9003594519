"""An async client for the e-Gov 法令API v2, for deployments that track statutes live.

Only what ingestion needs: the list of laws, a law's revisions, and a law's full text as XML (which
``egov_xml`` parses exactly like a downloaded file). The transport is injectable so tests run
against recorded response shapes without the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Self

import httpx

from gennai.apps.legal.egov_xml import MAX_LAW_XML_BYTES, parse_law_xml
from gennai.apps.legal.model import Law

DEFAULT_BASE_URL = "https://laws.e-gov.go.jp/api/2"


class EgovApiError(RuntimeError):
    """The API answered with an error or with something that is not what the endpoint promises."""


@dataclass(frozen=True)
class RevisionSummary:
    """One law revision as the API lists it."""

    law_id: str
    law_num: str
    law_type: str
    revision_id: str
    title: str
    abbreviations: tuple[str, ...]
    in_force_from: date | None
    amend_law_id: str | None
    status: str  # current_revision_status: CurrentEnforced, PreviousEnforced, UnEnforced, ...


class EgovLawClient:
    """``async with EgovLawClient() as api: law = await api.fetch_law("405AC0000000088")``."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_laws(self, **filters: str | int) -> list[RevisionSummary]:
        """``/laws`` with its query filters (law_title, law_type, asof, limit, offset, ...)."""
        data = await self._json("/laws", filters)
        return [_summary(entry.get("law_info"), entry.get("revision_info")) for entry in data.get("laws", [])]

    async def law_revisions(self, law_id: str) -> list[RevisionSummary]:
        """``/law_revisions/{law_id}``: every revision of a law, newest first as the API lists them."""
        data = await self._json(f"/law_revisions/{law_id}", {})
        return [_summary(data["law_info"], revision) for revision in data.get("revisions", [])]

    async def law_data_xml(self, law_or_revision_id: str, *, as_of: date | None = None) -> bytes:
        """``/law_data/{id}`` as the XML ``<law_data_response>`` body."""
        params: dict[str, str] = {"response_format": "xml"}
        if as_of is not None:
            params["asof"] = as_of.isoformat()
        response = await self._get(f"/law_data/{law_or_revision_id}", params)
        if len(response.content) > MAX_LAW_XML_BYTES:
            raise EgovApiError(f"law_data response too large: {len(response.content)} bytes")
        return response.content

    async def fetch_law(self, law_or_revision_id: str, *, as_of: date | None = None) -> Law:
        """A parsed ``Law`` (raises ``LawParseError`` when the body is not law XML)."""
        return parse_law_xml(await self.law_data_xml(law_or_revision_id, as_of=as_of))

    async def _get(self, path: str, params: Mapping[str, str | int]) -> httpx.Response:
        try:
            response = await self._http.get(path, params=dict(params))
        except httpx.HTTPError as error:
            raise EgovApiError(f"e-Gov API unreachable: {type(error).__name__}: {error}") from error
        if response.status_code != 200:
            raise EgovApiError(f"e-Gov API {path}: HTTP {response.status_code}: {response.text[:200]}")
        return response

    async def _json(self, path: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        response = await self._get(path, params)
        try:
            data = response.json()
        except ValueError as error:
            raise EgovApiError(f"e-Gov API {path}: not JSON") from error
        if not isinstance(data, dict):
            raise EgovApiError(f"e-Gov API {path}: unexpected body")
        return data


def _summary(info: Mapping[str, Any] | None, revision: Mapping[str, Any] | None) -> RevisionSummary:
    if info is None or revision is None:
        raise EgovApiError("e-Gov API: unexpected entry without law_info or revision_info")
    try:
        enforced = revision.get("amendment_enforcement_date")
        return RevisionSummary(
            law_id=info["law_id"],
            law_num=info.get("law_num") or "",
            law_type=revision.get("law_type") or info.get("law_type") or "",
            revision_id=revision["law_revision_id"],
            title=revision.get("law_title") or "",
            abbreviations=tuple(a for a in (revision.get("abbrev") or "").split(",") if a),
            in_force_from=date.fromisoformat(enforced) if enforced else None,
            amend_law_id=revision.get("amendment_law_id") or None,
            status=revision.get("current_revision_status") or "",
        )
    except (KeyError, TypeError, ValueError) as error:
        raise EgovApiError(f"e-Gov API: unexpected revision entry ({error!r})") from error
