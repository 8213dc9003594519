"""OpenID Connect sign-in (Authorization Code + PKCE) with Authlib, one client per configured provider.

Authlib builds the authorization request and exchanges the code; the ID token is then checked here
with joserfc: signature against the provider's JWKS (fetched again when a token names a key we do
not know, which is how key rotation shows itself), issuer, audience, authorised party, expiry,
nonce and, when re-authentication is due, ``auth_time``. Every refusal is a ``LoginError`` with a
stable code, so the portal can explain it and the audit log can count it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from gennai.config import OidcProvider

METADATA_TTL_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 60
# Only asymmetric signatures: an ID token signed with the client secret (HS*) or unsigned is refused.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class LoginError(Exception):
    """A sign-in refused for a reason worth telling the user and the auditors."""

    def __init__(self, code: str, detail: str = "", status: int = 400) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code
        self.status = status


@dataclass
class PendingLogin:
    """What the browser's session carries between the redirect to the provider and the callback."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    next_path: str
    max_age: int
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingLogin:
        return cls(**data)


@dataclass
class SignIn:
    """A verified sign-in: the ID token's claims and the raw token (the hint for logout)."""

    claims: dict[str, Any]
    id_token: str


class OidcClient:
    """One identity provider: its discovery document and keys, cached, and the code flow."""

    def __init__(self, provider: OidcProvider, http: httpx.AsyncClient) -> None:
        self.provider = provider
        self.http = http
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_lock = asyncio.Lock()

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise LoginError("idp_unavailable", f"{self.provider.name}: {url}: {error}", 502) from error
        if not isinstance(data, dict):
            raise LoginError("idp_unavailable", f"{self.provider.name}: {url} did not return a JSON object", 502)
        return data

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document; its issuer must be exactly the configured one."""
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL_SECONDS:
            issuer = self.provider.issuer.rstrip("/")
            data = await self._get_json(issuer + "/.well-known/openid-configuration")
            if data.get("issuer") != self.provider.issuer:
                raise LoginError("idp_misconfigured", f"discovery names issuer {data.get('issuer')!r}", 502)
            self._metadata, self._metadata_at = data, time.monotonic()
        return self._metadata

    def _oauth(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.provider.client_id,
            client_secret=self.provider.resolved_client_secret(),
            scope=" ".join(self.provider.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )

    async def begin(self, redirect_uri: str, next_path: str, max_age: int) -> tuple[str, PendingLogin]:
        """The provider's authorization URL and the secrets to keep until its callback."""
        metadata = await self.metadata()
        pending = PendingLogin(
            provider=self.provider.name,
            state=generate_token(32),
            nonce=generate_token(32),
            code_verifier=generate_token(64),
            next_path=next_path,
            max_age=max_age,
        )
        async with self._oauth(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
                max_age=str(max_age),
            )
        return url, pending

    async def finish(self, code: str, pending: PendingLogin, redirect_uri: str) -> SignIn:
        """Exchange the code (with the PKCE verifier) and verify the ID token it brings."""
        metadata = await self.metadata()
        async with self._oauth(redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=pending.code_verifier
                )
            except OAuthError as error:
                raise LoginError("token_exchange_failed", f"{error.error}: {error.description}") from error
            except httpx.HTTPError as error:
                raise LoginError("idp_unavailable", str(error), 502) from error
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise LoginError("invalid_token", "the token response carries no id_token")
        claims = await self.verify_id_token(id_token, pending.nonce, pending.max_age)
        return SignIn(claims=claims, id_token=id_token)

    async def _key_set(self, kid: str | None) -> KeySet:
        """The provider's keys; fetched again when the token names a key not yet known (rotation)."""
        async with self._keys_lock:
            known = self._keys is not None and (kid is None or any(k.kid == kid for k in self._keys.keys))
            if not known:
                metadata = await self.metadata()
                try:
                    self._keys = KeySet.import_key_set(await self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
                except (JoseError, ValueError, KeyError) as error:
                    raise LoginError("idp_misconfigured", f"unusable JWKS: {error}", 502) from error
            assert self._keys is not None
            return self._keys

    async def verify_id_token(self, id_token: str, nonce: str, max_age: int | None) -> dict[str, Any]:
        """The token's claims, or LoginError naming the first check it failed."""
        try:
            header = jws.extract_compact(id_token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError) as error:
            raise LoginError("invalid_token", f"not a signed JWT: {error}") from error
        kid = header.get("kid")
        keys = await self._key_set(kid)
        if kid is not None and not any(key.kid == kid for key in keys.keys):
            raise LoginError("invalid_signature", f"signed with key {kid!r}, which the provider does not publish")
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ALLOWED_ALGORITHMS))
        except BadSignatureError as error:
            raise LoginError("invalid_signature", "the ID token's signature does not verify") from error
        except (JoseError, ValueError) as error:
            raise LoginError("invalid_token", str(error)) from error
        claims = dict(token.claims)
        self._check_claims(claims, nonce, max_age)
        return claims

    def _check_claims(self, claims: dict[str, Any], nonce: str, max_age: int | None) -> None:
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": self.provider.issuer},
            aud={"essential": True, "value": self.provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise LoginError("token_expired", "the ID token has expired") from error
        except (InvalidClaimError, MissingClaimError) as error:
            claim = str(getattr(error, "claim", "") or error)
            code = {"aud": "wrong_audience", "iss": "wrong_issuer", "nonce": "nonce_mismatch"}.get(
                claim, "invalid_token"
            )
            raise LoginError(code, str(error)) from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise LoginError("wrong_audience", "several audiences and azp is not this client")
        if max_age is not None:
            auth_time = claims.get("auth_time")
            if not isinstance(auth_time, int | float) or time.time() - auth_time > max_age + CLOCK_LEEWAY_SECONDS:
                raise LoginError("reauthentication_required", "the provider did not re-authenticate the user")

    async def end_session_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout at the provider, when it offers it."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except LoginError:
            return None
        if not isinstance(endpoint, str):
            return None
        params = {"client_id": self.provider.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token:
            params["id_token_hint"] = id_token
        return str(httpx.URL(endpoint, params=params))


class OidcClients:
    """Every configured provider by name, sharing one HTTP client."""

    def __init__(self, providers: list[OidcProvider], timeout: float = 10.0) -> None:
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.clients = {p.name: OidcClient(p, self.http) for p in providers}

    def get(self, name: str) -> OidcClient | None:
        return self.clients.get(name)

    async def close(self) -> None:
        await self.http.aclose()
