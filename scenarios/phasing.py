"""Phasing: demand, available supply and balance at milestones, and allocation in stages.

For each milestone m (``spec.phasing.milestones``) and gemeente g::

    demand(m)   = share(m) × demand at the horizon            (HMC part alike)
    share(m)    = (m − base year) ÷ (horizon − base year)     (``demand_path: linear``)
                  or the share the spec gives for m
    supply(m)   = the supply sources (:mod:`scenarios.supply`), counting only what is
                  available by m (:class:`scenarios.supply.Availability`)
    balance(m)  = supply(m) − demand(m); uncovered(m) as :func:`scenarios.balance.balance`
    first_shortage = the first milestone with balance(m) < 0 (None: never)

Allocation in stages: what is allocated by a milestone stays allocated. Per allocation unit
and kind (HMC, other), the cells needed by milestone k are the most of those of milestones
1..k (``ceil(gross uncovered ha ÷ cell ha)``): a shortage later relieved by supply that
becomes available keeps its cells. At each milestone the unit gets the extra cells, on its
most suitable candidates not taken before (:func:`scenarios.allocation.allocate` on the
cells left), so cells allocated at 2030 are still allocated at 2035 and later. The ha
allocated by milestone k are the cells' land on the basis, at most the most uncovered
demand of milestones 1..k (:func:`scenarios.allocation.placed_ha`); unmet(k) is what of
uncovered(k) the cells do not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios import allocation as alloc
from scenarios.balance import balance
from scenarios.inputs import Inputs
from scenarios.spec import Phasing, ScenarioSpec
from scenarios.supply import Availability, SupplyContext, supply_per_gemeente
from scenarios.units import Gemeenten

DEFAULTS_FILE = Path(__file__).with_name("phasing.yaml")
#: Columns of a milestone's figures per gemeente (and unit).
FIGURE_COLUMNS = ("demand_ha", "hmc_demand_ha", "supply_ha", "hmc_supply_ha")
SHORT = -1e-9
"""A balance below this is a shortage (float noise is not)."""


@lru_cache(maxsize=1)
def default_lead_times() -> dict[str, float]:
    """The default lead time in years per planstatus (``scenarios/phasing.yaml``)."""
    import yaml

    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in data["lead_time_years"].items()}


def planstatus_values() -> list[str]:
    """The planstatus values of the bedrijventerreinen kind (``layers/data/kinds.yaml``)."""
    from layers.kinds import load_kinds

    return list(load_kinds()["bedrijventerreinen"].fields["planstatus"].values)


def lead_times(phasing: Phasing) -> dict[str, float]:
    """Lead time per planstatus: the spec's, else the default.

    Examples
    --------
    >>> lead_times(Phasing(milestones=[2030], lead_time_years={"in_aanleg": 1}))["in_aanleg"]
    1.0
    """
    return {**default_lead_times(), **{k: float(v) for k, v in phasing.lead_time_years.items()}}


def demand_shares(phasing: Phasing, base_year: int, horizon_year: int) -> list[float]:
    """The share of the horizon's extra demand reached by each milestone.

    Examples
    --------
    >>> demand_shares(Phasing(milestones=[2030, 2040, 2050]), 2025, 2050)
    [0.2, 0.6, 1.0]
    >>> demand_shares(Phasing(milestones=[2030, 2050], demand_path={2030: 0.5, 2050: 1}), 2025, 2050)
    [0.5, 1.0]
    """
    if isinstance(phasing.demand_path, dict):
        return [float(phasing.demand_path[m]) for m in phasing.milestones]
    return [(m - base_year) / (horizon_year - base_year) for m in phasing.milestones]


@dataclass
class MilestoneFigures:
    """Figures per milestone: per gemeente (``frames``) and per allocation unit (``units``)."""

    years: list[int]
    shares: list[float]
    frames: list[pd.DataFrame]
    """Per milestone, per gemeente position: :data:`FIGURE_COLUMNS` and the balance columns."""
    units: list[pd.DataFrame]
    """Per milestone, per unit position (gemeente, or pooled region): the balance columns."""
    unit_of: np.ndarray
    """Unit position of each gemeente position (-1: in no unit)."""


def milestone_figures(
    spec: ScenarioSpec,
    inputs: Inputs,
    gemeenten: Gemeenten,
    pieces: pd.DataFrame,
    frame: pd.DataFrame,
    ratio: float,
) -> MilestoneFigures:
    """Demand, available supply and balance of every milestone (see the module docstring).

    ``frame`` holds the horizon's figures per gemeente (``demand_ha``, ``hmc_demand_ha``).
    """
    phasing = spec.phasing
    assert phasing is not None
    shares = demand_shares(phasing, spec.base_year, spec.horizon_year)
    leads = lead_times(phasing)
    statuses = tuple(spec.indicators.strategische_locaties.available_statuses)
    by_region = spec.allocation.unit == "region"
    unit_of = gemeenten.region_index() if by_region else np.arange(len(gemeenten))
    frames, units = [], []
    for year, share in zip(phasing.milestones, shares, strict=True):
        available = Availability(year, spec.base_year, leads, statuses)
        supply = supply_per_gemeente(
            SupplyContext(pieces, inputs, gemeenten, spec.supply, available),
            spec.demand.basis,
            ratio,
        )
        f = pd.DataFrame(
            {
                "demand_ha": frame["demand_ha"].to_numpy(dtype=float) * share,
                "hmc_demand_ha": frame["hmc_demand_ha"].to_numpy(dtype=float) * share,
                "supply_ha": supply["supply_ha"].to_numpy(dtype=float),
                "hmc_supply_ha": supply["hmc_supply_ha"].to_numpy(dtype=float),
            }
        )
        f = pd.concat(
            [f, balance(f, spec.supply.protect_hmc_supply, spec.indicators.status)], axis=1
        )
        frames.append(f)
        if by_region:
            keep = unit_of >= 0
            sums = (
                f[list(FIGURE_COLUMNS)][keep]
                .groupby(unit_of[keep])
                .sum()
                .reindex(range(len(gemeenten.region_names)), fill_value=0.0)
            )
            units.append(
                pd.concat(
                    [sums, balance(sums, spec.supply.protect_hmc_supply, spec.indicators.status)],
                    axis=1,
                )
            )
        else:
            units.append(f)
    return MilestoneFigures(list(phasing.milestones), shares, frames, units, unit_of)


def running_max(values: list[np.ndarray]) -> np.ndarray:
    """(milestones, units): the most of each unit's values up to each milestone.

    Examples
    --------
    >>> running_max([np.array([1, 5]), np.array([3, 2]), np.array([2, 6])]).tolist()
    [[1, 5], [3, 5], [3, 6]]
    """
    return np.maximum.accumulate(np.vstack(values), axis=0)


def cell_targets(
    figures: MilestoneFigures, basis: str, ratio: float, cell_ha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cells each unit holds by each milestone (HMC, other): (milestones, units) arrays."""

    def cells(column: str) -> list[np.ndarray]:
        return [
            alloc.cells_needed(
                alloc.gross_ha(u[column].to_numpy(dtype=float), basis, ratio), cell_ha
            )
            for u in figures.units
        ]

    return running_max(cells("hmc_uncovered_ha")), running_max(cells("other_uncovered_ha"))


def shortlist_need(
    hmc: np.ndarray, other: np.ndarray, targets: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Cells per unit an engine must shortlist so both the plain and the staged allocation
    find theirs: a stage's HMC cell is among the unit's best ``total`` cells open to HMC and
    any cell among its best ``total``, ``total`` being every cell it takes by the end."""
    total = targets[0][-1] + targets[1][-1]
    hmc_need = np.maximum(hmc, total)
    return hmc_need, np.maximum(hmc + other, total) - hmc_need


@dataclass
class Staged:
    """The staged allocation: every cell taken, the stage (1-based milestone) of each, and
    the cells each unit holds by each milestone."""

    allocation: alloc.Allocation
    stage: np.ndarray
    hmc_cells: np.ndarray
    """(milestones, units) HMC cells held by each milestone."""
    other_cells: np.ndarray


def staged_allocate(
    cand: alloc.Candidates, hmc_targets: np.ndarray, other_targets: np.ndarray
) -> Staged:
    """Allocate stage by stage: at milestone k each unit gets the cells it lacks of its
    targets, on its best candidates not taken before (see the module docstring)."""
    n_stages, n_units = hmc_targets.shape
    taken = np.zeros(len(cand.cells), dtype=bool)
    classes = np.zeros(len(cand.cells), dtype=np.uint8)
    stage = np.zeros(len(cand.cells), dtype=np.uint8)
    hmc_held = np.zeros((n_stages, n_units), dtype=np.int64)
    other_held = np.zeros((n_stages, n_units), dtype=np.int64)
    hmc_now = np.zeros(n_units, dtype=np.int64)
    other_now = np.zeros(n_units, dtype=np.int64)
    for k in range(n_stages):
        free = np.flatnonzero(~taken)
        part = alloc.allocate(
            cand.take(free),
            np.maximum(hmc_targets[k] - hmc_now, 0),
            np.maximum(other_targets[k] - other_now, 0),
        )
        pos = free[np.searchsorted(cand.cells[free], part.cells)]
        taken[pos] = True
        classes[pos] = part.classes
        stage[pos] = k + 1
        hmc_now = hmc_now + part.hmc_cells
        other_now = other_now + part.other_cells
        hmc_held[k], other_held[k] = hmc_now, other_now
    return Staged(
        allocation=alloc.Allocation.of(cand, classes, hmc_now, other_now),
        stage=stage[taken],
        hmc_cells=hmc_held,
        other_cells=other_held,
    )


def _to_gemeenten(
    per_unit: np.ndarray, cells: np.ndarray, unit_of: np.ndarray, n_units: int
) -> np.ndarray:
    """A unit's ha shared over its gemeenten by their cells (a gemeente unit: its own ha)."""
    inside = unit_of >= 0
    unit_cells = np.bincount(unit_of[inside], weights=cells[inside], minlength=n_units)
    u = np.maximum(unit_of, 0)
    share = np.where(inside, cells / np.maximum(unit_cells[u], 1), 0.0)
    if len(unit_of) == n_units and np.array_equal(unit_of, np.arange(n_units)):
        share = np.ones(n_units)
    return np.where(inside, per_unit[u] * share, 0.0)


def _unmet(frame: pd.DataFrame, hmc: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Uncovered demand the cells do not hold, per kind (HMC cells hold HMC demand only)."""
    return np.maximum(0.0, frame["hmc_uncovered_ha"].to_numpy(dtype=float) - hmc) + np.maximum(
        0.0, frame["other_uncovered_ha"].to_numpy(dtype=float) - other
    )


def phasing_result(
    spec: ScenarioSpec,
    figures: MilestoneFigures,
    gemeenten: Gemeenten,
    province: tuple[str, str],
    staged: Staged | None = None,
    cell_ha: float | None = None,
    ratio: float = 1.0,
) -> dict[str, Any]:
    """The phasing part of a result: per gemeente and for the province, the figures of each
    milestone and the first shortage (with the staged allocation when there is one)."""
    phasing = spec.phasing
    assert phasing is not None
    n, basis = len(gemeenten), spec.demand.basis
    by_region = spec.allocation.unit == "region"
    alloc_cols: list[dict[str, np.ndarray]] = []
    unit_totals: list[dict[str, float]] = []  # per milestone, summed over the (pooled) units
    if staged is not None and cell_ha is not None:
        n_units = figures.units[0].shape[0]
        hmc_unc = running_max([u["hmc_uncovered_ha"].to_numpy(dtype=float) for u in figures.units])
        oth_unc = running_max(
            [u["other_uncovered_ha"].to_numpy(dtype=float) for u in figures.units]
        )
        gem = staged.allocation.gemeente
        is_hmc = staged.allocation.classes == alloc.NEW_HMC
        for k in range(len(figures.years)):
            hmc_unit = alloc.placed_ha(staged.hmc_cells[k], cell_ha, hmc_unc[k], basis, ratio)
            oth_unit = alloc.placed_ha(staged.other_cells[k], cell_ha, oth_unc[k], basis, ratio)
            upto = staged.stage <= k + 1
            hmc_gc = np.bincount(gem[upto & is_hmc], minlength=n)[:n].astype(float)
            oth_gc = np.bincount(gem[upto & ~is_hmc], minlength=n)[:n].astype(float)
            hmc_g = _to_gemeenten(hmc_unit, hmc_gc, figures.unit_of, n_units)
            oth_g = _to_gemeenten(oth_unit, oth_gc, figures.unit_of, n_units)
            u = figures.units[k]
            unit_unmet = _unmet(u, hmc_unit, oth_unit)
            f = figures.frames[k]
            alloc_cols.append(
                {
                    "allocated_ha": hmc_g + oth_g,
                    "hmc_allocated_ha": hmc_g,
                    "allocated_cells": hmc_gc + oth_gc,
                    # pooled per region: a gemeente's own unmet is not defined
                    "unmet_ha": np.full(n, np.nan) if by_region else _unmet(f, hmc_g, oth_g),
                }
            )
            unit_totals.append(
                {
                    "uncovered_ha": float(u["uncovered_ha"].sum()),
                    "unmet_ha": float(unit_unmet.sum()),
                }
            )

    def milestone(k: int, i: int | None) -> dict[str, Any]:
        f = figures.frames[k]
        pick = (lambda c: float(f[c].iat[i])) if i is not None else (lambda c: float(f[c].sum()))
        row: dict[str, Any] = {
            "year": figures.years[k],
            "demand_share": figures.shares[k],
            **{c: pick(c) for c in FIGURE_COLUMNS},
            "balance_ha": pick("supply_ha") - pick("demand_ha"),
            "uncovered_ha": pick("uncovered_ha"),
        }
        if alloc_cols:
            for c, v in alloc_cols[k].items():
                row[c] = float(v[i]) if i is not None else float(np.nansum(v))
            row["allocated_cells"] = int(round(row["allocated_cells"]))
            if i is None:
                row.update(unit_totals[k])
            elif by_region:
                row["unmet_ha"] = None
        elif i is None and by_region:
            row["uncovered_ha"] = float(figures.units[k]["uncovered_ha"].sum())
        return row

    def place(code: str, naam: str, i: int | None) -> dict[str, Any]:
        rows = [milestone(k, i) for k in range(len(figures.years))]
        short = [r["year"] for r in rows if r["balance_ha"] < SHORT]
        return {
            "statcode": code,
            "naam": naam,
            "first_shortage": short[0] if short else None,
            "milestones": rows,
        }

    return {
        "milestones": list(figures.years),
        "demand_shares": list(figures.shares),
        "demand_path": "linear" if phasing.demand_path == "linear" else "per_milestone",
        "lead_time_years": lead_times(phasing),
        "available_statuses": list(spec.indicators.strategische_locaties.available_statuses),
        "staged": bool(alloc_cols),
        "per_gemeente": [
            place(str(c), str(nm), i)
            for i, (c, nm) in enumerate(zip(gemeenten.statcodes, gemeenten.namen, strict=True))
        ],
        "totals": place(province[0], province[1], None),
    }
