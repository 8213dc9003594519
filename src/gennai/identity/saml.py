"""SAML 2.0 sign-in (SP-initiated, HTTP-Redirect AuthnRequest, HTTP-POST response) with pysaml2.

pysaml2 checks what the response proves: the signature (of the response or the assertion) by the
IdP's certificate from its metadata, the audience, the recipient and destination, the time window
and that InResponseTo names the outstanding request handed to it. Two checks need state that
pysaml2 leaves to us, and both live in the database so every node sees them: the outstanding
requests (the IdP's cross-site POST carries no SameSite cookie, so the browser session cannot hold
them) and the assertions already used, kept until they expire, so a captured response is refused
however often it is posted. Every refusal is a ``LoginError`` with a stable code, as for OIDC.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse
from saml2.sigver import SignatureError, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.config import SAML_NAME_ID, SamlProvider, SettingsError
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.identity.oidc import LoginError
from gennai.identity.tables import SamlAssertion, SamlRequest

CLOCK_SKEW_SECONDS = 60
REQUEST_TTL = timedelta(minutes=10)
MAX_RESPONSE_BYTES = 256_000


@dataclass
class SamlSignIn:
    """A verified assertion: the attributes as claims (with the NameID) and what replay protection needs."""

    claims: dict[str, Any]
    assertion_id: str
    expires_at: dt.datetime


def ensure_keypair(key_file: Path, cert_file: Path, common_name: str) -> None:
    """The SP's signing/encryption key and self-signed certificate, generated once when absent."""
    if key_file.exists() and cert_file.exists():
        return
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_file.touch(mode=0o600)  # private before it holds the key
    key_file.chmod(0o600)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _refusal(error: Exception) -> LoginError:
    """pysaml2 raises many kinds of exception (some plain ``Exception``); each maps to one stable code."""
    text = str(error)
    if isinstance(error, UnsolicitedResponse):
        return LoginError("unsolicited_response", "the response answers no outstanding sign-in request")
    if isinstance(error, SignatureError | IncorrectlySigned | SigverError) or "signature" in text.lower():
        return LoginError("assertion_signature", f"the response is not signed by the provider: {text}")
    if isinstance(error, ResponseLifetimeExceed | ToEarly):
        return LoginError("assertion_expired", f"the assertion is outside its validity window: {text}")
    if "AudienceRestrictions" in text:
        return LoginError("assertion_audience", "the assertion is meant for another service")
    if "recipient" in text.lower() or "destination" in text.lower():
        return LoginError("assertion_recipient", f"the response was sent to another address: {text}")
    if isinstance(error, StatusError):
        return LoginError("idp_error", f"the provider refused the sign-in: {text}")
    return LoginError("assertion_invalid", f"{type(error).__name__}: {text}"[:500])


class SamlServiceProvider:
    """One SAML identity provider as seen from gennai: our SP metadata, the request, the response check."""

    def __init__(self, provider: SamlProvider, base_url: str, key_file: Path, cert_file: Path) -> None:
        self.provider = provider
        self.acs_url = f"{base_url}/auth/saml/{provider.name}/acs"
        metadata = provider.idp_metadata
        source = {"inline": [metadata]} if metadata.lstrip().startswith("<") else {"local": [metadata]}
        config = SPConfig()
        config.load(
            {
                "entityid": provider.sp_entity_id,
                "key_file": str(key_file),
                "cert_file": str(cert_file),
                "encryption_keypairs": [{"key_file": str(key_file), "cert_file": str(cert_file)}],
                "metadata": source,
                "accepted_time_diff": CLOCK_SKEW_SECONDS,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "endpoints": {"assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)]},
                        "allow_unsolicited": False,
                        "want_response_signed": False,
                        "want_assertions_signed": False,
                        "want_assertions_or_response_signed": True,
                        "authn_requests_signed": False,
                    }
                },
            }
        )
        self.client = Saml2Client(config)
        idps = list(self.client.metadata.identity_providers())
        if len(idps) != 1:
            raise SettingsError(f"saml provider {provider.name!r}: idp_metadata names {len(idps)} IdPs, not one")
        self.idp_entity_id = idps[0]

    def metadata_xml(self) -> str:
        """Our SP metadata, for the IdP's administrators to register gennai."""
        return bytes(create_metadata_string(None, config=self.client.config)).decode("utf-8")

    def begin(self) -> tuple[str, str]:
        """The request id to remember and the IdP URL carrying the AuthnRequest (HTTP-Redirect)."""
        request_id, info = self.client.prepare_for_authenticate(
            entityid=self.idp_entity_id, binding=BINDING_HTTP_REDIRECT, relay_state=""
        )
        location = dict(info["headers"])["Location"]
        return str(request_id), str(location)

    def verify(self, saml_response: str, outstanding: dict[str, str]) -> SamlSignIn:
        """The verified assertion, or LoginError naming the first check it failed."""
        try:
            response = self.client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=outstanding
            )
        except Exception as error:  # pysaml2 raises bare Exception for some checks (audience, conditions)
            raise _refusal(error) from error
        if response is None or response.assertion is None:
            raise LoginError("assertion_invalid", "the response carries no usable assertion")
        claims: dict[str, Any] = {
            name: values[0] if len(values) == 1 else values for name, values in response.get_identity().items()
        }
        name_id = response.name_id
        claims[SAML_NAME_ID] = name_id.text if name_id is not None else None
        if name_id is not None:
            self.client.users.remove_person(name_id)  # pysaml2 caches every identity in memory; we keep none
        lifetime = (response.not_on_or_after or 0) + CLOCK_SKEW_SECONDS
        expires_at = max(dt.datetime.fromtimestamp(lifetime, dt.UTC), utcnow() + REQUEST_TTL)
        return SamlSignIn(claims=claims, assertion_id=str(response.assertion.id), expires_at=expires_at)


@dataclass
class Envelope:
    """What the outer Response claims, read before any check: the request it answers and where it was sent."""

    in_response_to: str | None
    destination: str | None


def read_envelope(saml_response: str) -> Envelope:
    if len(saml_response) > MAX_RESPONSE_BYTES:
        raise LoginError("assertion_invalid", "the SAML response is too large")
    try:
        root = ElementTree.fromstring(base64.b64decode(saml_response, validate=False))
    except (binascii.Error, ValueError, ElementTree.ParseError) as error:
        raise LoginError("assertion_invalid", f"not a SAML response: {error}") from error
    return Envelope(in_response_to=root.get("InResponseTo") or None, destination=root.get("Destination") or None)


class SamlProviders:
    """Every configured SAML provider by name, and the database state their sign-ins need."""

    def __init__(
        self, providers: list[SamlProvider], base_url: str, data_dir: Path, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.sessions = sessions
        self.providers: dict[str, SamlServiceProvider] = {}
        for provider in providers:
            key_file = provider.sp_key_file or data_dir / "saml" / "sp-key.pem"
            cert_file = provider.sp_cert_file or data_dir / "saml" / "sp-cert.pem"
            ensure_keypair(key_file, cert_file, provider.sp_entity_id)
            self.providers[provider.name] = SamlServiceProvider(provider, base_url, key_file, cert_file)

    def get(self, name: str) -> SamlServiceProvider | None:
        return self.providers.get(name)

    async def begin(self, sp: SamlServiceProvider, next_path: str) -> str:
        """Send the user to the IdP, remembering the request so that only its answer is accepted."""
        request_id, url = await asyncio.to_thread(sp.begin)
        now = utcnow()
        async with transaction(self.sessions) as session:
            await session.execute(delete(SamlRequest).where(SamlRequest.expires_at < now))
            await session.execute(delete(SamlAssertion).where(SamlAssertion.expires_at < now))
            session.add(
                SamlRequest(id=request_id, provider=sp.provider.name, next_path=next_path, expires_at=now + REQUEST_TTL)
            )
        return url

    async def verify(self, sp: SamlServiceProvider, saml_response: str) -> tuple[SamlSignIn, str]:
        """The verified assertion and the path its request asked to return to."""
        envelope = read_envelope(saml_response)
        if envelope.destination is not None and envelope.destination != sp.acs_url:  # pysaml2 only says "None"
            raise LoginError("assertion_recipient", f"the response was sent to {envelope.destination}")
        request_id = envelope.in_response_to
        async with self.sessions() as session:
            request = await session.get(SamlRequest, request_id) if request_id else None
        outstanding = {}
        if (
            request is not None
            and request.provider == sp.provider.name
            and request.expires_at.replace(tzinfo=dt.UTC) > utcnow()
        ):
            outstanding[request.id] = request.next_path
        sign_in = await asyncio.to_thread(sp.verify, saml_response, outstanding)
        return sign_in, outstanding.get(request_id or "", "/")


async def use_once(session: AsyncSession, provider: str, sign_in: SamlSignIn) -> None:
    """Record the assertion as used in the sign-in's transaction; one seen before is a replay."""
    if await session.get(SamlAssertion, (provider, sign_in.assertion_id)) is not None:
        raise LoginError("replayed_assertion", f"assertion {sign_in.assertion_id} was used before")
    session.add(SamlAssertion(provider=provider, id=sign_in.assertion_id, expires_at=sign_in.expires_at))
    try:
        await session.flush()
    except IntegrityError as error:  # the same assertion posted twice at once
        raise LoginError("replayed_assertion", f"assertion {sign_in.assertion_id} was used before") from error
