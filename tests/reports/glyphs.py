"""Which characters of a rendered PDF have no glyph (they print as a box, "□").

WeasyPrint embeds each font as a Type 0 font with Identity-H encoding, so a character code
in the page is the glyph id in the embedded font (``CIDToGIDMap /Identity``), and the font's
``ToUnicode`` map says which character each glyph id stands for. A character that no
installed font covers is still written and still extractable as text (pdftotext shows it),
but with a glyph id the embedded font does not have, or 0 (``.notdef``): it prints as a box.
So: every glyph id the ``ToUnicode`` maps must be a real glyph of the embedded font.
"""

from __future__ import annotations

import io
import re

from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from pypdf import PdfReader

_BFCHAR = re.compile(r"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(r"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(r"<([0-9a-fA-F]+)>")


def _text(hex_utf16: str) -> str:
    return bytes.fromhex(hex_utf16).decode("utf-16-be", errors="replace")


def _to_unicode(cmap: str) -> dict[int, str]:
    """Glyph id → text from a ToUnicode CMap (bfchar and bfrange entries)."""
    found: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        codes = _HEX.findall(block)
        for gid, text in zip(codes[::2], codes[1::2], strict=True):
            found[int(gid, 16)] = _text(text)
    for block in _BFRANGE.findall(cmap):
        for line in block.strip().splitlines():
            codes = _HEX.findall(line)
            if len(codes) == 3:
                low, high, start = int(codes[0], 16), int(codes[1], 16), int(codes[2], 16)
                for offset in range(high - low + 1):
                    found[low + offset] = chr(start + offset)
    return found


def _glyph_count(descriptor: object) -> int:
    """Glyphs in the embedded font program (TrueType, OpenType or bare CFF)."""
    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        if key in descriptor:  # type: ignore[operator]
            data = descriptor[key].get_object().get_data()  # type: ignore[index]
            try:
                return len(TTFont(io.BytesIO(data), lazy=True).getGlyphOrder())
            except Exception:  # a bare CFF table (FontFile3 /CIDFontType0C)
                cff = CFFFontSet()
                cff.decompile(io.BytesIO(data), None)
                return len(cff[cff.fontNames[0]].CharStrings)
    raise AssertionError("a font is not embedded")


def missing_glyphs(pdf: bytes) -> set[str]:
    """The characters of ``pdf`` that print as a box (no glyph in the font used for them)."""
    missing: set[str] = set()
    seen: set[int] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            if id(font) in seen or "/ToUnicode" not in font:
                continue
            seen.add(id(font))
            descendant = font["/DescendantFonts"][0].get_object()
            count = _glyph_count(descendant["/FontDescriptor"].get_object())
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            for gid, text in _to_unicode(cmap).items():
                if (gid == 0 or gid >= count) and text.strip():
                    missing.add(text)
    return missing
