"""The renderer's own user-agent stylesheet (reports/ua.css) lays documents out exactly as
WeasyPrint's full one does: every word of every page at the same place."""

from __future__ import annotations

import subprocess
from pathlib import Path

from weasyprint import HTML

from metering.close.register import Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.reports import invoice
from metering.reports.render import Renderer
from tests.close.builders import FROZEN_NOW, MONTH, build_month
from tests.reports.test_provider_summary import _summary_html


def _word_boxes(pdf: bytes, path: Path) -> str:
    """Every word with its bounding box on its page (``pdftotext -bbox``)."""
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return out[out.index("<page") :]  # after the head (title and producer metadata)


def test_documents_lay_out_as_with_weasyprints_own_stylesheet(tmp_path):
    config = build_month(tmp_path)
    close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    settings = load_settings(config)
    docs = Register(settings.register_path, config.name).documents("2026-10")
    renderer = Renderer()
    pages = [invoice.html(renderer, d.number, d.issued_at, d.body) for d in docs if d.number]
    pages.append(_summary_html(config))
    for i, html in enumerate(pages):
        ours = renderer.pdf(html)
        reference = HTML(string=html, base_url=str(renderer.templates)).write_pdf(
            stylesheets=[renderer.css], font_config=renderer.fonts
        )
        got = _word_boxes(ours, tmp_path / f"ours-{i}.pdf")
        want = _word_boxes(reference, tmp_path / f"reference-{i}.pdf")
        assert got.count("<word") > 50
        assert got == want, f"document {i} lays out differently with reports/ua.css"
