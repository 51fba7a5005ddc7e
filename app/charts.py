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
    values = [float(r.get(value) or 0.0) for r in rows]
    extent = max([abs(v) for v in values] + [1.0])
    frame = _Frame(len(rows), extent)
    out = frame.open(title)
    bar_h, gap, left, top, zero, scale = BAR_H, GAP, LEFT, TOP, frame.zero, frame.scale
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
    return frame.close(out)


BAR_H, GAP, LEFT, RIGHT, TOP, WIDTH = 16, 4, 190, 90, 34, 820


def _svg_open(
    width: float, height: float, title: str, *, font_size: int, title_x: float
) -> list[str]:
    """The start of a chart: the svg element (its title for screen readers) and the title."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}" '
        f'font-family="Segoe UI, Roboto, Arial, sans-serif" font-size="{font_size}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{title_x}" y="16" font-weight="600" font-size="14">{escape(title)}</text>',
    ]


class _Frame:
    """The frame of a horizontal chart around zero: rows of bars, tekort left, overschot right."""

    def __init__(self, n_rows: int, extent: float):
        plot_w = WIDTH - LEFT - RIGHT
        self.zero = LEFT + plot_w / 2
        self.scale = plot_w / (2 * extent)
        self.height = TOP + n_rows * (BAR_H + GAP) + 30

    def open(self, title: str) -> list[str]:
        """The svg element, its title and the zero line."""
        return [
            *_svg_open(WIDTH, self.height, title, font_size=12, title_x=LEFT),
            f'<line x1="{self.zero:.1f}" y1="{TOP - 6}" x2="{self.zero:.1f}" '
            f'y2="{self.height - 24}" stroke="#555" stroke-width="1"/>',
        ]

    def close(self, out: list[str]) -> str:
        """The axis words and the end of the svg."""
        axis_y = self.height - 8
        out.append(f'<text x="{LEFT}" y="{axis_y}" fill="#b71c1c">◀ tekort</text>')
        out.append(
            f'<text x="{WIDTH - RIGHT}" y="{axis_y}" text-anchor="end" '
            'fill="#1b5e20">overschot ▶</text>'
        )
        out.append("</svg>")
        return "\n".join(out)


def interval_bars(rows: list[dict], title: str = "") -> str:
    """Per row the band p10–p90 of a figure around zero with a tick at p50 (an ensemble).

    Parameters
    ----------
    rows
        Dicts with ``naam`` and ``p10``, ``p50``, ``p90``, drawn in the given order.
    title
        Title above the chart.
    """
    extent = max([abs(float(r[k])) for r in rows for k in ("p10", "p90")] + [1.0])
    frame = _Frame(len(rows), extent)
    out = frame.open(title)
    for i, row in enumerate(rows):
        y = TOP + i * (BAR_H + GAP)
        lo, mid, hi = (frame.zero + float(row[k]) * frame.scale for k in ("p10", "p50", "p90"))
        colour = "#c62828" if float(row["p50"]) < 0 else "#2e7d32"
        label = escape(str(row.get("naam", "")))
        band = f"p10 {getal(row['p10'], 1)} – p90 {getal(row['p90'], 1)} ha, p50 {getal(row['p50'], 1)}"
        out.append(f'<text x="{LEFT - 8}" y="{y + BAR_H - 4}" text-anchor="end">{label}</text>')
        out.append(
            f'<rect x="{lo:.1f}" y="{y + 3}" width="{max(hi - lo, 0.5):.1f}" '
            f'height="{BAR_H - 6}" fill="{colour}" fill-opacity="0.35"><title>{label}: '
            f"{escape(band)}</title></rect>"
        )
        out.append(
            f'<line x1="{mid:.1f}" y1="{y}" x2="{mid:.1f}" y2="{y + BAR_H}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        tx, anchor = (frame.zero + 4, "start") if float(row["p50"]) < 0 else (frame.zero - 4, "end")
        out.append(
            f'<text x="{tx:.1f}" y="{y + BAR_H - 4}" text-anchor="{anchor}" fill="#333">'
            f"{getal(row['p50'], 1)} ha</text>"
        )
    return frame.close(out)


PANEL_W, PANEL_H, PANEL_COLS, PANEL_TOP = 200, 156, 4, 44
DEMAND_COLOUR, SUPPLY_COLOUR, SHORT_COLOUR = "#1a237e", "#2e7d32", "#c62828"


def milestone_panels(places: list[dict], title: str = "") -> str:
    """Small multiples: per place (gemeente) its demand and available supply at each
    milestone, supply as a step (it stays available), the milestones with a tekort marked.

    Parameters
    ----------
    places
        Dicts with ``naam``, ``first_shortage`` (a year or None) and ``milestones``: dicts
        with ``year``, ``demand_ha`` and ``supply_ha``, in year order. Drawn in the given order.
    title
        Title above the chart.
    """
    cols = max(1, min(PANEL_COLS, len(places)))
    rows = (len(places) + cols - 1) // cols
    width, height = cols * PANEL_W, PANEL_TOP + rows * PANEL_H
    out = [
        *_svg_open(width, height, title, font_size=11, title_x=4),
        f'<line x1="4" y1="32" x2="24" y2="32" stroke="{DEMAND_COLOUR}" stroke-width="2"/>'
        '<text x="28" y="36">ruimtevraag</text>'
        f'<line x1="110" y1="32" x2="130" y2="32" stroke="{SUPPLY_COLOUR}" stroke-width="2" '
        'stroke-dasharray="4 2"/><text x="134" y="36">beschikbaar aanbod</text>'
        f'<circle cx="262" cy="32" r="4" fill="{SHORT_COLOUR}"/><text x="270" y="36">tekort</text>',
    ]
    for n, place in enumerate(places):
        x0 = (n % cols) * PANEL_W
        y0 = PANEL_TOP + (n // cols) * PANEL_H
        out.extend(_panel(place, x0, y0))
    out.append("</svg>")
    return "\n".join(out)


def _panel(place: dict, x0: float, y0: float) -> list[str]:
    """One small chart of :func:`milestone_panels` at (``x0``, ``y0``)."""
    ms = place["milestones"]
    left, right, top, bottom = x0 + 44, x0 + PANEL_W - 20, y0 + 38, y0 + PANEL_H - 26
    years = [int(m["year"]) for m in ms]
    demand = [float(m["demand_ha"] or 0.0) for m in ms]
    supply = [float(m["supply_ha"] or 0.0) for m in ms]
    top_value = max([*demand, *supply, 1.0])
    span = (years[-1] - years[0]) or 1

    def x(year: int) -> float:
        return left + (right - left) * ((year - years[0]) / span if len(years) > 1 else 0.5)

    def y(value: float) -> float:
        return bottom - (bottom - top) * max(value, 0.0) / top_value

    first = place.get("first_shortage")
    raw_name = str(place.get("naam", ""))
    name = escape(raw_name)
    caption = f"eerste tekort {first}" if first is not None else "geen tekort"
    out = [
        f'<text x="{x0 + 4}" y="{y0 + 12}" font-weight="600">{name}</text>',
        f'<text x="{x0 + 4}" y="{y0 + 25}" '
        f'fill="{SHORT_COLOUR if first is not None else "#555"}">{escape(caption)}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" fill="#555">'
        f"{getal(top_value, 0)}</text>",
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" fill="#555">0 ha</text>',
    ]
    for year in years:
        out.append(
            f'<text x="{x(year):.1f}" y="{bottom + 13}" text-anchor="middle" fill="#555">'
            f"{year}</text>"
        )
    step = []
    for i, (year, value) in enumerate(zip(years, supply, strict=True)):
        if i:
            step.append(f"{x(year):.1f},{y(supply[i - 1]):.1f}")
        step.append(f"{x(year):.1f},{y(value):.1f}")
    line = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in zip(years, demand, strict=True))
    out.append(
        f'<polyline points="{" ".join(step)}" fill="none" stroke="{SUPPLY_COLOUR}" '
        'stroke-width="2" stroke-dasharray="4 2"/>'
    )
    out.append(f'<polyline points="{line}" fill="none" stroke="{DEMAND_COLOUR}" stroke-width="2"/>')
    for year, d, s in zip(years, demand, supply, strict=True):
        tip = escape(f"{raw_name} {year}: vraag {getal(d, 1)} ha, aanbod {getal(s, 1)} ha")
        short = s - d < 0
        out.append(
            f'<circle cx="{x(year):.1f}" cy="{y(d):.1f}" r="{4 if short else 2.5}" '
            f'fill="{SHORT_COLOUR if short else DEMAND_COLOUR}"><title>{tip}</title></circle>'
        )
    return out
