"""The ``gennai`` command: serve, migrate, keys, ingest."""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from gennai.config import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

app = typer.Typer(help="gennai: generative AI for government work", no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="API keys for programs", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
ingest_app = typer.Typer(help="Load reference data", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

T = TypeVar("T")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as error:
        _fail(str(error))
        raise AssertionError("unreachable") from error


def _run_db(settings: Settings, work: Callable[[Settings], Coroutine[object, object, T]]) -> T:
    """Run database work, turning an unreachable database into one clear line and exit code 2."""
    try:
        return asyncio.run(work(settings))
    except (OSError, ConnectionError) as error:
        _fail(f"database not reachable ({settings.effective_database_url.split('@')[-1]}): {error}")
    except Exception as error:
        if type(error).__module__.startswith(("sqlalchemy", "asyncpg", "sqlite3")):
            _fail(f"database error: {error}")
        raise
    raise AssertionError("unreachable")


async def _upgrade_database(settings: Settings) -> None:
    from gennai.db.engine import create_engine
    from gennai.db.migrate import upgrade

    engine = create_engine(settings.effective_database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    _run_db(_settings(), _upgrade_database)
    typer.echo("database is up to date")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Start the portal and the APIs (migrating the database first)."""
    import uvicorn

    from gennai.web.app import create_app

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = _settings(**overrides)
    if not settings.sign_in_required and not _is_loopback(settings.host):
        _fail(
            f"no identity provider is configured, so gennai runs in single-user local mode and listens on "
            f"127.0.0.1 only; refusing to listen on {settings.host}"
        )
    _run_db(settings, _upgrade_database)  # fail here, in one clear line, if the database is unreachable
    typer.echo(f"gennai {settings.effective_database_url.split('@')[-1]} -> http://{settings.host}:{settings.port}")
    # h11 with a larger request-line limit lets over-long queries (10,000 characters of Japanese is about 90 KB
    # of URL) reach the app, which answers them with a clear JSON error instead of a bare 400 from the parser.
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=5,
        http="h11",
        h11_max_incomplete_event_size=1024 * 1024,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(1)


@keys_app.command("create")
def create_key(
    user: Annotated[str, typer.Option("--user", help="e-mail of the key's owner (created if new)")],
    name: Annotated[str, typer.Option(help="a label for the key")] = "",
) -> None:
    """Create an API key; the key is printed once, as the last line."""
    from gennai.db.engine import create_engine, session_factory, transaction
    from gennai.db.migrate import upgrade
    from gennai.identity.apikeys import create_key as new_key
    from gennai.identity.users import get_or_create_user, normalise_email

    try:
        email = normalise_email(user)
    except ValueError as error:
        _fail(str(error))
        return

    async def work(settings: Settings) -> str:
        engine = create_engine(settings.effective_database_url)
        try:
            await upgrade(engine)
            async with transaction(session_factory(engine)) as session:
                owner = await get_or_create_user(session, email)
                _, plain = await new_key(session, owner, name)
            return plain
        finally:
            await engine.dispose()

    plain = _run_db(_settings(), work)
    typer.echo(f"API key for {email} (shown once; store it now):")
    typer.echo(plain)


@ingest_app.command("laws")
def ingest_laws(
    path: Annotated[Path, typer.Argument(help="a directory of e-Gov law XML, a zip of them, or one XML file")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the summary")] = False,
) -> None:
    """Ingest e-Gov law XML; each law is stored whole or not at all, and failures are listed."""
    from gennai.apps.legal.ingest import IngestReport, ingest_path
    from gennai.db.engine import create_engine, session_factory

    if not path.exists():
        _fail(f"no such file or directory: {path}")

    async def work(settings: Settings) -> tuple[IngestReport, str | None]:
        await _upgrade_database(settings)
        engine = create_engine(settings.effective_database_url)
        try:
            sessions = session_factory(engine)
            progress = None if quiet else lambda name, outcome: typer.echo(f"{outcome}: {name}")
            report = await ingest_path(sessions, path, progress=progress)
            if settings.legal_embedding_model is None:
                return report, None
            return report, await _embed_statutes(settings, sessions, quiet)
        finally:
            await engine.dispose()

    report, embedding_failure = _run_db(_settings(), work)
    for name, reason in report.failed:
        typer.echo(f"failed: {name}: {reason}", err=True)
    typer.echo(report.summary)
    if embedding_failure:
        typer.echo(f"error: {embedding_failure}", err=True)
    if report.failed or embedding_failure:
        raise typer.Exit(1)


@ingest_app.command("embeddings")
def ingest_embeddings(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the summary")] = False,
) -> None:
    """Embed every stored statute article that has no vector yet for ``legal_embedding_model``; resumable."""
    from gennai.db.engine import create_engine, session_factory

    settings = _settings()
    if settings.legal_embedding_model is None:
        _fail("legal_embedding_model is not set: name an embedding model of 'models' (see docs/configuration.md)")

    async def work(settings: Settings) -> str | None:
        await _upgrade_database(settings)
        engine = create_engine(settings.effective_database_url)
        try:
            return await _embed_statutes(settings, session_factory(engine), quiet)
        finally:
            await engine.dispose()

    failure = _run_db(settings, work)
    if failure:
        _fail(failure)


async def _embed_statutes(settings: Settings, sessions: async_sessionmaker[AsyncSession], quiet: bool) -> str | None:
    """Backfill statute vectors through the gateway; what went wrong, or None."""
    from gennai.apps.legal.vectors import embed_statutes
    from gennai.gateway.base import ProviderError
    from gennai.gateway.registry import ModelRegistry
    from gennai.gateway.service import Gateway
    from gennai.guard.policy import Guard

    model = settings.legal_embedding_model
    assert model is not None
    models = ModelRegistry(settings)
    progress = None if quiet else lambda done, total: typer.echo(f"embedded {done}/{total}")
    try:
        added = await embed_statutes(sessions, Gateway(sessions, models, Guard()), model, progress=progress)
    except (ProviderError, ValueError) as failure:
        return f"embedding with {model} stopped: {failure}; run `gennai ingest embeddings` to resume"
    finally:
        await models.close()
    typer.echo(f"embedded {added} articles with {model}")
    return None
