"""The ``gennai`` command as a deployer runs it: exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import Database


def gennai(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GENNAI_")}
    return subprocess.run(
        [sys.executable, "-m", "gennai", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_and_keys_create_on_each_database(database: Database, tmp_path: Path):
    env = {"GENNAI_DATA_DIR": str(tmp_path), "GENNAI_DATABASE_URL": database.url}
    migrated = gennai("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    created = gennai("keys", "create", "--user", "New.User@Example.go.jp", env=env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("gn-")
    assert "new.user@example.go.jp" in created.stdout


@pytest.mark.parametrize(
    ("command", "env", "message"),
    [
        (["keys", "create", "--user", "not-an-email"], {}, "not an e-mail address"),
        (["migrate"], {"GENNAI_DATABASE_URL": "postgresql+asyncpg://x@127.0.0.1:1/none"}, "database not reachable"),
        (["serve"], {"GENNAI_DATABASE_URL": "postgresql+asyncpg://x@127.0.0.1:1/none"}, "database not reachable"),
        (["serve", "--host", "0.0.0.0"], {}, "single-user local mode"),
        (["migrate"], {"GENNAI_MODELS": "not json"}, "GENNAI_MODELS"),
    ],
)
def test_bad_input_exits_non_zero_with_one_clear_line(command, env, message, tmp_path: Path):
    result = gennai(*command, env={"GENNAI_DATA_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_laws_is_atomic_and_incremental(database: Database, tmp_path: Path):
    from importlib import resources

    env = {"GENNAI_DATA_DIR": str(tmp_path), "GENNAI_DATABASE_URL": database.url}
    with resources.as_file(resources.files("gennai.apps.legal") / "sample" / "full") as sample:
        first = gennai("ingest", "laws", str(sample), "-q", env=env)
        again = gennai("ingest", "laws", str(sample), "-q", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("4 added, 0 updated, 0 unchanged, 0 failed")
    assert again.stdout.strip().endswith("0 added, 0 updated, 4 unchanged, 0 failed")

    broken = tmp_path / "broken.xml"
    broken.write_text("<Law><LawNum>令和七年法律第一号", encoding="utf-8")
    failed = gennai("ingest", "laws", str(broken), env=env)
    assert failed.returncode == 1 and "broken.xml" in failed.stderr
    assert "Traceback" not in failed.stderr
