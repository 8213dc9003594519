"""Shared fixtures: real databases (SQLite and PostgreSQL), the app in-process, and a live server.

PostgreSQL tests get a database of their own per test run, so that several runs can share the
machine's server. Outside CI a missing server skips those tests; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from gennai.config import ModelSpec, Settings
from gennai.db.engine import create_engine, session_factory
from gennai.db.migrate import upgrade

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("GENNAI_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GENNAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
BACKENDS = ["sqlite", "postgres"]


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: a service the suite needs must be there in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    name = f"gennai_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:
        await admin.dispose()
        unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {error}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@dataclass
class Database:
    backend: str
    url: str
    engine: AsyncEngine


_databases: dict[str, Database] = {}
_pg_context: list[object] = []


async def _database(backend: str, tmp_root: Path) -> Database:
    if backend not in _databases:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_root / 'test.db'}"
        else:
            context = postgres_database()
            url = await context.__aenter__()
            _pg_context.append(context)
        engine = create_engine(url)
        await upgrade(engine)
        _databases[backend] = Database(backend, url, engine)
    return _databases[backend]


async def empty_tables(engine: AsyncEngine) -> None:
    """Remove every row but the schema, so each test starts from a clean, migrated database."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            names = (
                (
                    await connection.execute(
                        text(
                            "SELECT tablename FROM pg_tables"
                            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            if names:
                await connection.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))
        else:
            names = (
                (
                    await connection.execute(
                        text(
                            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                            "AND name <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            await connection.execute(text("PRAGMA foreign_keys=OFF"))
            for name in names:
                await connection.execute(text(f'DELETE FROM "{name}"'))
            await connection.commit()  # SQLite ignores the pragma inside a transaction: FKs would stay off
            await connection.execute(text("PRAGMA foreign_keys=ON"))
        await connection.commit()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gennai")


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_root: Path) -> AsyncIterator[Database]:
    """A migrated database on each backend, emptied before the test."""
    db = await _database(request.param, tmp_root)
    await empty_tables(db.engine)
    yield db


@pytest.fixture
def db_sessions(database: Database) -> async_sessionmaker[AsyncSession]:
    return session_factory(database.engine)


@pytest.fixture(scope="session", autouse=True)
async def _close_databases() -> AsyncIterator[None]:
    yield
    for db in _databases.values():
        await db.engine.dispose()
    for context in _pg_context:
        await context.__aexit__(None, None, None)  # type: ignore[attr-defined]


def echo_settings(database_url: str, data_dir: Path, *more_models: ModelSpec, **extra: object) -> Settings:
    """Settings for in-process app tests: the deterministic echo model, no weights loaded."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        models=[
            ModelSpec(name="echo", provider="test", label="Echo"),
            ModelSpec(name="echo-2", provider="test", label="Echo 2"),
            *more_models,
        ],
        secret_key="test-secret",
        legal_sample=False,
        **extra,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app in-process, lifespan included; the app is at ``client.app``."""
    from gennai.web.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def app_client(database: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The whole portal in-process (lifespan included) on each database, with the echo model."""
    async with in_process(echo_settings(database.url, tmp_path)) as client:
        yield client


async def csrf_token_of(client: httpx.AsyncClient, path: str = "/") -> str:
    page = (await client.get(path)).text
    marker = 'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gennai", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``gennai serve`` as a user runs it: a real process with the embedded model, on SQLite."""
    with serve(tmp_path_factory.mktemp("live")) as server:
        yield server


@contextmanager
def serve(data_dir: Path, **settings: str) -> Iterator[LiveServer]:
    """A ``gennai serve`` process on SQLite in ``data_dir``; ``settings`` are GENNAI_* variables to add."""
    port = free_port()
    env = {**os.environ, "GENNAI_DATA_DIR": str(data_dir), "GENNAI_PORT": str(port)}
    env.pop("GENNAI_DATABASE_URL", None)
    env.pop("GENNAI_MODELS", None)
    env.pop("GENNAI_CONFIG", None)
    env.update(settings)
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gennai", "serve"], env=env, stdout=log, stderr=log, cwd=data_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/readyz", timeout=120, process=process)
        yield LiveServer(url, data_dir, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
