"""Rendering portal pages: one helper puts language, CSRF token, models and mode into every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.requests import Request

from gennai import __version__
from gennai.web.deps import csrf_token, get_services
from gennai.web.i18n import request_language, translate

TEMPLATES = Path(__file__).parent / "templates"


def create_templates(extra_dir: Path | None = None) -> Jinja2Templates:
    """Templates, with a deployer's own folder searched first so a page can be overridden without forking."""
    directories = [str(extra_dir)] if extra_dir is not None and extra_dir.is_dir() else []
    return Jinja2Templates(directory=[*directories, str(TEMPLATES)])


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    services = get_services(request)
    language = request_language(request, services.settings.language)
    page = {
        "request": request,
        "lang": language,
        "t": lambda key: translate(language, key),
        "csrf_token": csrf_token(request),
        "local_mode": services.local_mode,
        "models": services.models.catalogue(),
        "version": __version__,
        **context,
    }
    return services.templates.TemplateResponse(request, template, page, status_code=status_code)
