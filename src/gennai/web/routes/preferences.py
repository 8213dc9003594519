"""Choosing the interface language; kept in a cookie so it works before and after sign-in."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from gennai.web.i18n import COOKIE, LANGUAGES

router = APIRouter()


@router.get("/lang/{language}")
async def choose_language(language: str, request: Request) -> RedirectResponse:
    referer = urlsplit(request.headers.get("referer", "/"))
    back = referer.path or "/"
    if referer.netloc and referer.netloc != request.url.netloc:
        back = "/"
    response = RedirectResponse(back, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response
