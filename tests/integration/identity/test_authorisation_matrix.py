"""Every route of the app, with every role and anonymously, against one table of allowed principals.

A route added without an entry here fails the suite: its authorisation must be decided on purpose.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from tests.conftest import Database

from gennai.db.engine import transaction
from gennai.db.models import Conversation, User
from gennai.identity.apikeys import create_key
from gennai.identity.sessions import COOKIE
from gennai.identity.teams import create_team, set_member

from .conftest import BROWSER, SCIM_TOKEN, identity_client

ANONYMOUS, USER, TEAM_ADMIN, AUDITOR, SYSTEM_ADMIN, SCIM = (
    "anonymous",
    "user",
    "team_admin",
    "auditor",
    "system_admin",
    "scim",
)
PRINCIPALS = (ANONYMOUS, USER, TEAM_ADMIN, AUDITOR, SYSTEM_ADMIN, SCIM)
EVERYONE = frozenset(PRINCIPALS)
SIGNED_IN = frozenset({USER, TEAM_ADMIN, AUDITOR, SYSTEM_ADMIN})
ADMINS = frozenset({SYSTEM_ADMIN})

ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("MOUNT", "/static"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/api/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/lang/{language}"): EVERYONE,
    ("GET", "/auth/login"): EVERYONE,
    ("GET", "/auth/login/{provider}"): EVERYONE,
    ("GET", "/auth/callback/{provider}"): EVERYONE,
    ("GET", "/auth/logged-out"): EVERYONE,
    ("GET", "/auth/saml/{provider}/metadata"): EVERYONE,
    ("GET", "/auth/saml/{provider}/login"): EVERYONE,
    ("POST", "/auth/saml/{provider}/acs"): EVERYONE,  # the IdP's cross-site POST: the signed assertion decides
    ("POST", "/auth/logout"): SIGNED_IN,
    ("GET", "/"): SIGNED_IN,
    ("GET", "/c/{conversation_id}"): SIGNED_IN,
    ("GET", "/history"): SIGNED_IN,
    ("POST", "/chat/messages"): SIGNED_IN,
    ("POST", "/chat/{conversation_id}/retry"): SIGNED_IN,
    ("POST", "/history/{conversation_id}/rename"): SIGNED_IN,
    ("POST", "/history/{conversation_id}/delete"): SIGNED_IN,
    ("GET", "/v1/models"): SIGNED_IN,
    ("POST", "/v1/chat/completions"): SIGNED_IN,
    ("POST", "/v1/embeddings"): SIGNED_IN,
    ("GET", "/api/legal/search"): SIGNED_IN,
    ("POST", "/api/legal/verify"): SIGNED_IN,
    ("POST", "/api/legal/ask"): SIGNED_IN,
    ("GET", "/legal"): SIGNED_IN,
    ("GET", "/legal/laws/{law_id}/articles/{article}"): SIGNED_IN,
    ("GET", "/keys"): SIGNED_IN,
    ("POST", "/keys"): SIGNED_IN,
    ("POST", "/keys/{key_id}/revoke"): SIGNED_IN,
    ("GET", "/admin/users"): ADMINS,
    ("POST", "/admin/users/{user_id}/active"): ADMINS,
    ("POST", "/admin/users/{user_id}/role"): ADMINS,
    ("GET", "/admin/teams"): frozenset({TEAM_ADMIN, SYSTEM_ADMIN}),
    ("POST", "/admin/teams"): ADMINS,
    ("GET", "/admin/teams/{team_id}"): frozenset({TEAM_ADMIN, SYSTEM_ADMIN}),
    ("POST", "/admin/teams/{team_id}/members"): frozenset({TEAM_ADMIN, SYSTEM_ADMIN}),
    ("POST", "/admin/teams/{team_id}/members/{user_id}/role"): frozenset({TEAM_ADMIN, SYSTEM_ADMIN}),
    ("POST", "/admin/teams/{team_id}/members/{user_id}/remove"): frozenset({TEAM_ADMIN, SYSTEM_ADMIN}),
    ("GET", "/admin/organisations"): ADMINS,
    ("POST", "/admin/organisations"): ADMINS,
    ("GET", "/admin/keys"): ADMINS,
    ("POST", "/admin/keys/{key_id}/revoke"): ADMINS,
    ("GET", "/admin/audit"): frozenset({AUDITOR, SYSTEM_ADMIN}),
    ("GET", "/scim/v2/Users"): frozenset({SCIM}),
    ("POST", "/scim/v2/Users"): frozenset({SCIM}),
    ("GET", "/scim/v2/Users/{user_id}"): frozenset({SCIM}),
    ("PUT", "/scim/v2/Users/{user_id}"): frozenset({SCIM}),
    ("PATCH", "/scim/v2/Users/{user_id}"): frozenset({SCIM}),
    ("DELETE", "/scim/v2/Users/{user_id}"): frozenset({SCIM}),
    ("GET", "/scim/v2/Groups"): frozenset({SCIM}),
    ("POST", "/scim/v2/Groups"): frozenset({SCIM}),
    ("GET", "/scim/v2/Groups/{group_id}"): frozenset({SCIM}),
    ("PATCH", "/scim/v2/Groups/{group_id}"): frozenset({SCIM}),
}
UNREACHABLE_IDP = {"name": "ministry", "issuer": "http://127.0.0.1:9", "client_id": "gennai"}


def app_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) the app answers, included routers flattened."""
    found = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            found.append(("MOUNT", context.path))
        else:
            found.extend((method, context.path) for method in sorted(context.methods or ()) if method != "HEAD")
    return found


@dataclass
class World:
    client: httpx.AsyncClient
    sessions: dict[str, str]
    keys: dict[str, str]
    ids: dict[str, str]


@pytest.fixture
async def world(database: Database, tmp_path: Path, db_sessions) -> AsyncIterator[World]:
    async for client in identity_client(database, tmp_path, [UNREACHABLE_IDP]):
        async with transaction(db_sessions) as session:
            people = {
                role: User(
                    email=f"{role}@example.go.jp",
                    display_name=role,
                    role=role if role in (AUDITOR, SYSTEM_ADMIN) else "user",
                )
                for role in (USER, TEAM_ADMIN, AUDITOR, SYSTEM_ADMIN, "victim")
            }
            session.add_all(people.values())
            await session.flush()
            team = await create_team(session, "matrix", "Matrix", people[TEAM_ADMIN].id)
            await set_member(session, team.id, people["victim"].id, "member")
            keys = {role: (await create_key(session, people[role]))[1] for role in SIGNED_IN}
            victim_key, _ = await create_key(session, people["victim"])
            conversation = Conversation(user_id=people[USER].id, title="t", model="echo")
            session.add(conversation)
        store = client.app.state.services.identity.store  # type: ignore[attr-defined]
        sessions = {role: await store.create(people[role].id, "ministry", None) for role in SIGNED_IN}
        ids = {
            "team_id": str(team.id),
            "user_id": str(people["victim"].id),
            "key_id": str(victim_key.id),
            "conversation_id": str(conversation.id),
            "group_id": str(team.id),
            "provider": "ministry",
            "language": "en",
            "law_id": "none",
            "article": "1",
        }
        yield World(client, sessions, keys, ids)


async def attempt(world: World, principal: str, method: str, path: str) -> httpx.Response:
    client = world.client
    client.cookies.clear()
    headers = dict(BROWSER)
    if principal in world.sessions:
        client.cookies.set(COOKIE, world.sessions[principal])
        headers["Authorization"] = f"Bearer {world.keys[principal]}"
    elif principal == SCIM:
        headers["Authorization"] = f"Bearer {SCIM_TOKEN}"
    if method != "GET":
        page = await client.get("/auth/login" if principal not in world.sessions else "/keys", headers=headers)
        headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    url = re.sub(r"\{(\w+)\}", lambda m: world.ids[m.group(1)], path)
    if method == "MOUNT":
        return await client.get(url + "/app.css", headers=headers)
    return await client.request(method, url, headers=headers, json={} if method != "GET" else None)


def denied(response: httpx.Response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers["location"].startswith("/auth/login")


async def test_every_route_decides_for_every_principal(world: World):
    routes = app_routes(world.client.app)  # type: ignore[attr-defined]
    undecided = sorted(set(routes) - set(ALLOWED))
    assert not undecided, f"routes without an authorisation decision in this table: {undecided}"
    gone = set(ALLOWED) - set(routes)
    assert not gone, f"table entries for routes that no longer exist: {gone}"
    wrong = []
    # Signing out ends the session the later rows rely on: it goes last.
    for method, path in sorted(routes, key=lambda r: r == ("POST", "/auth/logout")):
        for principal in PRINCIPALS:
            response = await attempt(world, principal, method, path)
            if denied(response) == (principal in ALLOWED[(method, path)]):
                wrong.append(f"{method} {path} as {principal}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


async def test_no_one_reaches_another_users_data_by_guessing_ids(world: World, database, tmp_path):
    other_team_id = uuid.uuid4()
    response = await attempt(world, TEAM_ADMIN, "GET", f"/admin/teams/{other_team_id}")
    assert response.status_code == 403  # a team admin runs only their own team
    conversation = world.ids["conversation_id"]
    for principal in (TEAM_ADMIN, SYSTEM_ADMIN):
        assert (await attempt(world, principal, "GET", f"/c/{conversation}")).status_code == 404
    revoke = await attempt(world, USER, "POST", f"/keys/{world.ids['key_id']}/revoke")
    assert revoke.status_code == 303
    keys_page = await attempt(world, SYSTEM_ADMIN, "GET", "/admin/keys")
    assert "keys.revoked" not in keys_page.text and keys_page.text.count("失効済み") == 0
