"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP (``saml2.server.Server``) over HTTP on loopback.

It answers an AuthnRequest (HTTP-Redirect binding) with a signed Response in an auto-posting form, as
a SAML IdP does. Switches make it answer badly, the way a broken or hostile IdP (or a man in the
middle) would: for another audience or address, already expired, unsigned, tampered after signing, signed with
a key its metadata does not publish, or answering no request at all. Needs the ``xmlsec1`` program;
missing, the tests skip locally and fail in CI.
"""

from __future__ import annotations

import base64
import contextlib
import html
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import httpx
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAME_FORMAT_BASIC, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.time_util import TIME_FORMAT, instant
from tests.conftest import free_port, unavailable
from tests.identity_idp import ACCOUNTS, APP_URL, GROUP_RULES

from gennai.identity.saml import ensure_keypair

Mode = Literal[
    "ok",
    "response_signed",
    "wrong_audience",
    "misaddressed",
    "expired",
    "unsigned",
    "tampered",
    "forged",
    "unsolicited",
]
ELSEWHERE = "https://elsewhere.example.go.jp"  # another service provider, whose responses must not work here
AUTO_POST = re.compile(r'<form method="post" action="([^"]+)">.*?name="SAMLResponse" value="([^"]+)"', re.S)


@dataclass
class SamlIdp:
    """The IdP and its switches; ``user`` signs in next, ``mode`` says how the response goes wrong.

    ``ok`` signs the assertion; ``response_signed`` signs only the outer Response, as some IdPs do.
    """

    url: str
    work_dir: Path
    user: str = "alice"
    mode: Mode = "ok"
    sp_metadata: str | None = None

    @property
    def entity_id(self) -> str:
        return self.url + "/metadata"

    def _keys(self, name: str) -> tuple[Path, Path]:
        key_file, cert_file = self.work_dir / f"{name}-key.pem", self.work_dir / f"{name}-cert.pem"
        ensure_keypair(key_file, cert_file, self.entity_id)
        return key_file, cert_file

    def _config(self, keys: str = "idp", lifetime_minutes: int = 5) -> IdPConfig:
        key_file, cert_file = self._keys(keys)
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "key_file": str(key_file),
                "cert_file": str(cert_file),
                "metadata": {"inline": [self.sp_metadata]} if self.sp_metadata else {},
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(self.url + "/sso", BINDING_HTTP_REDIRECT)]},
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": lifetime_minutes},
                                "name_form": NAME_FORMAT_BASIC,
                                "attribute_restrictions": None,
                            }
                        },
                    }
                },
            }
        )
        return config

    def metadata(self) -> str:
        """What the IdP publishes: its entity id, SSO address and signing certificate."""
        return bytes(create_metadata_string(None, config=self._config())).decode("utf-8")

    def answer(self, saml_request: str) -> str:
        """The auto-posting page carrying the Response to ``saml_request``, spoiled as ``mode`` says."""
        server = Server(
            config=self._config("forged" if self.mode == "forged" else "idp", -10 if self.mode == "expired" else 5)
        )
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        # Expired: minted 20 minutes ago, valid for 10; pysaml2's assertion builder reads the clock here.
        clock = (
            contextlib.nullcontext()
            if self.mode != "expired"
            else mock.patch(
                "saml2.assertion.instant", lambda format=TIME_FORMAT, time_stamp=0: instant(format, time.time() - 1200)
            )
        )
        audience = ELSEWHERE + "/sp" if self.mode == "wrong_audience" else request.issuer.text
        destination = ELSEWHERE + "/acs" if self.mode == "misaddressed" else request.assertion_consumer_service_url
        account = ACCOUNTS[self.user]
        identity = {
            "mail": [account["email"]],
            "displayName": [account["name"]],
            "organization": [account["organization"]],
            "groups": list(account["groups"]),
        }
        with clock:
            response = server.create_authn_response(
                identity,
                in_response_to="_" + uuid.uuid4().hex if self.mode == "unsolicited" else request.id,
                destination=destination,
                sp_entity_id=audience,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"{self.user}-persistent-id"),
                authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
                sign_assertion=self.mode not in ("unsigned", "response_signed"),
                sign_response=self.mode == "response_signed",
            )
        xml = str(response)
        if self.mode == "tampered":  # a signed assertion whose holder gave himself the admins' group
            tampered = xml.replace(f">{account['groups'][0]}<", ">gennai-admins<", 1)
            assert tampered != xml, "nothing to tamper with"
            xml = tampered
        encoded = base64.b64encode(xml.encode("utf-8")).decode("ascii")
        return (
            f'<html><body onload="document.forms[0].submit()"><form method="post" '
            f'action="{html.escape(request.assertion_consumer_service_url)}">'
            f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
            '<input type="submit" value="Continue"></form></body></html>'
        )


def _handler(idp: SamlIdp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            try:
                if url.path == "/metadata":
                    status, body, kind = 200, idp.metadata(), "application/samlmetadata+xml"
                elif url.path == "/sso" and "SAMLRequest" in query:
                    status, body, kind = 200, idp.answer(query["SAMLRequest"][0]), "text/html"
                else:
                    status, body, kind = 404, "not found", "text/plain"
            except Exception as error:  # shown to the test, which then fails with the IdP's reason
                status, body, kind = 500, f"{type(error).__name__}: {error}", "text/plain"
            payload = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind + "; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_saml_idp(work_dir: Path) -> Iterator[SamlIdp]:
    """The IdP on a free loopback port, in a thread, stopped afterwards."""
    if shutil.which("xmlsec1") is None:
        unavailable("xmlsec1 is not installed (pysaml2 signs and verifies with it): apt-get install xmlsec1")
    port = free_port()
    idp = SamlIdp(url=f"http://127.0.0.1:{port}", work_dir=work_dir)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(idp))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        httpd.shutdown()
        httpd.server_close()


def saml_provider_settings(idp: SamlIdp, name: str = "digital", **extra: Any) -> dict[str, Any]:
    """The gennai entry for ``idp``: its metadata inline, the group rules the tests rely on."""
    return {
        "name": name,
        "label": "デジタル庁 SAML",
        "idp_metadata": idp.metadata(),
        "sp_entity_id": f"{APP_URL}/auth/saml/{name}/metadata",
        "groups": GROUP_RULES,
        **extra,
    }


async def saml_response_for(client: httpx.AsyncClient, provider: str, next_path: str = "/") -> tuple[str, str]:
    """Start sign-in and follow the redirect to the IdP; the ACS address and the response it would post."""
    page = await client.get(f"/auth/saml/{provider}/login", params={"next": next_path}, follow_redirects=True)
    match = AUTO_POST.search(page.text)
    assert match, f"no auto-posting form at {page.url}: {page.status_code} {page.text[:500]}"
    return html.unescape(match.group(1)), match.group(2)


async def saml_sign_in(client: httpx.AsyncClient, provider: str, next_path: str = "/") -> httpx.Response:
    """The browser's whole path: to the IdP, the auto-posted response back, and the page after sign-in."""
    acs, saml_response = await saml_response_for(client, provider, next_path)
    return await client.post(acs, data={"SAMLResponse": saml_response}, follow_redirects=True)
