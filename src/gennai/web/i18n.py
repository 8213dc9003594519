"""Interface text in Japanese (default) and English, from one JSON catalogue per language."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.requests import Request

LANGUAGES = ("ja", "en")
LOCALES = Path(__file__).parent / "locales"
COOKIE = "gennai_lang"


@cache
def catalogue(language: str) -> dict[str, str]:
    return dict(json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8")))


def translate(language: str, key: str) -> str:
    """The text for ``key``; a missing key shows itself, so gaps are visible rather than blank."""
    return catalogue(language).get(key) or catalogue("ja").get(key) or key


def request_language(request: Request, default: str) -> str:
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else default
