"""Reading a TOML file someone wrote by hand (provider config, rate cards, tenant catalog,
pipelines): every way it can be unreadable is one error naming the file, never an internal
``UnicodeDecodeError`` (a file that is not UTF-8), ``RecursionError`` (arrays nested
thousands deep) or ``ValueError`` (a NUL byte in its path)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

Fail = Callable[[str], Exception]


def read_text(path: Path, fail: Fail) -> str:
    """The file's text; ``fail(problem)`` is raised when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise fail(exc.strerror or type(exc).__name__) from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise fail(str(exc)) from None


def parse(text: str, fail: Fail) -> dict[str, Any]:
    """The TOML document ``text``; ``fail(problem)`` is raised when it is not valid TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"invalid TOML: {exc}") from None
    except RecursionError:
        raise fail("invalid TOML: nested too deeply") from None
