"""Admin pages at the scale of a whole government: 180,000 users in 2,000 teams.

Run: .venv/bin/python bench/admin_scale.py [--postgres postgresql+asyncpg://…/db] [--users N] [--teams N]
Seeds a fresh database (SQLite in a temporary directory by default; the PostgreSQL database given must
be empty), then drives the real app in-process as a signed-in system admin: the user list, deep pages
(following "next" 40 times), searches by e-mail and by Japanese name, the team list and search, and
team member pages. Target: p95 < 100 ms. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert

from gennai.config import ModelSpec, Settings
from gennai.db.engine import create_engine
from gennai.db.migrate import upgrade
from gennai.db.models import User
from gennai.identity.sessions import COOKIE
from gennai.identity.tables import Membership, Organisation, Team
from gennai.web.app import create_app

FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜", "大輔", "さくら"]
ORGANISATIONS = ["mof", "mhlw", "meti", "mext", "maff", "mlit", "env", "mod", "moj", "mofa", "soumu", "cao"]
CHUNK = 10_000
NEXT_LINK = re.compile(r'rel="next" href="\?([^"]+)"')


async def seed(url: str, users: int, teams: int) -> uuid.UUID:
    """Bulk-insert the organisation; returns the system admin's id."""
    engine = create_engine(url)
    await upgrade(engine)
    now = datetime.now(UTC)
    organisations = [{"id": uuid.uuid4(), "code": code, "name": code, "created_at": now} for code in ORGANISATIONS]
    team_rows = [
        {
            "id": uuid.uuid4(),
            "organisation_id": organisations[n % len(organisations)]["id"],
            "code": f"{organisations[n % len(organisations)]['code']}-team-{n:04d}",
            "name": f"第{n}課",
            "created_at": now,
        }
        for n in range(teams)
    ]
    admin_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(insert(Organisation), organisations)
        await connection.execute(insert(Team), team_rows)
        for start in range(0, users, CHUNK):
            batch, members = [], []
            for n in range(start, min(start + CHUNK, users)):
                organisation = organisations[n % len(organisations)]
                user_id = admin_id if n == 0 else uuid.uuid4()
                batch.append(
                    {
                        "id": user_id,
                        "email": f"user{n:06d}@{organisation['code']}.example.go.jp",
                        "display_name": f"{FAMILY[n % len(FAMILY)]} {GIVEN[(n // 12) % len(GIVEN)]}{n}",
                        "is_active": True,
                        "role": "system_admin" if n == 0 else "user",
                        "organisation_id": organisation["id"],
                        "created_at": now,
                    }
                )
                members.append(
                    {
                        "team_id": team_rows[n % teams]["id"],
                        "user_id": user_id,
                        "role": "admin" if n < teams else "member",
                        "source": "scim",
                        "created_at": now,
                    }
                )
            await connection.execute(insert(User), batch)
            await connection.execute(insert(Membership), members)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.exec_driver_sql("ANALYZE")
    await engine.dispose()
    return admin_id


async def measure(url: str, data_dir: Path, admin_id: uuid.UUID, teams: list[str]) -> dict[str, list[float]]:
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="bench",
        legal_sample=False,
        models=[ModelSpec(name="echo", provider="test")],
        oidc_providers=[{"name": "ministry", "issuer": "http://127.0.0.1:9", "client_id": "gennai"}],
    )
    app = create_app(settings)
    timings: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        token = await app.state.services.identity.store.create(admin_id, "ministry", None)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", cookies={COOKIE: token}) as client:

            async def timed(kind: str, path: str) -> str:
                started = time.perf_counter()
                response = await client.get(path)
                timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                return response.text

            for _ in range(20):
                await timed("users_first_page", "/admin/users")
            page = await timed("users_first_page", "/admin/users")
            for _ in range(40):
                found = NEXT_LINK.search(page)
                assert found, "no next page"
                page = await timed("users_next_page", "/admin/users?" + found.group(1).replace("&amp;", "&"))
            for query in ["user1", "user0999", "user17999", "mof", "x", "佐藤", "山田 花", "高橋 一郎12", "存在しない"]:
                for _ in range(5):
                    await timed("users_search", "/admin/users?" + httpx.QueryParams({"q": query}).__str__())
            for _ in range(20):
                await timed("teams_first_page", "/admin/teams")
            for query in ["mof-team-01", "mhlw", "第1"]:
                for _ in range(5):
                    await timed("teams_search", "/admin/teams?" + httpx.QueryParams({"q": query}).__str__())
            for team_id in teams[:40]:
                await timed("team_members", f"/admin/teams/{team_id}")
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL (postgresql+asyncpg://…)")
    parser.add_argument("--users", type=int, default=180_000)
    parser.add_argument("--teams", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.postgres or f"sqlite+aiosqlite:///{Path(directory) / 'admin.db'}"
        started = time.perf_counter()
        admin_id = await seed(url, args.users, args.teams)
        seeded = time.perf_counter() - started
        engine = create_engine(url)
        async with engine.connect() as connection:
            team_ids = [str(row[0]) for row in await connection.exec_driver_sql("SELECT id FROM teams LIMIT 60")]
        await engine.dispose()
        if url.startswith("sqlite"):  # SQLite stores UUIDs as 32 hex digits
            team_ids = [str(uuid.UUID(t)) for t in team_ids]
        timings = await measure(url, Path(directory), admin_id, team_ids)
    everything = [t for values in timings.values() for t in values]
    for kind, values in timings.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{kind:18} n={len(values):3} p50={p50:7.2f} ms p95={p95:7.2f} ms")
    print(
        json.dumps(
            {
                "backend": "postgresql" if args.postgres else "sqlite",
                "users": args.users,
                "teams": args.teams,
                "seed_seconds": round(seeded, 1),
                "requests": len(everything),
                "p50_ms": percentile(everything, 0.5),
                "p95_ms": percentile(everything, 0.95),
                "max_ms": round(max(everything), 2),
                "mean_ms": round(statistics.mean(everything), 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
