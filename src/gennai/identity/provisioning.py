"""From a verified sign-in (OIDC or SAML) to a user: claim mapping, the allow-list, teams and roles from groups.

The identity provider is authoritative for what it granted: memberships it gave (source
``idp:<name>``) follow its groups at every sign-in, memberships given by an administrator or a
directory are left alone, and a last team admin is never removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.config import IdentityProvider
from gennai.db.base import utcnow
from gennai.db.models import User
from gennai.identity.oidc import LoginError
from gennai.identity.tables import Membership, Organisation, Team, UserIdentity
from gennai.identity.teams import LastAdminError, remove_member, set_member
from gennai.identity.users import normalise_email

ROLE_RANK = {"user": 0, "auditor": 1, "system_admin": 2}


@dataclass
class MappedIdentity:
    """The claims gennai uses, under their own names whatever the provider calls them."""

    subject: str
    email: str
    name: str
    organisation: str | None
    groups: list[str]


def map_claims(provider: IdentityProvider, claims: dict[str, Any]) -> MappedIdentity:
    """The one mapping for every protocol: OIDC ID-token claims and SAML attributes arrive here alike."""
    names = provider.claims
    subject = claims.get(names.subject)
    if not isinstance(subject, str) or not subject:
        raise LoginError("missing_claim", f"claim {names.subject!r} (subject) is missing")
    try:
        email = normalise_email(str(claims.get(names.email) or ""))
    except ValueError as error:
        raise LoginError("missing_claim", f"claim {names.email!r} is not an e-mail address") from error
    if provider.allowed_domains and email.rsplit("@", 1)[1] not in provider.allowed_domains:
        raise LoginError("domain_not_allowed", f"e-mail domain of {email} is not allowed", 403)
    groups = claims.get(names.groups) or []
    if isinstance(groups, str):
        groups = [groups]
    organisation = claims.get(names.organisation)
    return MappedIdentity(
        subject=subject,
        email=email,
        name=str(claims.get(names.name) or ""),
        organisation=str(organisation) if organisation else None,
        groups=[str(g) for g in groups if isinstance(g, str | int)],
    )


async def _organisation(session: AsyncSession, code: str) -> Organisation:
    organisation = await session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        organisation = Organisation(code=code, name=code)
        session.add(organisation)
        await session.flush()
    return organisation


async def _user_for(session: AsyncSession, provider: str, identity: MappedIdentity) -> User:
    """The user this subject signed in as before, else the one with this e-mail, else a new one."""
    link = await session.get(UserIdentity, (provider, identity.subject))
    user = await session.get(User, link.user_id) if link is not None else None
    if user is None:
        user = await session.scalar(select(User).where(User.email == identity.email))
    if user is None:
        user = User(email=identity.email, display_name=identity.name or identity.email.split("@")[0])
        session.add(user)
        await session.flush()
    if link is None:
        session.add(UserIdentity(provider=provider, subject=identity.subject, user_id=user.id))
    return user


async def sign_in_user(session: AsyncSession, provider: IdentityProvider, identity: MappedIdentity) -> User:
    """Create or update the user behind a verified sign-in; refuses deactivated users."""
    user = await _user_for(session, provider.name, identity)
    if not user.is_active:
        raise LoginError("user_deactivated", f"{user.email} is deactivated", 403)
    if identity.name:
        user.display_name = identity.name
    if identity.organisation:
        user.organisation_id = (await _organisation(session, identity.organisation)).id
    user.last_login_at = utcnow()
    await _apply_groups(session, provider, user, set(identity.groups))
    return user


async def _apply_groups(session: AsyncSession, provider: IdentityProvider, user: User, groups: set[str]) -> None:
    source = f"idp:{provider.name}"
    rules = [rule for rule in provider.groups if rule.group in groups]
    granted_role = max((rule.role for rule in rules if rule.role), key=ROLE_RANK.__getitem__, default=None)
    if granted_role is not None:
        user.role, user.role_source = granted_role, source
    elif user.role_source == source:
        user.role, user.role_source = "user", None

    wanted: dict[str, str] = {}
    for rule in rules:
        if rule.team is not None and wanted.get(rule.team) != "admin":
            wanted[rule.team] = rule.team_role
    teams = (await session.scalars(select(Team).where(Team.code.in_(wanted)))).all()
    for team in teams:
        existing = await session.get(Membership, (team.id, user.id))
        if existing is None or existing.source == source:  # never take over what an admin or directory gave
            try:
                await set_member(session, team.id, user.id, wanted[team.code], source=source)
            except LastAdminError:
                continue
    kept = {team.id for team in teams}
    granted = await session.scalars(
        select(Membership.team_id).where(Membership.user_id == user.id, Membership.source == source)
    )
    for team_id in set(granted.all()) - kept:
        try:
            await remove_member(session, team_id, user.id)
        except LastAdminError:
            continue  # the team keeps its last admin until someone else is made admin
