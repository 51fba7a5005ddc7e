"""SVG charts of the Ruimte monitor, drawn on the server (readable without JavaScript).

Every chart is an ``<svg>`` with a ``<title>`` and the values as text beside the marks, so
that print, PDF and screen readers get the figures too. Labels are escaped.
"""

from __future__ import annotations

from html import escape

from app.nl_format import getal

FONT = 'font-family="Segoe UI, Roboto, Arial, sans-serif" font-size="12"'
SERIES_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a")


def _svg_open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" {FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" font-weight="600" font-size="14">{escape(title)}</text>',
    ]


def line_chart(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    title: str,
    unit: str,
    decimals: int = 1,
) -> str:
    """A line chart of one or more series over ``labels`` (peildata); gaps where None.

    >>> svg = line_chart(["2025", "2026"], [("a", [1.0, 2.5])], title="T", unit="ha")
    >>> svg.startswith("<svg") and "2,5" in svg
    True
    """
    width, left, right, top = 640, 70, 44, 40
    bottom = 40 + 18 * len(series)
    height = 200 + bottom
    values = [v for _, vs in series for v in vs if v is not None]
    high = max(values + [0.0])
    low = min(values + [0.0])
    if high == low:
        high = low + 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    out = _svg_open(width, height, title)
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#555"/>'
    )
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>')
    for v in (low, (low + high) / 2, high):
        out.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#555">'
            f"{getal(v, decimals)}</text>"
        )
        out.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" '
            'stroke="#ddd" stroke-dasharray="3 3"/>'
        )
    for i, label in enumerate(labels):
        out.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    for n, (name, vs) in enumerate(series):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        points = [(x(i), y(v), v) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for px, py, v in points:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}"/>')
            out.append(
                f'<text x="{px:.1f}" y="{py - 8:.1f}" text-anchor="middle" fill="{colour}">'
                f"{getal(v, decimals)}</text>"
            )
        ly = top + plot_h + 30 + n * 18
        out.append(
            f'<rect x="{left}" y="{ly}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + 16}" y="{ly + 10}">{escape(name)} ({escape(unit)})</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def stacked_bars(
    rows: list[tuple[str, list[float | None]]],
    parts: list[str],
    *,
    title: str,
    unit: str,
    decimals: int = 1,
) -> str:
    """Horizontal stacked bars: one row per label, one segment per part (e.g. hard, zacht)."""
    bar_h, gap, left, right, top = 16, 4, 190, 110, 34
    width = 820
    totals = [sum(v or 0.0 for v in vs) for _, vs in rows]
    extent = max(totals + [1.0])
    scale = (width - left - right) / extent
    height = top + len(rows) * (bar_h + gap) + 30
    out = _svg_open(width, height, title)
    for i, ((label, vs), total) in enumerate(zip(rows, totals, strict=True)):
        yy = top + i * (bar_h + gap)
        out.append(
            f'<text x="{left - 8}" y="{yy + bar_h - 4}" text-anchor="end">{escape(label)}</text>'
        )
        xx = float(left)
        for n, v in enumerate(vs):
            w = (v or 0.0) * scale
            if w > 0:
                colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
                out.append(
                    f'<rect x="{xx:.1f}" y="{yy}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
                )
            xx += w
        out.append(
            f'<text x="{xx + 4:.1f}" y="{yy + bar_h - 4}" fill="#333">{getal(total, decimals)} {escape(unit)}</text>'
        )
    for n, part in enumerate(parts):
        lx = left + n * 280
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        out.append(
            f'<rect x="{lx}" y="{height - 20}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{height - 10}">{escape(part)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)
