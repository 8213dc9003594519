"""Statute abbreviations (個情法, 地自法, 安衛法) and the official titles they stand for.

Two shipped lists: ``jp_law_aliases.json`` from jlawcite (Apache-2.0) and ``gennai_law_aliases.json``,
our own list of abbreviations common in administrative work. Ours adds and never overrides: an
abbreviation both lists give must name the same statute, or loading fails (a test loads them).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

ALIAS_FILES = ("resources/jp_law_aliases.json", "resources/gennai_law_aliases.json")


class AliasConflictError(ValueError):
    """One abbreviation given for two statutes."""


@cache
def load_aliases() -> dict[str, str]:
    """Abbreviation -> official title, from every shipped list (keys starting with _ are notes)."""
    aliases: dict[str, str] = {}
    for name in ALIAS_FILES:
        raw = json.loads(resources.files("gennai.apps.legal").joinpath(name).read_text("utf-8"))
        for alias, title in raw.items():
            if alias.startswith("_") or not isinstance(title, str):
                continue
            if aliases.setdefault(alias, title) != title:
                raise AliasConflictError(f"{name}: {alias} names {title}, already {aliases[alias]}")
    return aliases


@cache
def alias_index() -> dict[str, tuple[str, ...]]:
    """Official title -> its known abbreviations."""
    index: dict[str, list[str]] = {}
    for alias, title in load_aliases().items():
        index.setdefault(title, []).append(alias)
    return {title: tuple(aliases) for title, aliases in index.items()}
