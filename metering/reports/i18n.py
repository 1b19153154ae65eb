"""The tenant's language for documents: gettext catalogs under ``reports/locale/``.

Labels are marked in the templates (``{% trans %}``, ``_()``) and in
:mod:`metering.reports.wording`; ``pybabel extract -F pyproject.toml`` collects them into
``reports/locale/messages.pot`` and each language keeps its translations in
``reports/locale/<lang>/LC_MESSAGES/messages.po`` (docs/reports.md, "Languages").

Only the ``.po`` files are kept: they are compiled in memory the first time a process needs a
language (Babel reads and compiles a catalog of a few hundred messages in milliseconds), so a
checkout, an editable install and a plain ``pip install`` all find the same translations with
no build step, and a compiled ``.mo`` can never be older than its ``.po``.

A tenant's catalog ``locale`` (``nl_NL``, ``de_AT``, ``fr_BE``...) picks the catalog of its
exact locale if there is one, else of its language; a language without a catalog reads
English (the msgids). Numbers, money and dates follow the full locale in any case (Babel).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from metering.resources import resource_dir

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


def locale_dir() -> Path:
    """``reports/locale``: the catalog template and one folder per language."""
    return resource_dir("reports") / "locale"


def available() -> tuple[str, ...]:
    """The languages with a catalog (folder names: ``de``, ``ja``, ...), English first."""
    root = locale_dir()
    found = sorted(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *found)


def catalog_for(locale: str) -> str:
    """The catalog a document in ``locale`` reads: the exact locale's, else its language's,
    else English. ``de_AT`` → ``de``; ``it_IT`` (no catalog) → ``en``."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return SOURCE_LANGUAGE
    languages = available()
    for name in (str(parsed), parsed.language):
        if name in languages:
            return name
    return SOURCE_LANGUAGE


@lru_cache(maxsize=16)
def translations(catalog: str) -> NullTranslations:
    """The compiled translations of one catalog (``en``: the msgids themselves)."""
    if catalog == SOURCE_LANGUAGE:
        return NullTranslations()
    path = locale_dir() / catalog / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        messages = read_po(handle, locale=catalog, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
