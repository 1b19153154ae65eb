"""Find the line of a key in a TOML file, so validation errors can name file, key and line.

``tomllib`` gives values but no positions. Pricing files are small and written by people,
so a line scanner that follows ``[table]`` / ``[[array]]`` headers and ``key =`` lines is
enough to point at the right line; when a key is not found the line of its table is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")

KeyPath = Sequence[str | int]


def _norm(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


def locate(text: str, path: KeyPath) -> int:
    """1-based line of ``path`` (e.g. ``("rates", 2, "unit_price")``) in ``text``; 0 if unknown."""
    lines = text.splitlines()
    # Walk the path: each (name, index) pair selects the index-th [[name]] header.
    table_parts: list[str] = []
    start, best = 0, 0
    i = 0
    parts = list(path)
    while i < len(parts):
        part = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if isinstance(part, str) and isinstance(nxt, int):
            table_parts.append(part)
            found = _nth_header(lines, start, ".".join(table_parts), nxt, array=True)
            if found is None:
                return best
            start = best = found + 1
            i += 2
            continue
        if isinstance(part, str):
            key_line = _key_line(lines, start, part)
            if key_line is not None:
                return key_line + 1
            table_parts.append(part)
            header = _nth_header(lines, start, ".".join(table_parts), 0, array=False)
            if header is not None:
                start = best = header + 1
        i += 1
    return best


def _nth_header(lines: list[str], start: int, name: str, n: int, *, array: bool) -> int | None:
    seen = -1
    for index in range(start if not array else 0, len(lines)):
        match = _HEADER.match(lines[index])
        if not match:
            continue
        is_array = match.group(1) == "[["
        if _norm(match.group(2)) == name and is_array == array:
            seen += 1
            if seen == n:
                return index
    return None


def _key_line(lines: list[str], start: int, key: str) -> int | None:
    """The line of ``key =`` in the table that begins at ``start`` (before the next header)."""
    for index in range(start, len(lines)):
        if _HEADER.match(lines[index]):
            return None
        match = _KEY.match(lines[index])
        if match and _norm(match.group(1)) == key:
            return index
    return None
