"""SCIM 2.0 provisioning as a directory drives it: create, find, update, deactivate; bad input refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import Database

from gennai.db.engine import transaction
from gennai.db.models import AuditEvent, User
from gennai.identity.apikeys import create_key
from gennai.identity.sessions import COOKIE

from .conftest import SCIM_TOKEN, identity_client

AUTH = {"Authorization": f"Bearer {SCIM_TOKEN}"}
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
async def scim(database: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    provider = {"name": "ministry", "issuer": "http://127.0.0.1:9", "client_id": "gennai"}
    async for client in identity_client(database, tmp_path, [provider]):
        client.headers.update(AUTH)
        yield client


async def test_directory_creates_updates_and_deactivates_users(scim: httpx.AsyncClient, db_sessions):
    created = await scim.post(
        "/scim/v2/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "Hanako.Sato@MOF.example.go.jp",
            "name": {"familyName": "佐藤", "givenName": "花子"},
            "externalId": "e-1",
            "active": True,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"organization": "mof"},
        },
    )
    assert created.status_code == 201 and created.headers["content-type"].startswith("application/scim+json")
    user = created.json()
    assert user["userName"] == "hanako.sato@mof.example.go.jp" and user["displayName"] == "佐藤 花子"

    found = (await scim.get("/scim/v2/Users", params={"filter": 'userName eq "hanako.sato@mof.example.go.jp"'})).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"]

    async with transaction(db_sessions) as session:
        _, key = await create_key(session, await session.get(User, uuid.UUID(user["id"])))
    store = scim.app.state.services.identity.store  # type: ignore[attr-defined]
    token = await store.create(uuid.UUID(user["id"]), "ministry", None)

    patched = await scim.patch(
        f"/scim/v2/Users/{user['id']}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "佐藤 花"},
                {"op": "Replace", "path": "active", "value": "False"},
            ],
        },
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    # Access ends at once: the session and the API key stop working.
    assert await store.get(token) is None
    scim.cookies.set(COOKIE, token)
    assert (await scim.get("/keys")).status_code in (303, 401)
    models = await scim.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert models.status_code == 401

    assert (await scim.delete(f"/scim/v2/Users/{user['id']}")).status_code == 204
    assert (await scim.get(f"/scim/v2/Users/{user['id']}")).json()["active"] is False


async def test_groups_are_teams_with_members(scim: httpx.AsyncClient):
    user = (await scim.post("/scim/v2/Users", json={"userName": "taro@mof.example.go.jp"})).json()
    group = await scim.post("/scim/v2/Groups", json={"displayName": "主計局", "externalId": "mof-shukei"})
    assert group.status_code == 201
    group_id = group.json()["id"]
    added = await scim.patch(
        f"/scim/v2/Groups/{group_id}",
        json={"Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}]},
    )
    assert [m["display"] for m in added.json()["members"]] == ["taro@mof.example.go.jp"]
    removed = await scim.patch(
        f"/scim/v2/Groups/{group_id}",
        json={"Operations": [{"op": "remove", "path": f'members[value eq "{user["id"]}"]'}]},
    )
    assert removed.json()["members"] == []
    listed = (await scim.get("/scim/v2/Groups", params={"filter": 'externalId eq "mof-shukei"'})).json()
    assert listed["totalResults"] == 1


async def test_paging_uses_start_index_and_count(scim: httpx.AsyncClient):
    for number in range(5):
        await scim.post("/scim/v2/Users", json={"userName": f"u{number}@example.go.jp"})
    page = (await scim.get("/scim/v2/Users", params={"startIndex": 3, "count": 2})).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 3
    assert [r["userName"] for r in page["Resources"]] == ["u2@example.go.jp", "u3@example.go.jp"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "scim_type"),
    [
        ("POST", "/scim/v2/Users", "not json", 400, "invalidSyntax"),
        ("POST", "/scim/v2/Users", {"displayName": "no userName"}, 400, "invalidValue"),
        ("POST", "/scim/v2/Users", {"userName": "not-an-email"}, 400, "invalidValue"),
        ("POST", "/scim/v2/Users", {"userName": "dup@example.go.jp"}, 409, "uniqueness"),
        ("GET", "/scim/v2/Users?filter=userName%20co%20%22x%22", None, 400, "invalidFilter"),
        (
            "PATCH",
            "/scim/v2/Users/{id}",
            {"Operations": [{"op": "replace", "path": "roles", "value": 1}]},
            400,
            "invalidPath",
        ),
        (
            "PATCH",
            "/scim/v2/Users/{id}",
            {"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]},
            400,
            "invalidValue",
        ),
        ("GET", "/scim/v2/Users/00000000-0000-4000-8000-000000000000", None, 404, None),
    ],
)
async def test_bad_input_is_refused_with_scim_errors_and_changes_nothing(
    scim: httpx.AsyncClient, db_sessions, method, path, body, status, scim_type
):
    existing = (await scim.post("/scim/v2/Users", json={"userName": "dup@example.go.jp"})).json()
    content = body if isinstance(body, str) else None
    response = await scim.request(
        method, path.replace("{id}", existing["id"]), content=content, json=body if not isinstance(body, str) else None
    )
    assert response.status_code == status
    error = response.json()
    assert error["schemas"] == [ERROR] and error["status"] == str(status) and error.get("scimType") == scim_type
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert (await session.get(User, uuid.UUID(existing["id"]))).is_active
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "scim.refused")
            )
            == 1
        )


async def test_wrong_token_is_refused(scim: httpx.AsyncClient):
    response = await scim.get("/scim/v2/Users", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json()["schemas"] == [ERROR]
