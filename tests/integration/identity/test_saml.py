"""Sign-in through a real SAML 2.0 IdP (pysaml2's, on loopback), over HTTP, on both databases.

Every spoiled response (forged, tampered, unsigned, expired, wrong audience, unsolicited, replayed)
is refused with a clear page, recorded as a security event, and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from tests.conftest import Database, echo_settings
from tests.saml_idp import SamlIdp, running_saml_idp, saml_provider_settings, saml_response_for, saml_sign_in

from gennai.db.models import AuditEvent, User
from gennai.identity.sessions import COOKIE
from gennai.identity.tables import SamlAssertion

from .conftest import another_browser, identity_client
from .test_oidc_flow import assert_alice_and_carol_granted, make_teams, security_events


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdp]:
    with running_saml_idp(tmp_path_factory.mktemp("saml-idp")) as idp:
        yield idp


@pytest.fixture
async def saml_client(database: Database, tmp_path: Path, saml_idp: SamlIdp) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the SAML IdP configured; the IdP learns our SP metadata from the app, as it would."""
    saml_idp.user, saml_idp.mode = "alice", "ok"
    async for client in identity_client(database, tmp_path, [], saml_providers=[saml_provider_settings(saml_idp)]):
        saml_idp.sp_metadata = (await client.get("/auth/saml/digital/metadata")).text
        yield client


def test_a_saml_provider_turns_local_mode_off_and_names_are_unique_across_protocols(saml_idp: SamlIdp, tmp_path):
    saml = saml_provider_settings(saml_idp)
    assert echo_settings("sqlite+aiosqlite://", tmp_path, saml_providers=[saml]).sign_in_required
    assert not echo_settings("sqlite+aiosqlite://", tmp_path).sign_in_required
    oidc = {"name": "digital", "issuer": "http://127.0.0.1:1", "client_id": "x"}
    with pytest.raises(ValidationError, match="unique across both"):
        echo_settings("sqlite+aiosqlite://", tmp_path, saml_providers=[saml], oidc_providers=[oidc])
    with pytest.raises(ValidationError, match="neither XML nor an existing file"):
        echo_settings("sqlite+aiosqlite://", tmp_path, saml_providers=[{**saml, "idp_metadata": "missing.xml"}])


async def test_sp_metadata_names_our_entity_acs_and_certificate(saml_client: httpx.AsyncClient, tmp_path: Path):
    assert (tmp_path / "saml" / "sp-key.pem").stat().st_mode & 0o777 == 0o600  # generated on first start
    response = await saml_client.get("/auth/saml/digital/metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/samlmetadata+xml")
    assert 'entityID="http://gennai.test/auth/saml/digital/metadata"' in response.text
    assert 'Location="http://gennai.test/auth/saml/digital/acs"' in response.text
    assert "X509Certificate" in response.text
    assert (await saml_client.get("/auth/saml/nobody/metadata")).status_code == 404


async def test_sign_in_lands_in_teams_with_roles(saml_client: httpx.AsyncClient, saml_idp: SamlIdp, db_sessions):
    teams = await make_teams(db_sessions)
    login_page = await saml_client.get("/history", follow_redirects=True)
    assert "/auth/saml/digital/login?next=/history" in login_page.text and "デジタル庁 SAML" in login_page.text
    landed = await saml_sign_in(saml_client, "digital", next_path="/history")
    assert landed.status_code == 200 and str(landed.url) == "http://gennai.test/history"
    assert "財務 アリス" in landed.text
    cookie = next(c for c in saml_client.cookies.jar if c.name == COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert (await saml_client.get("/admin/users")).status_code == 200  # gennai-admins → system admin

    saml_idp.user = "carol"
    async with another_browser(saml_client) as other:
        await saml_sign_in(other, "digital")
        await assert_alice_and_carol_granted(db_sessions, other, teams, carol_source="idp:digital")
    async with db_sessions() as session:
        ok = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "auth.login", AuditEvent.outcome == "ok", AuditEvent.target == "digital")
        )
        assert ok == 2


async def assert_nothing_changed(db_sessions) -> None:
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        assert await session.scalar(select(func.count()).select_from(SamlAssertion)) == 0


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("forged", "assertion_signature"),
        ("tampered", "assertion_signature"),
        ("unsigned", "assertion_signature"),
        ("expired", "assertion_expired"),
        ("wrong_audience", "assertion_audience"),
        ("misaddressed", "assertion_recipient"),
        ("unsolicited", "unsolicited_response"),
    ],
)
async def test_spoiled_responses_are_refused_recorded_and_change_nothing(
    saml_client: httpx.AsyncClient,
    saml_idp: SamlIdp,
    db_sessions,
    mode: str,
    reason: str,
):
    saml_idp.mode = mode  # type: ignore[assignment]
    refused = await saml_sign_in(saml_client, "digital")
    assert refused.status_code == 400, refused.text[:500]
    assert str(refused.url).endswith("/auth/saml/digital/acs") and "SAML" in refused.text
    assert not any(c.name == COOKIE for c in saml_client.cookies.jar)
    assert [event.detail["reason"] for event in await security_events(db_sessions)] == [reason]
    await assert_nothing_changed(db_sessions)


async def test_a_replayed_response_is_refused(saml_client: httpx.AsyncClient, db_sessions):
    acs, captured = await saml_response_for(saml_client, "digital")
    assert (await saml_client.post(acs, data={"SAMLResponse": captured})).status_code == 303
    async with another_browser(saml_client) as attacker:
        replayed = await attacker.post(acs, data={"SAMLResponse": captured})
        assert replayed.status_code == 400 and not any(c.name == COOKIE for c in attacker.cookies.jar)
    assert [event.detail["reason"] for event in await security_events(db_sessions)] == ["replayed_assertion"]
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SamlAssertion)) == 1


async def test_garbage_and_empty_posts_are_refused(saml_client: httpx.AsyncClient, db_sessions):
    for body in ({}, {"SAMLResponse": "bm90IHhtbA=="}, {"SAMLResponse": "%%%"}):
        assert (await saml_client.post("/auth/saml/digital/acs", data=body)).status_code == 400
    assert {event.detail["reason"] for event in await security_events(db_sessions)} == {"assertion_invalid"}
    await assert_nothing_changed(db_sessions)


async def test_a_response_signed_only_on_the_outside_is_accepted(saml_client: httpx.AsyncClient, saml_idp: SamlIdp):
    saml_idp.mode = "response_signed"
    landed = await saml_sign_in(saml_client, "digital", next_path="/keys")
    assert landed.status_code == 200 and str(landed.url).endswith("/keys")


async def test_refused_by_the_mapping_or_the_user_state_the_assertion_stays_unused(
    database: Database,
    tmp_path: Path,
    saml_idp: SamlIdp,
    db_sessions,
):
    """The allow-list and deactivation are the same code as for OIDC, and a refusal records nothing."""
    provider = saml_provider_settings(saml_idp, allowed_domains=["mof.example.go.jp"])
    async for client in identity_client(database, tmp_path, [], saml_providers=[provider]):
        saml_idp.sp_metadata = (await client.get("/auth/saml/digital/metadata")).text
        saml_idp.user, saml_idp.mode = "mallory", "ok"
        assert (await saml_sign_in(client, "digital")).status_code == 403
        saml_idp.user = "bob"
        assert (await saml_sign_in(client, "digital")).status_code == 200
        services = client.app.state.services  # type: ignore[attr-defined]
        async with db_sessions() as session:
            bob = await session.scalar(select(User).where(User.email == "bob@mof.example.go.jp"))
        await services.identity.set_active(services.sessions, bob.id, False, actor_id=None, via="test")
        acs, response = await saml_response_for(client, "digital")
        assert (await client.post(acs, data={"SAMLResponse": response})).status_code == 403
    assert [event.detail["reason"] for event in await security_events(db_sessions)] == [
        "domain_not_allowed",
        "user_deactivated",
    ]
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SamlAssertion)) == 1  # bob's first sign-in
        assert await session.scalar(select(func.count()).select_from(User)) == 1
