"""A team that has an admin keeps one, whoever tries to remove or demote the last."""

from __future__ import annotations

import pytest

from gennai.db.engine import transaction
from gennai.db.models import User
from gennai.identity.tables import COMMON_TEAM_ID, Membership, Team
from gennai.identity.teams import LastAdminError, create_team, remove_member, set_member


async def test_last_admin_cannot_be_removed_or_demoted(db_sessions):
    async with transaction(db_sessions) as session:
        first, second = User(email="first@example.go.jp"), User(email="second@example.go.jp")
        session.add_all([first, second])
        await session.flush()
        team = await create_team(session, "t", "T", first.id)
    for change in (lambda s: remove_member(s, team.id, first.id), lambda s: set_member(s, team.id, first.id, "member")):
        with pytest.raises(LastAdminError):
            async with transaction(db_sessions) as session:
                await change(session)
    async with transaction(db_sessions) as session:
        await set_member(session, team.id, second.id, "admin")
        await set_member(session, team.id, first.id, "member")  # another admin exists now
        assert await remove_member(session, team.id, first.id)
    async with db_sessions() as session:
        assert (await session.get(Membership, (team.id, second.id))).role == "admin"


async def test_common_team_exists_with_the_contract_id(app_client):
    async with app_client.app.state.services.sessions() as session:  # type: ignore[attr-defined]
        assert (await session.get(Team, COMMON_TEAM_ID)).code == "common"
