"""Small inline SVG charts for the documents (no JavaScript, no external files).

Amounts are Decimal; only the drawing geometry is converted to float, after all money
arithmetic is done. Labels are escaped: service and tenant names may be hostile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from unicodedata import east_asian_width

from markupsafe import Markup, escape

PALETTE = ("#1f4e79", "#2e86ab", "#f18f01", "#c73e1d", "#6a994e", "#8e7dbe", "#577590", "#bc6c25")


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _text_width(text: str) -> float:
    """Roughly how wide ``text`` is at 7 pt: a CJK character is a full em, others about 0.62
    of one (Noto Sans), so a Japanese legend entry does not run into the next."""
    return sum(7.2 if east_asian_width(c) in "WF" else 4.4 for c in text)


def _legend(series: Sequence[str], y: float, width: float) -> list[str]:
    parts: list[str] = []
    x = 0.0
    for i, name in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="8" height="8" fill="{color}"/>')
        parts.append(f'<text x="{_fmt(x + 11)}" y="{_fmt(y + 7.5)}">{escape(name)}</text>')
        x += 16 + _text_width(name)
        if x > width - 60:
            x, y = 0.0, y + 12
    return parts


def _stack(
    amounts: dict[str, Decimal],
    series: Sequence[str],
    x: float,
    base: float,
    w: float,
    scale: float,
) -> list[str]:
    """One day's bar: a rect per series, stacked upwards from ``base``."""
    parts, y = [], base
    for index, name in enumerate(series):
        amount = amounts.get(name, Decimal(0))
        if amount <= 0:
            continue
        h = float(amount) / scale * (base - 10)
        y -= h
        parts.append(
            f'<rect x="{_fmt(x + 0.6)}" y="{_fmt(y)}" width="{_fmt(max(w - 1.2, 0.5))}" '
            f'height="{_fmt(h)}" fill="{PALETTE[index % len(PALETTE)]}"/>'
        )
    return parts


def daily_stacked_bars(
    points: Sequence[tuple[date, str, Decimal]],
    first: date,
    last: date,
    *,
    width: float = 520,
    height: float = 150,
    title: str = "",
    axis: Callable[[Decimal], str] | None = None,
) -> Markup:
    """Stacked bars of amount per day and series over ``[first, last]`` (both inclusive).
    ``axis`` writes the peak's label on the value axis (money with its currency on the
    documents); plain two decimals without it."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    series = sorted({name for _, name, _ in points})
    by_day: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for day, name, amount in points:
        by_day[day][name] = by_day[day].get(name, Decimal(0)) + amount
    peak = max((sum(v.values(), Decimal(0)) for v in by_day.values()), default=Decimal(0))
    scale = float(peak) if peak > 0 else 1.0
    peak_label = axis(peak) if axis else f"{peak:.2f}"
    zero_label = axis(Decimal(0)) if axis else "0"
    # the value labels sit left of the plot: room for the longest (7 pt, ~4.3 pt a character)
    left, plot_h = max(34.0, _text_width(peak_label) + 4), height - 18
    bar_w = (width - left) / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_fmt(width)}" '
        f'height="{_fmt(height + 14 + 12 * (len(series) // 5))}" font-size="7" '
        'fill="#444" font-family="Noto Sans, Noto Sans CJK JP, DejaVu Sans, sans-serif" role="img">'
        f"<title>{escape(title)}</title>",
        f'<line x1="{_fmt(left)}" y1="{_fmt(plot_h)}" x2="{_fmt(width)}" y2="{_fmt(plot_h)}" '
        'stroke="#999" stroke-width="0.5"/>',
        f'<text x="0" y="8">{escape(peak_label)}</text>',
        f'<text x="0" y="{_fmt(plot_h)}">{escape(zero_label)}</text>',
    ]
    for i, day in enumerate(days):
        x = left + i * bar_w
        parts.extend(_stack(by_day.get(day, {}), series, x, plot_h, bar_w, scale))
        if i % 5 == 0 or i == len(days) - 1:
            parts.append(f'<text x="{_fmt(x)}" y="{_fmt(plot_h + 9)}">{day.day}</text>')
    parts.extend(_legend(series, height + 2, width))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above went through escape()


def horizontal_bars(
    items: Sequence[tuple[str, Decimal]], *, width: float = 520, title: str = ""
) -> Markup:
    """One labelled bar per item (e.g. cores per product), scaled to the largest."""
    peak = max((v for _, v in items), default=Decimal(0))
    scale = float(peak) if peak > 0 else 1.0
    row_h, label_w = 14.0, 150.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_fmt(width)}" '
        f'height="{_fmt(row_h * len(items) + 4)}" font-size="7" fill="#444" role="img">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (label, value) in enumerate(items):
        y = i * row_h + 2
        w = float(value) / scale * (width - label_w - 60)
        parts.append(f'<text x="0" y="{_fmt(y + 9)}">{escape(label)}</text>')
        parts.append(
            f'<rect x="{_fmt(label_w)}" y="{_fmt(y)}" width="{_fmt(max(w, 0.5))}" height="10" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        parts.append(
            f'<text x="{_fmt(label_w + w + 4)}" y="{_fmt(y + 9)}">{escape(str(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above went through escape()
