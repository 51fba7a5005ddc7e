"""Result tables: the rows of a run as CSV, and the difference between two runs.

Pure functions on result dicts (the JSON a run stores).
"""

from __future__ import annotations

import csv
import io
from typing import Any

#: Columns of the CSV table, in order; category and source columns follow where present.
BASE_COLUMNS = (
    "niveau",
    "statcode",
    "naam",
    "regio",
    "basis",
    "current_ha",
    "current_bruto_ha",
    "current_netto_ha",
    "current_uitgegeven_ha",
    "current_uitgeefbaar_ha",
    "hmc_current_ha",
    "hmc_bruto_ha",
    "hmc_netto_ha",
    "terreinen",
    "demand_ha",
    "hmc_demand_ha",
    "growth_demand_ha",
    "claims_demand_ha",
)
TAIL_COLUMNS = (
    "supply_ha",
    "hmc_supply_ha",
    "balance_ha",
    "uncovered_ha",
    "hmc_uncovered_ha",
    "other_uncovered_ha",
    "allocated_ha",
    "hmc_allocated_ha",
    "other_allocated_ha",
    "allocated_cells",
    "allocated_cells_ha",
    "unmet_ha",
    "hmc_unmet_ha",
    "coverage",
    "status",
    "conflicts",
    "conflicts_overlap_ha",
    "hmc_benutting_pct",
)
#: Figures compared between runs.
COMPARED = (
    "current_ha",
    "demand_ha",
    "hmc_demand_ha",
    "supply_ha",
    "hmc_supply_ha",
    "balance_ha",
    "uncovered_ha",
    "allocated_ha",
    "hmc_allocated_ha",
    "unmet_ha",
    "conflicts_overlap_ha",
)


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows): every gemeente, then the regions, then the province totals."""
    rows = [{"niveau": "gemeente", **r} for r in result.get("per_gemeente", [])]
    for region in result.get("regions", []):
        rows.append({"niveau": "regio", "statcode": None, "naam": region.get("region"), **region})
    rows.append({"niveau": "provincie", **result["totals"]})
    dynamic = sorted(
        {
            k
            for r in rows
            for k in r
            if (k.startswith("demand_") or k.startswith("supply_")) and k.endswith("_ha")
        }
        - set(BASE_COLUMNS)
        - set(TAIL_COLUMNS)
    )
    demand_cols = [c for c in dynamic if c.startswith("demand_")]
    supply_cols = [c for c in dynamic if c.startswith("supply_")]
    columns = [*BASE_COLUMNS, *demand_cols, *TAIL_COLUMNS[:2], *supply_cols, *TAIL_COLUMNS[2:]]
    return columns, rows


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "" if value is None else value


def result_csv(result: dict[str, Any]) -> str:
    """The result table as CSV text (comma separated, ha with 4 decimals, a header row)."""
    columns, rows = table_rows(result)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _diff(a: Any, b: Any) -> float | None:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(b) - float(a)
    return None


def compare_results(a: dict[str, Any], b: dict[str, Any], a_id: int, b_id: int) -> dict[str, Any]:
    """Difference (B − A) per gemeente and for the totals, for the figures in :data:`COMPARED`.

    Gemeenten present in only one run get None for the other side.
    """
    rows_a = {r["statcode"]: r for r in a.get("per_gemeente", [])}
    rows_b = {r["statcode"]: r for r in b.get("per_gemeente", [])}
    rows = []
    for code in sorted(set(rows_a) | set(rows_b)):
        ra, rb = rows_a.get(code, {}), rows_b.get(code, {})
        row: dict[str, Any] = {"statcode": code, "naam": (rb or ra).get("naam")}
        for fig in COMPARED:
            row[f"{fig}_a"] = ra.get(fig)
            row[f"{fig}_b"] = rb.get(fig)
            row[f"{fig}_diff"] = _diff(ra.get(fig), rb.get(fig))
        row["status_a"], row["status_b"] = ra.get("status"), rb.get("status")
        rows.append(row)
    ta, tb = a["totals"], b["totals"]
    totals: dict[str, Any] = {"statcode": tb.get("statcode"), "naam": tb.get("naam")}
    for fig in COMPARED:
        totals[f"{fig}_a"], totals[f"{fig}_b"] = ta.get(fig), tb.get(fig)
        totals[f"{fig}_diff"] = _diff(ta.get(fig), tb.get(fig))
    totals["status_a"], totals["status_b"] = ta.get("status"), tb.get("status")
    return {
        "a": {"run": a_id, "spec": a.get("spec"), "basis": a.get("basis")},
        "b": {"run": b_id, "spec": b.get("spec"), "basis": b.get("basis")},
        "figures": list(COMPARED),
        "per_gemeente": rows,
        "totals": totals,
    }
