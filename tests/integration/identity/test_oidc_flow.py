"""Sign-in through two real OpenID providers (oidc-provider on loopback), over HTTP, on both databases."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from tests.identity_idp import Idp, provider_settings, sign_in

from gennai.db.engine import transaction
from gennai.db.models import AuditEvent, User
from gennai.identity.oidc import LoginError
from gennai.identity.sessions import COOKIE
from gennai.identity.tables import Membership, Organisation
from gennai.identity.teams import create_team

from .conftest import another_browser, identity_client


async def make_teams(db_sessions) -> dict[str, uuid.UUID]:
    async with transaction(db_sessions) as session:
        teams = [await create_team(session, code, code, admin_id=None) for code in ("mof-budget", "mhlw-policy")]
    return {team.code: team.id for team in teams}


async def security_events(db_sessions) -> list[AuditEvent]:
    async with db_sessions() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "auth.login", AuditEvent.outcome != "ok")
                )
            ).all()
        )


async def test_sign_in_through_either_provider_lands_in_teams_with_roles(oidc_client: httpx.AsyncClient, db_sessions):
    teams = await make_teams(db_sessions)
    login_page = await oidc_client.get("/history", follow_redirects=True)
    assert login_page.status_code == 200 and "/auth/login/mhlw?next=/history" in login_page.text
    landed = await sign_in(oidc_client, "mof", "alice", next_path="/history")
    assert landed.status_code == 200 and str(landed.url) == "http://gennai.test/history"
    cookie = next(c for c in oidc_client.cookies.jar if c.name == COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
    assert "財務 アリス" in landed.text

    async with another_browser(oidc_client) as other:
        await sign_in(other, "mhlw", "carol")
        await assert_alice_and_carol_granted(db_sessions, other, teams, carol_source="idp:mhlw")
    assert (await oidc_client.get("/admin/users")).status_code == 200


async def assert_alice_and_carol_granted(
    db_sessions, carol_browser: httpx.AsyncClient, teams: dict[str, uuid.UUID], carol_source: str
) -> None:
    """Alice (system admin, admin of mof-budget) and Carol (auditor, in mhlw-policy) got what their groups grant."""
    assert (await carol_browser.get("/admin/audit")).status_code == 200  # carol is an auditor via her groups
    assert (await carol_browser.get("/admin/users")).status_code == 403
    async with db_sessions() as session:
        alice = await session.scalar(select(User).where(User.email == "alice@mof.example.go.jp"))
        carol = await session.scalar(select(User).where(User.email == "carol@mhlw.example.go.jp"))
        assert alice.role == "system_admin" and carol.role == "auditor"
        assert alice.last_login_at is not None
        assert (await session.get(Organisation, alice.organisation_id)).code == "mof"
        memberships = {(m.team_id, m.user_id): m for m in (await session.scalars(select(Membership))).all()}
        assert memberships[(teams["mof-budget"], alice.id)].role == "admin"
        assert memberships[(teams["mhlw-policy"], carol.id)].source == carol_source


async def test_signing_keys_rotated_mid_test_keep_working(oidc_client: httpx.AsyncClient, idps: dict[str, Idp]):
    await sign_in(oidc_client, "mof", "bob")
    old_kid = idps["mof"].private_keys()["keys"][0]["kid"]
    new_kid = idps["mof"].rotate_keys()
    assert new_kid != old_kid
    oidc_client.cookies.clear()
    landed = await sign_in(oidc_client, "mof", "bob", next_path="/keys")
    assert landed.status_code == 200 and str(landed.url).endswith("/keys")


async def test_replayed_and_mismatched_callbacks_are_refused_and_recorded(oidc_client: httpx.AsyncClient, db_sessions):
    start = await oidc_client.get("/auth/login/mof", follow_redirects=True)
    form_action = httpx.URL(str(start.url)).join(start.text.split('action="')[1].split('"')[0])
    callback_url = None
    response = await oidc_client.post(form_action, data={"login": "bob"})
    while response.is_redirect:
        location = httpx.URL(str(response.url)).join(response.headers["location"])
        if "/auth/callback/" in str(location):
            callback_url = location
            break
        response = await oidc_client.get(location)
    assert callback_url is not None
    saved = list(oidc_client.cookies.jar)
    assert (await oidc_client.get(callback_url)).status_code == 303  # signed in
    oidc_client.cookies.clear()
    for cookie in saved:
        oidc_client.cookies.jar.set_cookie(cookie)
    replayed = await oidc_client.get(callback_url)  # same state and code, cookies as before the first use
    assert replayed.status_code == 400 and "もう一度サインイン" in replayed.text
    bogus = await oidc_client.get("/auth/callback/mof", params={"code": "x", "state": "not-a-state"})
    assert bogus.status_code == 400
    reasons = [e.detail["reason"] for e in await security_events(db_sessions)]
    assert reasons == ["token_exchange_failed", "state_mismatch"]


@pytest.mark.parametrize("kid", ["forged", "the provider's"])
async def test_forged_token_is_refused_through_the_callback(
    oidc_client: httpx.AsyncClient, db_sessions, monkeypatch, idps, kid
):
    kid = idps["mof"].private_keys()["keys"][0]["kid"] if kid == "the provider's" else kid
    forger = RSAKey.generate_key(2048, parameters={"kid": kid})
    claims = {
        "iss": idps["mof"].issuer,
        "aud": "gennai-mof",
        "sub": "alice",
        "exp": int(time.time()) + 300,
        "iat": int(time.time()),
    }
    forged = jwt.encode({"alg": "RS256", "kid": kid}, claims, forger)

    async def fake_fetch_token(self, *args, **kwargs):
        return {"access_token": "a", "token_type": "Bearer", "id_token": forged}

    monkeypatch.setattr("gennai.identity.oidc.AsyncOAuth2Client.fetch_token", fake_fetch_token)
    start = await oidc_client.get("/auth/login/mof", follow_redirects=True)
    form_action = httpx.URL(str(start.url)).join(start.text.split('action="')[1].split('"')[0])
    landed = await oidc_client.post(form_action, data={"login": "alice"}, follow_redirects=True)
    assert landed.status_code == 400 and "署名" in landed.text
    assert COOKIE not in oidc_client.cookies
    assert [e.detail["reason"] for e in await security_events(db_sessions)] == ["invalid_signature"]
    async with db_sessions() as session:
        assert (await session.scalars(select(User))).all() == []


def _signed(idp: Idp, **claims) -> str:
    keys = KeySet.import_key_set(idp.private_keys())
    key = keys.keys[0]
    now = int(time.time())
    body = {
        "iss": idp.issuer,
        "aud": f"gennai-{idp.name}",
        "sub": "alice",
        "exp": now + 300,
        "iat": now,
        "nonce": "n-1",
        "auth_time": now,
        **claims,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "token_expired"),
        ({"aud": "someone-else"}, "wrong_audience"),
        ({"iss": "http://127.0.0.1:1"}, "wrong_issuer"),
        ({"nonce": "another"}, "nonce_mismatch"),
        ({"auth_time": int(time.time()) - 30 * 86400}, "reauthentication_required"),
    ],
)
async def test_tokens_signed_by_the_provider_but_wrong_are_refused(oidc_client, idps, claims, reason):
    client = oidc_client.app.state.services.identity.oidc.get("mof")
    token = _signed(idps["mof"], **claims)
    with pytest.raises(LoginError) as refused:
        await client.verify_id_token(token, "n-1", max_age=7 * 86400)
    assert refused.value.code == reason
    assert await client.verify_id_token(_signed(idps["mof"]), "n-1", max_age=7 * 86400)


async def test_logout_ends_the_session_here_and_at_the_provider(oidc_client: httpx.AsyncClient, idps):
    await sign_in(oidc_client, "mof", "bob")
    page = await oidc_client.get("/")
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    out = await oidc_client.post("/auth/logout", data={"csrf_token": token})
    assert out.status_code == 303
    location = httpx.URL(out.headers["location"])
    assert str(location).startswith(idps["mof"].issuer + "/session/end")
    assert location.params["id_token_hint"] and location.params["post_logout_redirect_uri"].endswith("/auth/logged-out")
    after = await oidc_client.get("/")
    assert after.status_code == 303 and after.headers["location"].startswith("/auth/login")


async def test_disallowed_domain_and_deactivated_user_cannot_sign_in(oidc_client: httpx.AsyncClient, db_sessions):
    refused = await sign_in(oidc_client, "mof", "mallory")
    assert refused.status_code == 403
    oidc_client.cookies.clear()  # another person at the same desk
    await sign_in(oidc_client, "mof", "bob")
    assert (await oidc_client.get("/keys")).status_code == 200
    async with db_sessions() as session:
        bob = await session.scalar(select(User).where(User.email == "bob@mof.example.go.jp"))
    await oidc_client.app.state.services.identity.set_active(db_sessions, bob.id, False, None, via="test")
    assert (await oidc_client.get("/keys")).status_code == 303  # the session stopped at once
    again = await oidc_client.get("/auth/login/mof", follow_redirects=True)  # still signed in at the IdP
    assert again.status_code == 403 and "無効化" in again.text
    reasons = [e.detail["reason"] for e in await security_events(db_sessions)]
    assert reasons == ["domain_not_allowed", "user_deactivated"]


async def test_provider_that_is_down_gives_a_clear_error(database, tmp_path, idps, db_sessions):
    down = provider_settings(idps["mof"], name="down", issuer="http://127.0.0.1:9")
    async for client in identity_client(database, tmp_path, [down]):
        response = await client.get("/auth/login/down")
        assert response.status_code == 502 and "認証基盤に接続できません" in response.text
    assert [e.detail["reason"] for e in await security_events(db_sessions)] == ["idp_unavailable"]
