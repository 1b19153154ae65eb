"""A signed bar chart (deltas, margins) as inline SVG: bars right of an axis for positive
values, left for negative ones. Amounts are Decimal; only the geometry becomes float."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

POSITIVE, NEGATIVE = "#6a994e", "#c73e1d"


def signed_bars(
    items: Sequence[tuple[str, Decimal]], *, width: float = 520, title: str = ""
) -> Markup:
    """One labelled bar per item, scaled to the largest magnitude; labels are escaped."""
    peak = max((abs(v) for _, v in items), default=Decimal(0))
    scale = float(peak) if peak > 0 else 1.0
    row_h, label_w = 14.0, 170.0
    half = (width - label_w - 40) / 2
    axis = label_w + half
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width:.1f}" '
        f'height="{row_h * len(items) + 4:.1f}" font-size="7" fill="#444" role="img">'
        f"<title>{escape(title)}</title>",
        f'<line x1="{axis:.1f}" y1="0" x2="{axis:.1f}" y2="{row_h * len(items) + 4:.1f}" '
        'stroke="#999" stroke-width="0.5"/>',
    ]
    for i, (label, value) in enumerate(items):
        y = i * row_h + 2
        w = max(abs(float(value)) / scale * (half - 30), 0.5)
        x = axis if value >= 0 else axis - w
        color = POSITIVE if value >= 0 else NEGATIVE
        text_x = axis + w + 3 if value >= 0 else axis - w - 3
        anchor = "start" if value >= 0 else "end"
        parts.append(f'<text x="0" y="{y + 9:.1f}">{escape(label)}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="10" fill="{color}"/>')
        parts.append(
            f'<text x="{text_x:.1f}" y="{y + 9:.1f}" text-anchor="{anchor}">'
            f"{escape(str(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above went through escape()
