"""Everything a request may need, built once at start-up and shared by every route."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gennai.apps.legal.service import LegalResearch
from gennai.chat.service import Chats
from gennai.config import Settings
from gennai.gateway.registry import ModelRegistry
from gennai.gateway.service import Gateway
from gennai.guard.policy import Guard
from gennai.identity.service import Identity


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    models: ModelRegistry
    gateway: Gateway
    guard: Guard
    chats: Chats
    templates: Jinja2Templates
    legal: LegalResearch
    identity: Identity | None = None
    local_user_id: uuid.UUID | None = None

    @property
    def local_mode(self) -> bool:
        """Single-user mode: no identity provider is configured, so the one local user is everyone."""
        return self.local_user_id is not None
