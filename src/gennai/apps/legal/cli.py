"""``gennai ingest laws <dir or zip>``: the command the lead registers; the work is in ``ingest``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from gennai.apps.legal.ingest import IngestReport, ingest_path
from gennai.config import load_settings
from gennai.db.engine import create_engine, session_factory

legal_cli = typer.Typer(help="Statute data (法令データ).", no_args_is_help=True)


@legal_cli.command("ingest-laws")
def ingest_laws(
    path: Path = typer.Argument(..., help="A directory of e-Gov law XML, a zip of them, or one XML file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary."),
) -> None:
    """Ingest e-Gov law XML; each law is stored whole or not at all, and failures are listed."""
    report = asyncio.run(_ingest(path, quiet))
    for name, reason in report.failed:
        typer.echo(f"failed: {name}: {reason}", err=True)
    typer.echo(report.summary)
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)


async def _ingest(path: Path, quiet: bool) -> IngestReport:
    engine = create_engine(load_settings().effective_database_url)
    try:
        return await ingest_path(
            session_factory(engine),
            path,
            progress=None if quiet else lambda name, outcome: typer.echo(f"{outcome}: {name}"),
        )
    finally:
        await engine.dispose()
