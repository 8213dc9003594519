"""Real OpenID providers for the identity tests: ``tests/idp/server.mjs`` (panva/oidc-provider) on loopback.

Needs Node and ``npm ci`` in tests/idp; missing, the tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import REPO, free_port, unavailable, wait_for_http

IDP_DIR = REPO / "tests" / "idp"
APP_URL = "http://gennai.test"  # the app under test, reached in-process (ASGI) at this origin
CLIENT_SECRET = "test-client-secret-0123456789abcdef"

ACCOUNTS = {
    "alice": {
        "email": "alice@mof.example.go.jp",
        "name": "財務 アリス",
        "groups": ["mof-budget-admins", "gennai-admins"],
        "organization": "mof",
    },
    "bob": {"email": "bob@mof.example.go.jp", "name": "財務 ボブ", "groups": ["mof-budget"], "organization": "mof"},
    "carol": {
        "email": "carol@mhlw.example.go.jp",
        "name": "厚労 キャロル",
        "groups": ["mhlw-auditors", "mhlw-policy"],
        "organization": "mhlw",
    },
    "mallory": {"email": "mallory@evil.example.com", "name": "Mallory", "groups": [], "organization": "evil"},
}


# The group rules every test provider (OIDC or SAML) is configured with.
GROUP_RULES = [
    {"group": "gennai-admins", "role": "system_admin"},
    {"group": "mhlw-auditors", "role": "auditor"},
    {"group": "mof-budget-admins", "team": "mof-budget", "team_role": "admin"},
    {"group": "mof-budget", "team": "mof-budget"},
    {"group": "mhlw-policy", "team": "mhlw-policy"},
]


@dataclass
class Idp:
    name: str
    issuer: str
    keys_file: Path
    process: subprocess.Popen[bytes]

    def rotate_keys(self) -> str:
        """Publish a new signing key in front of the old one; returns its kid."""
        return str(httpx.post(self.issuer + "/__rotate", timeout=10).json()["kid"])

    def private_keys(self) -> dict[str, Any]:
        return dict(json.loads(self.keys_file.read_text()))


@contextmanager
def running_idp(name: str, work_dir: Path, app_url: str = APP_URL) -> Iterator[Idp]:
    """One oidc-provider instance on a free loopback port, stopped afterwards."""
    if shutil.which("node") is None:
        unavailable("Node.js is not installed (needed for the test identity provider)")
    if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
        unavailable("tests/idp dependencies missing: run `npm ci --prefix tests/idp`")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    keys_file = work_dir / f"{name}-keys.json"
    config = {
        "port": port,
        "issuer": issuer,
        "keys_file": str(keys_file),
        "accounts": ACCOUNTS,
        "client": {
            "client_id": f"gennai-{name}",
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{app_url}/auth/callback/{name}"],
            "post_logout_redirect_uris": [f"{app_url}/auth/logged-out"],
        },
    }
    config_file = work_dir / f"{name}-idp.json"
    config_file.write_text(json.dumps(config))
    log = (work_dir / f"{name}-idp.log").open("wb")
    process = subprocess.Popen(["node", str(IDP_DIR / "server.mjs"), str(config_file)], stdout=log, stderr=log)
    try:
        wait_for_http(issuer + "/.well-known/openid-configuration", timeout=30, process=process)
        yield Idp(name, issuer, keys_file, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def provider_settings(idp: Idp, **extra: Any) -> dict[str, Any]:
    """The gennai provider entry for ``idp``, with the group rules the tests rely on."""
    return {
        "name": idp.name,
        "label": idp.name.upper(),
        "issuer": idp.issuer,
        "client_id": f"gennai-{idp.name}",
        "client_secret": CLIENT_SECRET,
        "scopes": ["openid", "email", "profile", "groups"],
        "groups": GROUP_RULES,
        **extra,
    }


LOGIN_FORM = re.compile(r'<form method="post" action="([^"]+)"')


async def sign_in(client: httpx.AsyncClient, provider: str, account: str, next_path: str = "/") -> httpx.Response:
    """The browser's path through the Authorization Code + PKCE flow, ending on the page after sign-in."""
    form = await client.get(f"/auth/login/{provider}", params={"next": next_path}, follow_redirects=True)
    match = LOGIN_FORM.search(form.text)
    assert match, f"no IdP login form at {form.url}: {form.status_code} {form.text[:300]}"
    return await client.post(
        httpx.URL(str(form.url)).join(match.group(1)), data={"login": account}, follow_redirects=True
    )
