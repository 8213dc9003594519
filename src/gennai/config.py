"""One settings object for the whole of gennai.

Values come, strongest first, from keyword arguments, ``GENNAI_*`` environment variables, an
optional TOML file (``GENNAI_CONFIG``, else ``./gennai.toml`` when present) and the defaults below,
so that a fresh clone runs with nothing configured and a ministry configures everything in one file.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from functools import cached_property
from pathlib import Path
from typing import Literal

import pydantic_settings
from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ProviderKind = Literal["local", "openai", "openai-compatible", "azure-openai", "test"]
ModelKind = Literal["chat", "embedding"]

LOCAL_MODEL_NAME = "smollm2-135m"
# Japanese runs at about two tokens a character on small models' vocabularies (SmolLM2: 1.9), fewer on
# large ones: input is budgeted at this rate so that it fits whichever model receives it.
CHARS_PER_TOKEN = 0.5


class ModelSpec(BaseModel):
    """One model offered to users: a display name bound to a provider and the vendor's model id.

    ``kind`` says what the model does: a chat model answers in the portal and ``/v1/chat/completions``;
    an embedding model only turns texts into vectors (``/v1/embeddings``, search) and is never offered for chat.
    """

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
    provider: ProviderKind
    kind: ModelKind = "chat"
    model: str = ""
    label: str = ""
    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    api_key_env: str | None = None
    api_version: str | None = None
    context_window: int = Field(default=2048, ge=256)
    max_output_tokens: int = Field(default=512, ge=1)
    timeout_seconds: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _check_provider_needs(self) -> ModelSpec:
        if self.provider in ("openai-compatible", "azure-openai") and not self.base_url:
            raise ValueError(f"model {self.name!r}: provider {self.provider!r} needs base_url")
        if self.provider == "azure-openai" and not self.api_version:
            raise ValueError(f"model {self.name!r}: provider 'azure-openai' needs api_version")
        if self.provider != "local" and self.provider != "test" and not self.model:
            raise ValueError(f"model {self.name!r}: 'model' (the vendor's model id) is required")
        if self.api_key_env and self.api_key_env not in os.environ:
            raise ValueError(f"model {self.name!r}: environment variable {self.api_key_env} is not set")
        return self

    def prompt_chars(self, reserved_tokens: int = 0) -> int:
        """Characters of input that fit the context window beside the answer and ``reserved_tokens``.

        An estimate on the safe side (``CHARS_PER_TOKEN``): the exact count needs the model's tokenizer.
        """
        return max(0, int((self.context_window - self.max_output_tokens - reserved_tokens) * CHARS_PER_TOKEN))

    def resolved_api_key(self) -> str | None:
        """The secret itself, read from the environment when only its variable name was configured."""
        if self.api_key:
            return self.api_key
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        return None


def _default_models() -> list[ModelSpec]:
    return [ModelSpec(name=LOCAL_MODEL_NAME, provider="local", label="SmolLM2 135M (内蔵)", context_window=8192)]


class ClaimNames(BaseModel):
    """Which ID-token claims carry what; identity providers name them differently (Entra ID: ``oid``, …)."""

    subject: str = "sub"
    email: str = "email"
    name: str = "name"
    organisation: str = "organization"
    groups: str = "groups"


class GroupRule(BaseModel):
    """One identity-provider group granting a team membership (by team code) and/or a global role."""

    group: str = Field(min_length=1)
    team: str | None = None
    team_role: Literal["member", "admin"] = "member"
    role: Literal["auditor", "system_admin"] | None = None

    @model_validator(mode="after")
    def _grants_something(self) -> GroupRule:
        if self.team is None and self.role is None:
            raise ValueError(f"group rule {self.group!r} grants nothing: give 'team' or 'role'")
        return self


class IdentityProvider(BaseModel):
    """What every identity provider has, OIDC or SAML: the mapping from its claims to users, teams and roles."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    label: str = ""
    claims: ClaimNames = Field(default_factory=ClaimNames)
    groups: list[GroupRule] = Field(default_factory=list)
    allowed_domains: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _normalise_domains(self) -> IdentityProvider:
        self.allowed_domains = [domain.lower().lstrip("@") for domain in self.allowed_domains]
        return self


class OidcProvider(IdentityProvider):
    """An OpenID Connect identity provider users sign in with at ``/auth/login/{name}``."""

    issuer: str = Field(pattern=r"^https?://")
    client_id: str = Field(min_length=1)
    client_secret: str | None = Field(default=None, repr=False)
    client_secret_env: str | None = None
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])

    @model_validator(mode="after")
    def _check(self) -> OidcProvider:
        if "openid" not in self.scopes:
            raise ValueError(f"oidc provider {self.name!r}: scopes must include 'openid'")
        if self.client_secret_env and self.client_secret_env not in os.environ:
            raise ValueError(f"oidc provider {self.name!r}: environment variable {self.client_secret_env} is not set")
        return self

    def resolved_client_secret(self) -> str | None:
        return self.client_secret or (os.environ.get(self.client_secret_env) if self.client_secret_env else None)


SAML_NAME_ID = "name_id"


class SamlClaimNames(ClaimNames):
    """SAML attribute names; the subject is the assertion's NameID unless an attribute is named."""

    subject: str = SAML_NAME_ID
    email: str = "mail"
    name: str = "displayName"


class SamlProvider(IdentityProvider):
    """A SAML 2.0 identity provider users sign in with at ``/auth/saml/{name}/login``."""

    idp_metadata: str = Field(min_length=1)  # a file path, or the metadata XML itself
    sp_entity_id: str = Field(min_length=1)
    claims: SamlClaimNames = Field(default_factory=SamlClaimNames)
    sp_key_file: Path | None = None
    sp_cert_file: Path | None = None

    @model_validator(mode="after")
    def _check(self) -> SamlProvider:
        if not self.idp_metadata.lstrip().startswith("<") and not Path(self.idp_metadata).is_file():
            raise ValueError(f"saml provider {self.name!r}: idp_metadata is neither XML nor an existing file")
        if (self.sp_key_file is None) != (self.sp_cert_file is None):
            raise ValueError(f"saml provider {self.name!r}: give both sp_key_file and sp_cert_file, or neither")
        if shutil.which("xmlsec1") is None:  # pysaml2 signs and verifies with it
            raise ValueError(f"saml provider {self.name!r}: the xmlsec1 program is missing (apt-get install xmlsec1)")
        return self


class Settings(BaseSettings):
    """Every setting gennai reads; see docs/configuration.md for each one."""

    model_config = SettingsConfigDict(env_prefix="GENNAI_", extra="forbid", env_nested_delimiter="__")

    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)
    models: list[ModelSpec] = Field(default_factory=_default_models, min_length=1)
    default_model: str | None = None
    max_message_chars: int = Field(default=20_000, ge=1)
    max_conversation_messages: int = Field(default=200, ge=2)
    language: Literal["ja", "en"] = "ja"
    legal_sample: bool = True
    legal_embedding_model: str | None = None  # an embedding model of ``models``: legal search by meaning too
    legal_embedding_weight: float = Field(default=1.0, gt=0, le=10)  # its ranking's share against the text's
    oidc_providers: list[OidcProvider] = Field(default_factory=list)
    saml_providers: list[SamlProvider] = Field(default_factory=list)
    scim_token: str | None = Field(default=None, repr=False, min_length=32)
    session_idle_minutes: int = Field(default=120, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    reauthenticate_days: int = Field(default=7, ge=1)

    @model_validator(mode="after")
    def _check_models(self) -> Settings:
        names = [m.name for m in self.models]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"model names must be unique; repeated: {', '.join(sorted(duplicates))}")
        if self.default_model is not None and self.default_model not in names:
            raise ValueError(f"default_model {self.default_model!r} is not one of the configured models")
        kinds = {m.name: m.kind for m in self.models}
        if "chat" not in kinds.values():
            raise ValueError("models: at least one model must be a chat model (kind 'chat')")
        if self.default_model is not None and kinds[self.default_model] != "chat":
            raise ValueError(f"default_model {self.default_model!r} is an embedding model; it must be a chat model")
        if self.legal_embedding_model is not None and kinds.get(self.legal_embedding_model) != "embedding":
            raise ValueError(
                f"legal_embedding_model {self.legal_embedding_model!r} must name a configured model of kind 'embedding'"
            )
        providers = [p.name for p in [*self.oidc_providers, *self.saml_providers]]
        if len(set(providers)) != len(providers):
            raise ValueError("oidc_providers, saml_providers: provider names must be unique across both")
        if self.database_url and not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = config_file_path()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gennai.db').resolve()}"

    @property
    def sign_in_required(self) -> bool:
        """With an identity provider configured, gennai serves many users and every page needs sign-in."""
        return bool(self.oidc_providers or self.saml_providers)

    @property
    def effective_default_model(self) -> str:
        """The configured default, else the first chat model (the validator ensures there is one)."""
        return self.default_model or next(m.name for m in self.models if m.kind == "chat")

    @cached_property
    def effective_secret_key(self) -> str:
        """The signing key for cookies; generated once into the data dir when not configured."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def config_file_path() -> Path | None:
    """The TOML file to read: ``GENNAI_CONFIG`` when set (it must exist), else ./gennai.toml if present."""
    configured = os.environ.get("GENNAI_CONFIG")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise SettingsError(f"GENNAI_CONFIG: file not found: {path}")
        return path
    default = Path("gennai.toml")
    return default if default.is_file() else None


class SettingsError(Exception):
    """Settings that cannot be used; the message names the offending setting."""


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per problem, naming the setting as a deployer would write it."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        name = "GENNAI_" + location[0].upper() if location else "settings"
        if len(location) > 1:
            name += "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in location[1:])
        lines.append(f"invalid setting {name}: {problem['msg']}")
    return "\n".join(lines)


NON_FIELD_VARIABLES = frozenset({"GENNAI_CONFIG"})


def _unknown_variables() -> list[str]:
    """GENNAI_* variables that no setting reads: almost always a typo that would silently do nothing."""
    known = {f"GENNAI_{name.upper()}" for name in Settings.model_fields} | NON_FIELD_VARIABLES
    return sorted(
        name
        for name in os.environ
        if name.startswith("GENNAI_") and name.split("__", 1)[0] not in known and not name.startswith("GENNAI_TEST_")
    )


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise SettingsError with a message fit for a terminal."""
    unknown = _unknown_variables()
    if unknown:
        raise SettingsError(f"unknown setting {', '.join(unknown)}: no such setting (see docs/configuration.md)")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
    except pydantic_settings.SettingsError as error:
        # Raised when a complex value (such as GENNAI_MODELS) is not valid JSON.
        field_name = re.search(r'field "(\w+)"', str(error))
        name = f"GENNAI_{field_name.group(1).upper()}" if field_name else "settings"
        raise SettingsError(f"invalid setting {name}: not valid JSON ({error.__cause__ or error})") from None
