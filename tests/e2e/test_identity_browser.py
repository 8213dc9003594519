"""Single sign-on in a real browser: Debian's chromium, driven by Playwright, through the redirect flow
between a real ``gennai serve`` (sign-in required) and a real OpenID provider, and back out again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, expect
from tests.conftest import free_port, wait_for_http
from tests.identity_idp import Idp, provider_settings, running_idp

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Idp]]:
    work_dir = tmp_path_factory.mktemp("sso")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_idp("mof", work_dir, app_url=url) as idp:
        env = {
            **os.environ,
            "GENNAI_DATA_DIR": str(work_dir),
            "GENNAI_PORT": str(port),
            "GENNAI_PUBLIC_URL": url,
            "GENNAI_LEGAL_SAMPLE": "false",
            "GENNAI_MODELS": json.dumps([{"name": "echo", "provider": "test"}]),
            "GENNAI_OIDC_PROVIDERS": json.dumps([provider_settings(idp)]),
        }
        for name in ("GENNAI_DATABASE_URL", "GENNAI_CONFIG"):
            env.pop(name, None)
        log = (work_dir / "server.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "gennai", "serve"], env=env, stdout=log, stderr=log, cwd=work_dir
        )
        try:
            wait_for_http(url + "/readyz", timeout=60, process=process)
            yield url, idp
        finally:
            process.terminate()
            process.wait(timeout=20)
            log.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A page in a fresh browser context: no cookies from other tests."""
    opened = await browser.new_page()
    yield opened
    await opened.close()


async def test_sign_in_and_out_through_the_identity_provider(page, sso_server: tuple[str, Idp]):
    url, idp = sso_server
    await page.goto(url + "/history")
    await page.get_by_role("link", name="サインイン： MOF").click()
    await expect(page).to_have_url(re.compile(re.escape(idp.issuer) + "/interaction/"))
    await page.get_by_label("Account").fill("bob")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(url + "/history")
    await expect(page.get_by_text("サインイン中： 財務 ボブ")).to_be_visible()

    await page.get_by_role("button", name="サインアウト").click()
    await expect(page).to_have_url(re.compile(re.escape(idp.issuer) + "/session/end"))
    await page.get_by_role("button", name="Yes, sign me out").click()
    await expect(page).to_have_url(url + "/auth/logged-out")
    await page.goto(url + "/history")
    await expect(page.get_by_role("heading", name="サインイン")).to_be_visible()
