"""Fixtures for the identity tests: two real identity providers and the app signed in against them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import Database, echo_settings
from tests.identity_idp import APP_URL, Idp, provider_settings, running_idp

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
SCIM_TOKEN = "scim-test-token-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def idps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Idp]]:
    """Two identity providers, as two ministries would have."""
    work_dir = tmp_path_factory.mktemp("idp")
    with ExitStack() as stack:
        yield {name: stack.enter_context(running_idp(name, work_dir)) for name in ("mof", "mhlw")}


async def identity_client(
    database: Database, data_dir: Path, providers: list[dict[str, Any]], **extra: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process at APP_URL (other origins, such as the IdPs, go over the network)."""
    from gennai.web.app import create_app

    settings = echo_settings(
        database.url, data_dir, oidc_providers=providers, public_url=APP_URL, scim_token=SCIM_TOKEN, **extra
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        mounts = {APP_URL: httpx.ASGITransport(app=app)}
        async with httpx.AsyncClient(mounts=mounts, base_url=APP_URL, timeout=30, headers=BROWSER) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def oidc_client(database: Database, tmp_path: Path, idps: dict[str, Idp]) -> AsyncIterator[httpx.AsyncClient]:
    providers = [provider_settings(idps["mof"], allowed_domains=["mof.example.go.jp"]), provider_settings(idps["mhlw"])]
    async for client in identity_client(database, tmp_path, providers):
        yield client


def another_browser(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A second browser (own cookies) on the same app."""
    mounts = {APP_URL: httpx.ASGITransport(app=client.app)}  # type: ignore[attr-defined]
    return httpx.AsyncClient(mounts=mounts, base_url=APP_URL, timeout=30, headers=BROWSER)
