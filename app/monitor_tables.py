"""The tables of a monitor edition as rows, ``.csv`` and ``.xlsx``.

In the spreadsheet every figure is a number cell whose number format is Dutch (locale tag
``[$-413]``, nl-NL: thousands ``.``, decimals ``,``), never text; the CSV is for programs
(comma separated, full precision, a header row), like the run tables.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from scenarios.monitor import INDICATORS, MonitorConfig

GEMEENTE_COLUMNS = (
    ("reserveringen_hard_ha", "Reserveringen hard (ha)", 1),
    ("reserveringen_zacht_ha", "Reserveringen zacht (ha)", 1),
    ("reserveringen_n", "Reserveringen (aantal)", 0),
    ("strategische_locaties_ha", "Strategische locaties capaciteit (ha)", 1),
    ("hmc_netto_ha", "HMC-terreinen netto (ha)", 1),
    ("hmc_benutting_pct", "HMC-benutting (%)", 1),
)


def indicator_rows(config: MonitorConfig, series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per indicator and peildatum."""
    return [
        {
            "peildatum": s["peildatum"],
            "indicator": key,
            "label": config.indicators[key].label,
            "eenheid": config.indicators[key].unit,
            "waarde": s["indicators"].get(key),
            "decimals": config.indicators[key].decimals,
        }
        for s in series
        for key in INDICATORS
    ]


def gemeente_rows(series: list[dict[str, Any]], statcode: str | None = None) -> list[dict]:
    """One row per peildatum and gemeente (only ``statcode`` when given)."""
    return [
        {"peildatum": s["peildatum"], **row}
        for s in series
        for row in s["per_gemeente"]
        if statcode is None or row["statcode"] == statcode
    ]


def edition_csv(config: MonitorConfig, series: list[dict[str, Any]]) -> str:
    """Indicators per peildatum, then the figures per gemeente, as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["tabel", "peildatum", "statcode", "naam", "indicator", "eenheid", "waarde"])
    for r in indicator_rows(config, series):
        writer.writerow(
            ["indicatoren", r["peildatum"], "", "", r["indicator"], r["eenheid"], _v(r["waarde"])]
        )
    for r in gemeente_rows(series):
        for key, label, _ in GEMEENTE_COLUMNS:
            writer.writerow(
                ["gemeenten", r["peildatum"], r["statcode"], r["naam"], key, label, _v(r[key])]
            )
    return buffer.getvalue()


def _v(value: Any) -> str:
    return "" if value is None else repr(float(value)) if isinstance(value, float) else str(value)


def dutch_format(decimals: int) -> str:
    """An Excel number format with ``decimals`` decimals, shown in Dutch (nl-NL)."""
    return "[$-413]#,##0" + ("." + "0" * decimals if decimals else "")


def edition_xlsx(
    config: MonitorConfig,
    series: list[dict[str, Any]],
    milestones: list[dict[str, Any]],
    provenance: list[tuple[str, str]],
    statcode: str | None = None,
) -> bytes:
    """The edition's tables as a workbook: indicators, gemeenten, milestones, provenance."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    bold = Font(bold=True)
    ws = wb.active
    ws.title = "Indicatoren"
    days = [s["peildatum"] for s in series]
    ws.append(["Indicator", "Eenheid", *days])
    for key in INDICATORS:
        ind = config.indicators[key]
        ws.append([ind.label, ind.unit, *(s["indicators"].get(key) for s in series)])
        for cell in ws[ws.max_row][2:]:
            cell.number_format = dutch_format(ind.decimals)
    gs = wb.create_sheet("Gemeenten")
    gs.append(["Peildatum", "Code", "Gemeente", *(label for _, label, _ in GEMEENTE_COLUMNS)])
    for r in gemeente_rows(series, statcode):
        gs.append(
            [r["peildatum"], r["statcode"], r["naam"], *(r[k] for k, _, _ in GEMEENTE_COLUMNS)]
        )
        for cell, (_, _, decimals) in zip(gs[gs.max_row][3:], GEMEENTE_COLUMNS, strict=True):
            cell.number_format = dutch_format(decimals)
    ms = wb.create_sheet("Mijlpalen")
    ms.append(["Mijlpaal", "Jaar", "Doel", "Waarde", "Status", "Reden"])
    for m in milestones:
        decimals = config.indicators[m["indicator"]].decimals
        ms.append([m["title"], m["year"], m["target"], m["value"], m["status"], m["reason"]])
        for cell in ms[ms.max_row][2:4]:
            cell.number_format = dutch_format(decimals)
    ps = wb.create_sheet("Herkomst")
    for key, value in provenance:
        ps.append([key, value])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = bold
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
