"""Result tables: the rows of a run as CSV, and the difference between two runs.

Pure functions on typed results (:class:`scenarios.result.RunResult`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from scenarios.result import Figures, RunResult

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


def table_rows(result: RunResult) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows): every gemeente, then the regions, then the province totals."""
    rows = [{"niveau": "gemeente", **r.as_json()} for r in result.per_gemeente]
    for region in result.regions:
        rows.append(
            {"niveau": "regio", "statcode": None, "naam": region.region, **region.as_json()}
        )
    rows.append({"niveau": "provincie", **result.totals.as_json()})
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
    if result.ensemble is not None:
        columns += _ensemble_columns(result, rows)
    if result.phasing is not None:
        columns += _phasing_columns(result, rows)
    return columns, rows


PHASING_FIGURES = ("demand_ha", "supply_ha", "balance_ha", "allocated_ha", "unmet_ha")


def _phasing_columns(result: RunResult, rows: list[dict[str, Any]]) -> list[str]:
    """Add the first shortage and each milestone's figures (``m2030_demand_ha``, …) to the
    gemeente and province rows; return their columns (allocation ones only when staged)."""
    phasing = result.phasing
    assert phasing is not None
    figures = [f for f in PHASING_FIGURES if phasing.staged or "allocated" not in f]
    figures = [f for f in figures if phasing.staged or f != "unmet_ha"]
    columns = ["first_shortage"]
    columns += [f"m{year}_{f}" for year in phasing.milestones for f in figures]
    places = {r.statcode: r for r in phasing.per_gemeente}
    for row in rows:
        if row["niveau"] == "gemeente":
            place = places.get(row.get("statcode"))
        else:
            place = phasing.totals if row["niveau"] == "provincie" else None
        if place is None:
            continue
        row["first_shortage"] = place.first_shortage
        for m in place.milestones:
            for f in figures:
                row[f"m{m.year}_{f}"] = m.figure(f)
    return columns


ENSEMBLE_FIGURES = ("demand_ha", "supply_ha", "balance_ha", "uncovered_ha", "unmet_ha")


def _ensemble_columns(result: RunResult, rows: list[dict[str, Any]]) -> list[str]:
    """Add the ensemble's bands to the gemeente and province rows; return their columns."""
    assert result.ensemble is not None
    bands = {r.statcode: r for r in result.ensemble.per_gemeente}
    columns = [f"{f[:-3]}_{p}_ha" for f in ENSEMBLE_FIGURES for p in ("p10", "p50", "p90")]
    columns += ["p_shortage", "most_important_input", "most_important_rho", "robust_ha"]
    for row in rows:
        if row["niveau"] == "gemeente":
            band = bands.get(row.get("statcode"))
        else:
            band = result.ensemble.totals if row["niveau"] == "provincie" else None
        if band is None:
            continue
        for f in ENSEMBLE_FIGURES:
            for p, v in getattr(band, f).as_json().items():
                row[f"{f[:-3]}_{p}_ha"] = v
        row["p_shortage"] = band.p_shortage
        top = band.most_important or {}
        row["most_important_input"] = top.get("input")
        row["most_important_rho"] = top.get("rho")
        row["robust_ha"] = band.robust_ha
    return columns


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "" if value is None else value


def result_csv(result: RunResult) -> str:
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


def compare_results(a: RunResult, b: RunResult, a_id: int, b_id: int) -> dict[str, Any]:
    """Difference (B − A) per gemeente and for the totals, for the figures in :data:`COMPARED`.

    Gemeenten present in only one run get None for the other side.
    """
    rows_a = {r.statcode: r for r in a.per_gemeente}
    rows_b = {r.statcode: r for r in b.per_gemeente}
    rows = []
    for code in sorted(set(rows_a) | set(rows_b)):
        ra, rb = rows_a.get(code), rows_b.get(code)
        row: dict[str, Any] = {"statcode": code, "naam": (rb or ra).naam}
        row.update(_compared(ra, rb))
        rows.append(row)
    totals: dict[str, Any] = {"statcode": b.totals.statcode, "naam": b.totals.naam}
    totals.update(_compared(a.totals, b.totals))
    extras = _extras(a, b)
    for row in [*rows, totals]:
        for name, (va, vb) in extras.items():
            key = row["statcode"] if row is not totals else None
            row[f"{name}_a"], row[f"{name}_b"] = va.get(key), vb.get(key)
    return {
        "a": {"run": a_id, "spec": a.spec.as_json(), "basis": a.basis},
        "b": {"run": b_id, "spec": b.spec.as_json(), "basis": b.basis},
        "figures": list(COMPARED),
        "extras": list(extras),
        "per_gemeente": rows,
        "totals": totals,
    }


def _extras(a: RunResult, b: RunResult) -> dict[str, tuple[dict, dict]]:
    """Per gemeente (statcode; None: the totals) the first shortage of a phased run, the
    shortage probability of an ensemble and the coverage types a gemeente lacks, for each
    part that either run has (the other side None)."""
    out: dict[str, tuple[dict, dict]] = {}
    if a.phasing is not None or b.phasing is not None:
        out["first_shortage"] = (_first_shortage(a), _first_shortage(b))
    if a.ensemble is not None or b.ensemble is not None:
        out["p_shortage"] = (_p_shortage(a), _p_shortage(b))
    if a.coverage is not None or b.coverage is not None:
        out["not_covered"] = (_not_covered(a), _not_covered(b))
    return out


def _first_shortage(r: RunResult) -> dict[str | None, Any]:
    if r.phasing is None:
        return {}
    out: dict[str | None, Any] = {p.statcode: p.first_shortage for p in r.phasing.per_gemeente}
    out[None] = r.phasing.totals.first_shortage
    return out


def _p_shortage(r: RunResult) -> dict[str | None, Any]:
    if r.ensemble is None:
        return {}
    out: dict[str | None, Any] = {e.statcode: e.p_shortage for e in r.ensemble.per_gemeente}
    out[None] = r.ensemble.totals.p_shortage
    return out


def _not_covered(r: RunResult) -> dict[str | None, Any]:
    """Statcode → the types not within reach (sorted); the totals: the types leaving any out."""
    if r.coverage is None:
        return {}
    out: dict[str | None, Any] = {row.statcode: [] for row in r.per_gemeente}
    for t in r.coverage.types:
        for code in t.uncovered:
            out.setdefault(code, []).append(t.type)
    out = {k: sorted(v) for k, v in out.items()}
    out[None] = sorted(t.type for t in r.coverage.types if t.uncovered)
    return out


def _compared(a: Figures | None, b: Figures | None) -> dict[str, Any]:
    """``<figure>_a``, ``_b`` and ``_diff`` of each compared figure, and both statuses."""
    out: dict[str, Any] = {}
    for fig in COMPARED:
        va = a.figure(fig) if a is not None else None
        vb = b.figure(fig) if b is not None else None
        out[f"{fig}_a"], out[f"{fig}_b"], out[f"{fig}_diff"] = va, vb, _diff(va, vb)
    out["status_a"] = a.status if a is not None else None
    out["status_b"] = b.status if b is not None else None
    return out
