"""Small SVG charts for the pages (no plotting library, no external assets)."""

from __future__ import annotations

from html import escape

from app.nl_format import getal


def balance_bars(
    rows: list[dict], value: str = "balance_ha", label: str = "naam", title: str = ""
) -> str:
    """Horizontal bars per row, red for a tekort (negative), green for an overschot.

    Parameters
    ----------
    rows
        Dicts with ``label`` and ``value`` keys, drawn in the given order.
    value, label
        The keys to use.
    title
        Title above the chart.

    Returns
    -------
    str
        An ``<svg>`` element (UTF-8 text) with a ``<title>`` for screen readers.
    """
    bar_h, gap, left, right, top = 16, 4, 190, 90, 34
    width = 820
    values = [float(r.get(value) or 0.0) for r in rows]
    extent = max([abs(v) for v in values] + [1.0])
    plot_w = width - left - right
    zero = left + plot_w * (extent / (2 * extent))
    scale = plot_w / (2 * extent)
    height = top + len(rows) * (bar_h + gap) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" font-family="Segoe UI, Roboto, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-weight="600" font-size="14">{escape(title)}</text>',
        f'<line x1="{zero:.1f}" y1="{top - 6}" x2="{zero:.1f}" y2="{height - 24}" stroke="#555" stroke-width="1"/>',
    ]
    for i, (row, v) in enumerate(zip(rows, values, strict=True)):
        y = top + i * (bar_h + gap)
        w = abs(v) * scale
        x = zero - w if v < 0 else zero
        colour = "#c62828" if v < 0 else "#2e7d32"
        out.append(
            f'<text x="{left - 8}" y="{y + bar_h - 4}" text-anchor="end">{escape(str(row.get(label, "")))}</text>'
        )
        out.append(
            f'<rect x="{x:.1f}" y="{y}" width="{max(w, 0.5):.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        # The value sits on the other side of the zero line, clear of the labels and bars.
        tx = zero + 4 if v < 0 else zero - 4
        anchor = "start" if v < 0 else "end"
        out.append(
            f'<text x="{tx:.1f}" y="{y + bar_h - 4}" text-anchor="{anchor}" fill="#333">{getal(v, 1)} ha</text>'
        )
    axis_y = height - 8
    out.append(f'<text x="{left}" y="{axis_y}" fill="#b71c1c">◀ tekort</text>')
    out.append(
        f'<text x="{width - right}" y="{axis_y}" text-anchor="end" fill="#1b5e20">overschot ▶</text>'
    )
    out.append("</svg>")
    return "\n".join(out)
