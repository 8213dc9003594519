"""Ingest e-Gov law XML from a directory, a zip (e-Gov's bulk download shape) or a single file.

Parsing and Japanese analysis are CPU work, so with many files they run in worker processes (spawned,
not forked: a server's event loop and pool threads must not be copied) while this process writes
finished laws to the database, one transaction per law: a law that fails to
parse or to store leaves nothing behind and is reported with its reason, and the rest go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal.egov_xml import MAX_LAW_XML_BYTES, LawParseError, parse_law_xml
from gennai.apps.legal.model import Law
from gennai.apps.legal.store import LawStore, SaveOutcome, search_text
from gennai.search.analysis import analyze

Progress = Callable[[str, str], None]  # (source name, outcome or "failed: reason")

PROCESS_POOL_THRESHOLD = 32  # fewer files than this are not worth starting worker processes
WINDOW_PER_WORKER = 4  # parsed laws waiting to be written, per worker: bounds memory


@dataclass
class IngestReport:
    """What an ingest did, law by law."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source name, reason)

    def record(self, law_id: str, outcome: SaveOutcome) -> None:
        {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}[outcome].append(law_id)

    @property
    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.failed)} failed"
        )


@dataclass(frozen=True)
class _Prepared:
    name: str
    law: Law | None
    content_hash: str
    terms: list[str]
    error: str | None = None


class _Source:
    """The XML files of a path, read lazily one at a time."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no such file or directory: {path}")
        self.path = path

    def names(self) -> list[str]:
        if self.path.is_dir():
            return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*.xml") if p.is_file())
        if zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                return sorted(i.filename for i in archive.infolist() if i.filename.endswith(".xml"))
        return [self.path.name]

    def read_all(self, names: list[str]) -> Iterator[tuple[str, bytes | str]]:
        """(name, bytes) for each file, or (name, reason) for one that must not be read."""
        if self.path.is_dir():
            for name in names:
                yield name, _read_capped(self.path / name)
        elif zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                for name in names:
                    info = archive.getinfo(name)
                    if info.file_size > MAX_LAW_XML_BYTES:
                        yield name, f"file too large: {info.file_size} bytes"
                        continue
                    try:
                        yield name, archive.read(info)
                    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError) as error:
                        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
                        yield name, f"unreadable zip entry: {error}"
        else:
            yield self.path.name, _read_capped(self.path)


def _read_capped(path: Path) -> bytes | str:
    try:
        size = path.stat().st_size
        return f"file too large: {size} bytes" if size > MAX_LAW_XML_BYTES else path.read_bytes()
    except OSError as error:
        return f"unreadable file: {error}"


def prepare(name: str, data: bytes) -> _Prepared:
    """Parse and analyse one file; runs in a worker process, so it returns errors instead of raising."""
    content_hash = hashlib.sha256(data).hexdigest()
    try:
        law = parse_law_xml(data, file_name=name)
    except LawParseError as error:
        return _Prepared(name, None, content_hash, [], str(error))
    except Exception as error:  # whatever a hostile file provokes (nesting too deep, Num="²") fails it alone
        return _Prepared(name, None, content_hash, [], f"malformed law XML: {type(error).__name__}: {error}")
    terms = [" ".join(analyze(search_text(a))) for a in law.articles]
    return _Prepared(name, law, content_hash, terms)


async def ingest_path(
    sessions: async_sessionmaker[AsyncSession], path: str | Path, *, progress: Progress | None = None
) -> IngestReport:
    """Ingest every law XML under ``path`` (directory, zip or file); each law atomically."""
    source = _Source(Path(path))
    names = source.names()
    report = IngestReport()
    store = LawStore(sessions)
    workers = min(os.cpu_count() or 1, 4)
    executor: Executor = (
        ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        if len(names) >= PROCESS_POOL_THRESHOLD and workers > 1
        else ThreadPoolExecutor(max_workers=1)
    )
    loop = asyncio.get_running_loop()
    window: asyncio.Queue[asyncio.Future[_Prepared] | _Prepared] = asyncio.Queue(maxsize=workers * WINDOW_PER_WORKER)

    async def produce() -> None:
        for name, data in source.read_all(names):
            if isinstance(data, str):
                await window.put(_Prepared(name, None, "", [], data))
            else:
                await window.put(loop.run_in_executor(executor, prepare, name, data))

    try:
        producer = asyncio.create_task(produce())
        for _ in names:
            item = await _next(window, producer)
            prepared = item if isinstance(item, _Prepared) else await item
            await _save(store, prepared, report, progress)
        await producer
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return report


async def _next(
    window: asyncio.Queue[asyncio.Future[_Prepared] | _Prepared], producer: asyncio.Task[None]
) -> asyncio.Future[_Prepared] | _Prepared:
    """The next prepared file; if reading the source failed instead, that error, never an endless wait."""
    getter = asyncio.ensure_future(window.get())
    await asyncio.wait({getter, producer}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    await producer  # it ended without filling the window: raises what stopped it
    raise RuntimeError("the law files ran out before every listed file was read")


async def _save(store: LawStore, prepared: _Prepared, report: IngestReport, progress: Progress | None) -> None:
    if prepared.law is None:
        reason = prepared.error or "unreadable"
        report.failed.append((prepared.name, reason))
        if progress:
            progress(prepared.name, f"failed: {reason}")
        return
    try:
        outcome = await store.save_law(prepared.law, prepared.content_hash, prepared.terms)
    except Exception as error:  # one law's failure must not stop the others; its transaction rolled back
        report.failed.append((prepared.name, f"{type(error).__name__}: {error}"))
        if progress:
            progress(prepared.name, f"failed: {type(error).__name__}")
        return
    report.record(prepared.law.law_id, outcome)
    if progress:
        progress(prepared.name, outcome)


async def ensure_sample_ingested(sessions: async_sessionmaker[AsyncSession]) -> IngestReport | None:
    """Ingest the shipped sample statutes when the store holds no law at all; None when it did nothing."""
    if await LawStore(sessions).count_laws() > 0:
        return None
    report = IngestReport()
    sample = resources.files("gennai.apps.legal").joinpath("sample")
    for part in ("full", "articles.zip"):
        with resources.as_file(sample.joinpath(part)) as path:
            done = await ingest_path(sessions, path)
        for name in ("added", "updated", "unchanged", "failed"):
            getattr(report, name).extend(getattr(done, name))
    return report
