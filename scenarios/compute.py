"""A whole scenario computation on inputs already read: pure, timed step by step.

Steps (each a function of its own module)::

    current → demand → supply → balance → suitability → allocation → milieuzonering
    → indicators → outputs (rasters, derived layers, JSON)

:func:`compute` returns the typed result (:class:`scenarios.result.RunResult`, without the
run's id and timing), the GeoTIFFs and the features of the derived layers;
:func:`compute_figures` only the figures and indicators (the same figures step, no grid).
The database is not touched here: :mod:`scenarios.runner` reads the inputs and stores what
comes out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.enums import Resampling

from layers.milieucategorie import MilieucategorieTable
from layers.quality import quality_report, report_json
from scenarios import allocation as alloc
from scenarios import phasing as phase
from scenarios.balance import balance, status
from scenarios.current import FigureDefaults, current_per_gemeente, terrein_pieces
from scenarios.demand import demand_per_gemeente
from scenarios.engine import SUITABILITY_NODATA, Engine, InMemory, Job, Need, Rasters, Writers
from scenarios.indicators import (
    hmc_benutting,
    landgebruik,
    location_statuses,
    ruimtevraag,
    strategische_locaties,
)
from scenarios.inputs import Inputs
from scenarios.milieuzonering import Zonering, conflict_summary, milieuzonering
from scenarios.result import RunResult
from scenarios.spec import ScenarioSpec
from scenarios.suitability import EXCLUDED, FREE, NO_HMC, OCCUPIED, OUTSIDE, province_grid
from scenarios.supply import SOURCES, SupplyContext, netto_bruto_ratio, supply_per_gemeente
from scenarios.units import Gemeenten
from scenarios.values import check_values
from spatial.grid import Grid
from spatial.overlay import polygonal
from spatial.raster import GeoTiffWriter

Progress = Callable[[str, int, int], None]
"""Called with (step, steps done, steps in all)."""

STEPS = (
    "current",
    "demand",
    "supply",
    "balance",
    "suitability",
    "allocation",
    "milieuzonering",
    "indicators",
    "outputs",
)
#: Bruto source, attribution and tolerance where neither the spec nor the caller says.
DEFAULT_FIGURES = FigureDefaults()
INDICATOR_STEPS = ("current", "demand", "supply", "balance", "indicators")
CLASS_NODATA = 255


@dataclass
class DerivedLayer:
    """Features of a derived layer: attribute frame and EPSG:28992 polygons."""

    kind: str
    frame: pd.DataFrame
    geometries: np.ndarray
    title: str


@dataclass
class Computation:
    """What a computation produced."""

    result: RunResult
    rasters: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    layers: dict[str, DerivedLayer] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)
    allocation: alloc.Allocation | None = None
    """The cells allocated (None for figures only)."""


class _Timer:
    """Times steps and reports progress."""

    def __init__(self, steps: tuple[str, ...], progress: Progress | None):
        self.steps = steps
        self.progress = progress
        self.timing: dict[str, float] = {}

    def run(self, step: str, func: Callable[[], Any]) -> Any:
        """Run one step, record its seconds, report progress."""
        start = time.perf_counter()
        value = func()
        self.timing[step] = round(time.perf_counter() - start, 4)
        if self.progress:
            self.progress(step, self.steps.index(step) + 1, len(self.steps))
        return value


@dataclass
class _Figures:
    """What the figures step leaves for the rest of a run."""

    inputs: Inputs
    gemeenten: Gemeenten
    pieces: pd.DataFrame
    frame: pd.DataFrame
    regions: pd.DataFrame | None
    ratio: float
    choices: dict[str, str]
    replaced: list[dict[str, Any]]


def compute(
    spec: ScenarioSpec,
    inputs: Inputs,
    table: MilieucategorieTable,
    *,
    province: tuple[str, str],
    progress: Progress | None = None,
    defaults: FigureDefaults = DEFAULT_FIGURES,
    engine: Engine | None = None,
) -> Computation:
    """Run every step of a scenario on ``inputs``: figures, allocation, milieuzonering, outputs.

    Parameters
    ----------
    spec
        The validated spec.
    inputs
        The layers, as read (at their pinned versions).
    table
        The milieucategorie table.
    province
        (code, name) of the work area: the totals row.
    progress
        Called after each step with (step, done, total).
    defaults
        Bruto source and attribution where the spec names none, and the bruto/area
        tolerance of the data-quality report (the app passes the planning settings).
    engine
        Where the grid is computed (:mod:`scenarios.engine`; default in memory). Every
        engine gives the same result and the same raster bytes.

    Returns
    -------
    Computation
        The typed result, rasters and derived layers, and seconds per step.

    Raises
    ------
    UnknownValues
        A layer holds a classifying value the run does not know (and the spec names no
        ``unknown_values`` entry for it), or lacks a value the run needs.
    """
    timer = _Timer(STEPS, progress)
    fig = _figures(spec, inputs, table, defaults, timer)
    inputs, gemeenten = fig.inputs, fig.gemeenten
    grid = province_grid(gemeenten, spec.allocation.cell_size_m)
    need = _need(spec, fig, grid)
    phased = _milestones(spec, fig, timer)
    shortlist = need
    if phased is not None:
        targets = phase.cell_targets(phased, spec.demand.basis, fig.ratio, grid.cell_ha)
        shortlist = Need(need.unit_of, *phase.shortlist_need(need.hmc, need.other, targets))
    writers = _writers(spec, grid)
    rasters = timer.run(
        "suitability",
        lambda: (engine or InMemory()).rasters(
            Job(spec, inputs, gemeenten, table, grid, shortlist, writers)
        ),
    )
    placed = timer.run("allocation", lambda: _allocate(spec, rasters, need, fig))
    zonering = timer.run("milieuzonering", lambda: milieuzonering(spec, inputs, gemeenten, table))
    indicators = timer.run(
        "indicators",
        lambda: _indicators(spec, inputs, gemeenten, table, fig.frame, fig.regions, province),
    )
    result = _result(spec, table, fig, province, indicators, zonering, defaults)
    result["allocation"] = placed["summary"]
    result["milieuzonering"] = conflict_summary(zonering, gemeenten)
    staged = None
    if phased is not None:
        start = time.perf_counter()
        staged = phase.staged_allocate(rasters.candidates, *targets)
        result["phasing"] = phase.phasing_result(
            spec, phased, gemeenten, province, staged, grid.cell_ha, fig.ratio
        )
        timer.timing["phasing"] = round(timer.timing["phasing"] + time.perf_counter() - start, 4)
    comp = Computation(result=RunResult.model_validate(_jsonable(result)))
    comp.allocation = placed["allocation"]
    comp.rasters, comp.layers = timer.run(
        "outputs", lambda: _outputs(spec, rasters, writers, placed, zonering, gemeenten)
    )
    if staged is not None and phased is not None:
        _add_phasing_outputs(comp, spec, rasters, staged, phased, gemeenten)
    if spec.coverage is not None:
        origin = (grid.minx, grid.maxy)
        surface = (comp.rasters["suitability"][0], origin, grid.cell_size)
        start = time.perf_counter()
        _add_coverage(comp, spec, inputs, gemeenten, surface)
        timer.timing["coverage"] = round(time.perf_counter() - start, 4)
    comp.timing = timer.timing
    return comp


def _milestones(spec: ScenarioSpec, fig: _Figures, timer: _Timer) -> phase.MilestoneFigures | None:
    """The figures of every milestone (None without phasing), timed as ``phasing``."""
    if spec.phasing is None:
        return None
    start = time.perf_counter()
    out = phase.milestone_figures(spec, fig.inputs, fig.gemeenten, fig.pieces, fig.frame, fig.ratio)
    timer.timing["phasing"] = round(time.perf_counter() - start, 4)
    return out


def _add_phasing_outputs(
    comp: Computation,
    spec: ScenarioSpec,
    rasters: Rasters,
    staged: phase.Staged,
    phased: phase.MilestoneFigures,
    gemeenten: Gemeenten,
) -> None:
    """The ``fasering`` GeoTIFF (the milestone each cell is allocated at) and derived layer
    (the cells allocated by each milestone, per gemeente and category)."""
    grid = rasters.grid
    years = phased.years
    values = ", ".join(f"{k} in {y}" for k, y in enumerate(years, start=1))
    description = (
        f"Fasering: mijlpaal waarop een cel is toegewezen: 0 niet, {values}; "
        f"{alloc.NODATA} buiten de gemeenten"
    )
    writer = GeoTiffWriter(
        grid,
        dtype=np.dtype(np.uint8),
        nodata=CLASS_NODATA,
        description="fasering",
        resampling=Resampling.nearest,
        tags={"scenario": spec.name, "values": f"0 niet toegewezen, {values}"},
    )
    a = staged.allocation
    rasters.write_allocation(replace(a, classes=staged.stage), writer)
    comp.rasters["fasering"] = (writer.close(), description)
    rows, geoms = [], []
    for k, year in enumerate(years, start=1):
        part = a.take(staged.stage <= k)
        for g, cls, geom, cells, _ in alloc.allocation_polygons(part, grid):
            rows.append(
                {
                    "scenario": spec.name,
                    "gemeente": str(gemeenten.statcodes[g]),
                    "regio": gemeenten.regions[g],
                    "mijlpaal": int(year),
                    "categorie": "hmc" if cls == alloc.NEW_HMC else "overig",
                    "cellen": int(cells),
                    "ha": cells * grid.cell_ha,
                }
            )
            geoms.append(geom)
    columns = ["scenario", "gemeente", "regio", "mijlpaal", "categorie", "cellen", "ha"]
    comp.layers["fasering"] = DerivedLayer(
        "fasering",
        pd.DataFrame(rows, columns=columns),
        np.array(geoms, dtype=object),
        f"Fasering nieuwe ruimte per mijlpaal ({spec.name})",
    )


def _add_coverage(
    comp: Computation,
    spec: ScenarioSpec,
    inputs: Inputs,
    gemeenten: Gemeenten,
    surface: tuple[bytes, tuple[float, float], float] | None,
    *,
    with_layers: bool = True,
) -> None:
    """Coverage of regional circular functions into the result, and (``with_layers``) its
    map layers."""
    from scenarios.coverage import coverage, coverage_layers
    from scenarios.result import CoverageResult

    assert spec.coverage is not None
    part = CoverageResult.model_validate(
        _jsonable(coverage(spec.coverage, inputs, gemeenten, surface))
    )
    comp.result = comp.result.model_copy(update={"coverage": part})
    if with_layers:
        comp.layers.update(coverage_layers(spec, part, inputs, gemeenten))


def compute_figures(
    spec: ScenarioSpec,
    inputs: Inputs,
    table: MilieucategorieTable,
    *,
    province: tuple[str, str],
    progress: Progress | None = None,
    defaults: FigureDefaults = DEFAULT_FIGURES,
) -> Computation:
    """The figures and indicators of a scenario only: no grid, allocation, zones or rasters.

    Parameters and errors as :func:`compute`; the steps are :data:`INDICATOR_STEPS` and the
    result has no ``allocation`` and ``milieuzonering``.
    """
    timer = _Timer(INDICATOR_STEPS, progress)
    fig = _figures(spec, inputs, table, defaults, timer)
    indicators = timer.run(
        "indicators",
        lambda: _indicators(
            spec, fig.inputs, fig.gemeenten, table, fig.frame, fig.regions, province
        ),
    )
    result = _result(spec, table, fig, province, indicators, None, defaults)
    phased = _milestones(spec, fig, timer)
    if phased is not None:
        result["phasing"] = phase.phasing_result(spec, phased, fig.gemeenten, province)
    comp = Computation(result=RunResult.model_validate(_jsonable(result)), timing=timer.timing)
    if spec.coverage is not None:
        # figures only: no surface to suggest sites from, and no layers to store
        _add_coverage(comp, spec, fig.inputs, fig.gemeenten, None, with_layers=False)
    return comp


def _figures(
    spec: ScenarioSpec,
    inputs: Inputs,
    table: MilieucategorieTable,
    defaults: FigureDefaults,
    timer: _Timer,
) -> _Figures:
    """The figures step: checked values, current, demand, supply and balance per gemeente."""
    choices = {
        "bruto_source": spec.bruto_source or defaults.bruto_source,
        "bruto_source_from": "spec" if spec.bruto_source else "settings",
        "attribution": spec.attribution or defaults.attribution,
        "attribution_from": "spec" if spec.attribution else "settings",
    }
    checked = check_values(
        spec,
        inputs,
        table,
        bruto_source=choices["bruto_source"],
        attribution=choices["attribution"],
    )
    inputs = checked.inputs
    gemeenten = Gemeenten.from_layer(inputs.get(inputs.gemeenten), spec.regions)
    terreinen = inputs.get(inputs.bedrijventerreinen)
    basis = spec.demand.basis
    n = len(gemeenten)

    def current_step() -> tuple[pd.DataFrame, pd.DataFrame]:
        pieces = terrein_pieces(
            terreinen,
            gemeenten,
            table,
            spec.hmc_threshold,
            bruto_source=choices["bruto_source"],
            attribution=choices["attribution"],
        )
        return pieces, current_per_gemeente(pieces, n)

    pieces, current = timer.run("current", current_step)
    demand = timer.run("demand", lambda: demand_per_gemeente(pieces, spec.demand, gemeenten))
    ratio = netto_bruto_ratio(pieces, spec.supply)
    supply = timer.run(
        "supply",
        lambda: supply_per_gemeente(
            SupplyContext(pieces, inputs, gemeenten, spec.supply), basis, ratio
        ),
    )
    frame = pd.concat([current, demand, supply], axis=1)
    frame["current_ha"] = frame[f"current_{basis}_ha"]
    frame["hmc_current_ha"] = frame[f"hmc_{basis}_ha"]
    frame = timer.run("balance", lambda: _with_balance(frame, spec))
    regions = _region_frame(frame, gemeenten, spec, pieces) if gemeenten.region_names else None
    return _Figures(
        inputs, gemeenten, pieces, frame, regions, ratio, choices, list(checked.replaced)
    )


def _result(
    spec: ScenarioSpec,
    table: MilieucategorieTable,
    fig: _Figures,
    province: tuple[str, str],
    indicators: dict[str, Any],
    zonering: Zonering | None,
    defaults: FigureDefaults,
) -> dict[str, Any]:
    """The result's figures, indicators, inputs and quality (without allocation and zones)."""
    rows = _rows(fig.frame, fig.gemeenten, spec, indicators, zonering)
    return {
        "spec": {"name": spec.name, "title": spec.title},
        "basis": spec.demand.basis,
        "base_year": spec.base_year,
        "horizon_year": spec.horizon_year,
        "hmc_threshold": spec.hmc_threshold,
        "netto_bruto_ratio": fig.ratio,
        "milieucategorie_table": table.source.rsplit("/", 1)[-1],
        "figures": fig.choices,
        "totals": _totals(rows, fig.regions, province, spec, fig.pieces),
        "per_gemeente": rows,
        "regions": _region_rows(fig.regions) if fig.regions is not None else [],
        "indicators": indicators,
        "inputs": {
            "layers": fig.inputs.versions,
            "synthetic": fig.inputs.synthetic,
            "notes": list(fig.inputs.notes),
        },
        "quality": run_quality(
            fig.inputs,
            fig.gemeenten,
            fig.pieces,
            fig.choices,
            defaults.bruto_tolerance_pct,
            fig.replaced,
        ),
    }


def _with_balance(frame: pd.DataFrame, spec: ScenarioSpec) -> pd.DataFrame:
    out = pd.concat(
        [frame, balance(frame, spec.supply.protect_hmc_supply, spec.indicators.status)], axis=1
    )
    return out


def _region_frame(
    frame: pd.DataFrame, gemeenten: Gemeenten, spec: ScenarioSpec, pieces: pd.DataFrame
) -> pd.DataFrame:
    """Figures summed per region; uncovered pooled in the region when allocating per region.

    ``terreinen`` is counted, not summed: a terrein in two gemeenten of a region counts once.
    """
    index = gemeenten.region_index()
    numeric = frame.select_dtypes("number").drop(columns=["coverage"])
    keep = index >= 0
    sums = (
        numeric[keep]
        .groupby(index[keep])
        .sum()
        .reindex(range(len(gemeenten.region_names)), fill_value=0.0)
    )
    if spec.allocation.unit == "region":
        pooled = balance(sums, spec.supply.protect_hmc_supply, spec.indicators.status)
        for column in pooled.columns:
            sums[column] = pooled[column]
    else:
        d = sums["demand_ha"].to_numpy()
        cov = np.where(d > 0, (d - sums["uncovered_ha"].to_numpy()) / np.where(d > 0, d, 1.0), 1.0)
        sums["coverage"] = cov
        sums["status"] = status(cov, spec.indicators.status)
    region_of_piece = index[pieces["gemeente"].to_numpy(dtype=np.int64)]
    sums["terreinen"] = [
        int(pieces["terrein"][region_of_piece == r].nunique())
        for r in range(len(gemeenten.region_names))
    ]
    sums["counts"] = [
        dict(TOTAL_COUNTS, gemeenten=int((index == r).sum())) for r in range(len(sums))
    ]
    sums.insert(0, "region", gemeenten.region_names)
    sums["gemeenten"] = [
        [str(c) for c, r in zip(gemeenten.statcodes, gemeenten.regions, strict=True) if r == name]
        for name in gemeenten.region_names
    ]
    return sums


def _need(spec: ScenarioSpec, fig: _Figures, grid: Grid) -> Need:
    """The unit of each gemeente and the cells each unit needs (HMC and other space)."""
    basis, ratio = spec.demand.basis, fig.ratio
    if spec.allocation.unit == "region":
        unit_of, units = fig.gemeenten.region_index(), fig.regions
    else:
        unit_of, units = np.arange(len(fig.gemeenten)), fig.frame
    hmc_unc = units["hmc_uncovered_ha"].to_numpy(dtype=float)
    other_unc = units["other_uncovered_ha"].to_numpy(dtype=float)
    return Need(
        unit_of=np.asarray(unit_of, dtype=np.int64),
        hmc=alloc.cells_needed(alloc.gross_ha(hmc_unc, basis, ratio), grid.cell_ha),
        other=alloc.cells_needed(alloc.gross_ha(other_unc, basis, ratio), grid.cell_ha),
    )


def _allocate(spec: ScenarioSpec, rasters: Rasters, need: Need, fig: _Figures) -> dict[str, Any]:
    """Allocate per unit; write allocated/unmet figures into the frame (and the regions)."""
    grid = rasters.grid
    frame, regions, gemeenten = fig.frame, fig.regions, fig.gemeenten
    basis, ratio = spec.demand.basis, fig.ratio
    by_region = spec.allocation.unit == "region"
    units = regions if by_region else frame
    hmc_unc = units["hmc_uncovered_ha"].to_numpy(dtype=float)
    other_unc = units["other_uncovered_ha"].to_numpy(dtype=float)
    result = alloc.allocate(rasters.candidates, need.hmc, need.other)
    hmc_placed = alloc.placed_ha(result.hmc_cells, grid.cell_ha, hmc_unc, basis, ratio)
    other_placed = alloc.placed_ha(result.other_cells, grid.cell_ha, other_unc, basis, ratio)
    units["hmc_allocated_ha"] = hmc_placed
    units["other_allocated_ha"] = other_placed
    units["allocated_ha"] = hmc_placed + other_placed
    units["hmc_unmet_ha"] = hmc_unc - hmc_placed
    units["unmet_ha"] = units["uncovered_ha"].to_numpy(dtype=float) - units[
        "allocated_ha"
    ].to_numpy(dtype=float)
    cells = _cells_per_gemeente(result, len(gemeenten))
    frame["allocated_cells"] = cells[alloc.NEW_HMC] + cells[alloc.NEW_OTHER]
    frame["hmc_allocated_cells"] = cells[alloc.NEW_HMC]
    frame["allocated_cells_ha"] = frame["allocated_cells"] * grid.cell_ha
    if by_region:
        region_of = gemeenten.region_index()
        for kind, cls in (("hmc", alloc.NEW_HMC), ("other", alloc.NEW_OTHER)):
            region_cells = np.bincount(
                region_of[region_of >= 0],
                weights=cells[cls][region_of >= 0],
                minlength=len(regions),
            )
            share = np.where(
                region_of >= 0,
                cells[cls] / np.maximum(region_cells[np.maximum(region_of, 0)], 1),
                0.0,
            )
            placed = regions[f"{kind}_allocated_ha"].to_numpy(dtype=float)
            frame[f"{kind}_allocated_ha"] = np.where(
                region_of >= 0, placed[np.maximum(region_of, 0)] * share, 0.0
            )
        frame["allocated_ha"] = frame["hmc_allocated_ha"] + frame["other_allocated_ha"]
        frame["hmc_unmet_ha"] = np.nan
        frame["unmet_ha"] = np.nan
    counts = {
        name: rasters.counts.get(cls, 0)
        for name, cls in (
            ("free", FREE),
            ("free_not_hmc", NO_HMC),
            ("excluded", EXCLUDED),
            ("occupied", OCCUPIED),
            ("outside_or_border", OUTSIDE),
        )
    }
    summary = {
        "unit": spec.allocation.unit,
        "grid": {
            "crs": "EPSG:28992",
            "cell_size_m": grid.cell_size,
            "cell_ha": grid.cell_ha,
            "origin": [grid.minx, grid.maxy],
            "rows": grid.rows,
            "cols": grid.cols,
        },
        "cells": counts,
        "cells_ha": {k: v * grid.cell_ha for k, v in counts.items()},
        "allocated_cells": int(result.hmc_cells.sum() + result.other_cells.sum()),
        "hmc_allocated_cells": int(result.hmc_cells.sum()),
        "criteria": [
            {"name": c.name, "type": c.type, "weight": c.weight, "max_distance_m": c.max_distance_m}
            for c in spec.allocation.criteria
        ],
    }
    return {"allocation": result, "summary": summary}


def _cells_per_gemeente(allocation: alloc.Allocation, n: int) -> dict[int, np.ndarray]:
    out = {}
    for cls in (alloc.NEW_HMC, alloc.NEW_OTHER):
        gem = allocation.gemeente[allocation.classes == cls]
        out[cls] = np.bincount(gem, minlength=n)[:n].astype(np.int64)
    return out


def _indicators(
    spec: ScenarioSpec,
    inputs: Inputs,
    gemeenten: Gemeenten,
    table: MilieucategorieTable,
    frame: pd.DataFrame,
    regions: pd.DataFrame | None,
    province: tuple[str, str],
) -> dict[str, Any]:
    rows = [
        {
            "statcode": str(code),
            "naam": str(naam),
            "demand_ha": float(frame.at[i, "demand_ha"]),
            "supply_ha": float(frame.at[i, "supply_ha"]),
            "uncovered_ha": float(frame.at[i, "uncovered_ha"]),
            "coverage": float(frame.at[i, "coverage"]),
            "status": str(frame.at[i, "status"]),
        }
        for i, (code, naam) in enumerate(zip(gemeenten.statcodes, gemeenten.namen, strict=True))
    ]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("groen", "oranje", "rood")}
    locations = strategische_locaties(
        inputs, gemeenten, spec.indicators.strategische_locaties, location_statuses()
    )
    return {
        "landgebruik": landgebruik(inputs, gemeenten),
        "hmc_benutting": hmc_benutting(inputs, gemeenten, table, spec.hmc_threshold),
        "ruimtevraag": {
            "thresholds": spec.indicators.status.model_dump(),
            "status_counts": counts,
            "per_gemeente": ruimtevraag(rows),
        },
        # only with a strategische_locaties layer: results without one stay as they were
        **({"strategische_locaties": locations} if locations is not None else {}),
    }


def _rows(
    frame: pd.DataFrame,
    gemeenten: Gemeenten,
    spec: ScenarioSpec,
    indicators: dict[str, Any],
    zonering: Zonering | None,
) -> list[dict[str, Any]]:
    benutting = (indicators.get("hmc_benutting") or {}).get("per_gemeente", {})
    rows = []
    for i, (code, naam, region) in enumerate(
        zip(gemeenten.statcodes, gemeenten.namen, gemeenten.regions, strict=True)
    ):
        row: dict[str, Any] = {
            "statcode": str(code),
            "naam": str(naam),
            "regio": region,
            "basis": spec.demand.basis,
        }
        for column in row_columns(spec):
            if column in frame.columns:
                row[column] = frame.at[i, column]
        if zonering is not None:
            mask = (
                (zonering.conflicts["gemeente"] == code).to_numpy()
                if len(zonering.conflicts)
                else []
            )
            row["conflicts"] = int(np.sum(mask))
            row["conflicts_overlap_ha"] = (
                float(zonering.conflicts.loc[mask, "overlap_ha"].sum()) if len(mask) else 0.0
            )
        row["hmc_benutting_pct"] = benutting.get(str(code), {}).get("pct")
        rows.append(row)
    return rows


def row_columns(spec: ScenarioSpec) -> list[str]:
    """Numeric columns of a result row, in order (those of the spec's categories included)."""
    return [
        "current_ha",
        "current_bruto_ha",
        "current_netto_ha",
        "current_uitgegeven_ha",
        "current_uitgeefbaar_ha",
        "hmc_current_ha",
        "hmc_bruto_ha",
        "hmc_netto_ha",
        "hmc_uitgegeven_ha",
        "hmc_uitgeefbaar_ha",
        "terreinen",
        "demand_ha",
        "hmc_demand_ha",
        "growth_demand_ha",
        "claims_demand_ha",
        *(f"demand_{c.name}_ha" for c in spec.demand.categories),
        "supply_ha",
        "hmc_supply_ha",
        *(f"supply_{name}_ha" for name in SOURCES),
        "balance_ha",
        "uncovered_ha",
        "hmc_uncovered_ha",
        "other_uncovered_ha",
        "allocated_ha",
        "hmc_allocated_ha",
        "other_allocated_ha",
        "allocated_cells",
        "hmc_allocated_cells",
        "allocated_cells_ha",
        "unmet_ha",
        "hmc_unmet_ha",
        "coverage",
        "status",
    ]


NOT_SUMMED = {"coverage", "status", "statcode", "naam", "regio", "basis", "hmc_benutting_pct"}
#: What the figures of a total row (province, region) count; ``terreinen`` is computed.
TOTAL_COUNTS = {
    "ha": "sum of the gemeente rows (a terrein's ha are shared out, so its parts add up once)",
    "terreinen": "distinct terreinen with ha in these gemeenten (a terrein crossing a border "
    "counts once), not the sum of the gemeente rows",
    "conflicts": "sum of the gemeente rows (each terrein × object pair belongs to the gemeente "
    "of the terrein's largest part)",
    "allocated_cells": "sum of the gemeente rows (every cell lies in one gemeente)",
    "coverage": "(demand − uncovered) ÷ demand of the total row, not a mean",
}


def _totals(
    rows: list[dict[str, Any]],
    regions: pd.DataFrame | None,
    province: tuple[str, str],
    spec: ScenarioSpec,
    pieces: pd.DataFrame,
) -> dict[str, Any]:
    """Province totals: sums of the gemeente rows (of the region rows for pooled figures).

    Counts of distinct features are computed, not summed: ``terreinen`` is the number of
    distinct terreinen with a part in one of the gemeenten. ``counts`` says what each counts.
    """
    total: dict[str, Any] = {
        "statcode": province[0],
        "naam": province[1],
        "regio": None,
        "basis": spec.demand.basis,
    }
    for column in [*row_columns(spec), "conflicts", "conflicts_overlap_ha"]:
        if column in NOT_SUMMED or not rows or column not in rows[0]:
            continue
        values = [r[column] for r in rows]
        if (
            any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values)
            and regions is not None
        ):
            values = regions[column].tolist() if column in regions.columns else values
        total[column] = float(np.nansum(np.asarray(values, dtype=float)))
        if column.endswith("_cells") or column in ("terreinen", "conflicts"):
            total[column] = int(round(total[column]))
    if spec.allocation.unit == "region" and regions is not None:
        for column in ("uncovered_ha", "hmc_uncovered_ha", "other_uncovered_ha"):
            total[column] = float(regions[column].sum())
    if "terreinen" in total:
        total["terreinen"] = int(pieces["terrein"].nunique())
    d, u = total.get("demand_ha", 0.0), total.get("uncovered_ha", 0.0)
    total["coverage"] = (d - u) / d if d > 0 else 1.0
    total["status"] = str(status(np.array([total["coverage"]]), spec.indicators.status)[0])
    total["counts"] = dict(TOTAL_COUNTS, gemeenten=len(rows))
    return total


def run_quality(
    inputs: Inputs,
    gemeenten: Gemeenten,
    pieces: pd.DataFrame,
    figures: dict[str, str],
    tolerance_pct: float,
    replaced: list[dict[str, Any]],
) -> dict[str, Any]:
    """The run's own data-quality report: the terreinen as read, against the run's gemeenten.

    ``terreinen`` is :func:`layers.quality.quality_report` of the terreinen layer;
    ``not_counted`` the terreinen that add nothing to any gemeente (outside every gemeente,
    or, attributed by their ``gemeente`` field, coded for a gemeente not in the run);
    ``unknown_values`` what the spec's ``unknown_values`` replaced; ``imports`` what the
    imports of the layers read repaired or mapped (their stored reports).
    """
    terreinen = inputs.get(inputs.bedrijventerreinen)
    gem_layer = inputs.get(inputs.gemeenten)
    frame = gpd.GeoDataFrame(
        {
            "fid": terreinen.fids,
            "naam": terreinen.column("naam"),
            "gemeente": terreinen.column("gemeente"),
            "bruto_ha": terreinen.numbers("bruto_ha"),
        },
        geometry=list(terreinen.geometries),
        crs=28992,
    )
    zones = gpd.GeoDataFrame(
        {"statcode": gemeenten.statcodes, "naam": gemeenten.namen},
        geometry=list(gemeenten.geometries),
        crs=28992,
    )
    report = quality_report(
        layer=terreinen.name,
        version=terreinen.version,
        kind="bedrijventerreinen",
        features=frame,
        tolerance_pct=tolerance_pct,
        gemeenten=zones,
        gemeenten_ref=(gem_layer.name, gem_layer.version),
    )
    counted = set(pieces["terrein"].tolist())
    known = set(gemeenten.statcodes.tolist())
    not_counted = []
    for i in range(len(terreinen)):
        if i in counted:
            continue
        code = frame["gemeente"].iat[i]
        reason = (
            f"gemeente {code} is not a gemeente of layer {gem_layer.name}"
            if figures["attribution"] == "attribute" and code not in known
            else "outside every gemeente"
        )
        not_counted.append(
            {
                "fid": int(terreinen.fids[i]),
                "naam": None if frame["naam"].iat[i] is None else str(frame["naam"].iat[i]),
                "gemeente": code,
                "reason": reason,
            }
        )
    imports = {}
    for name in sorted(inputs.layers):
        stored = inputs.layers[name].quality
        if stored:
            imports[name] = {
                "version": inputs.layers[name].version,
                "repaired": len(stored.get("repaired") or []),
                "mapped_values": stored.get("mapped_values") or [],
            }
    return {
        **figures,
        "terreinen": report_json(report),
        "not_counted": not_counted,
        "unknown_values": replaced,
        "imports": imports,
    }


def _region_rows(regions: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in regions.to_dict(orient="records"):
        out.append({k: v for k, v in record.items()})
    return out


#: (description in the file, description stored, values tag) of each raster.
RASTERS = {
    "suitability": (
        "geschiktheid (0-1)",
        "Geschiktheid voor nieuwe ruimte (0-1), uitgesloten en bezette cellen nodata",
        "gewogen geschiktheid 0-1; nodata: uitgesloten of bezet",
    ),
    "allocation": (
        "allocatie",
        "Toegewezen cellen: 0 niet, 1 nieuwe ruimte, 2 nieuwe HMC-ruimte; 255 buiten de gemeenten",
        "0 niet toegewezen, 1 nieuwe ruimte, 2 nieuwe HMC-ruimte",
    ),
    "constraints": (
        "beperkingen",
        "Beperkingen: 0 vrij, 1 uitgesloten, 2 bezet (terrein of aanbod), "
        "3 binnen richtafstand (geen HMC)",
        "0 vrij, 1 uitgesloten, 2 bestaand terrein of aanbod, 3 vrij maar niet voor HMC",
    ),
}


def _writers(spec: ScenarioSpec, grid: Grid) -> Writers:
    """The three GeoTIFFs of a run, opened for writing strip by strip."""

    def writer(name: str, dtype: type, nodata: float, resampling: Resampling) -> GeoTiffWriter:
        description, _, values = RASTERS[name]
        return GeoTiffWriter(
            grid,
            dtype=np.dtype(dtype),
            nodata=nodata,
            description=description,
            resampling=resampling,
            tags={"scenario": spec.name, "values": values},
        )

    return Writers(
        suitability=writer("suitability", np.float32, SUITABILITY_NODATA, Resampling.average),
        constraints=writer("constraints", np.uint8, CLASS_NODATA, Resampling.nearest),
        allocation=writer("allocation", np.uint8, CLASS_NODATA, Resampling.nearest),
    )


def _outputs(
    spec: ScenarioSpec,
    rasters: Rasters,
    writers: Writers,
    placed: dict[str, Any],
    zonering: Zonering,
    gemeenten: Gemeenten,
) -> tuple[dict[str, tuple[bytes, str]], dict[str, DerivedLayer]]:
    """GeoTIFFs and the derived layers' features."""
    grid = rasters.grid
    result: alloc.Allocation = placed["allocation"]
    rasters.write_allocation(result, writers.allocation)
    tiffs = {
        name: (getattr(writers, name).close(), RASTERS[name][1])
        for name in ("suitability", "allocation", "constraints")
    }
    polygons = alloc.allocation_polygons(result, grid)
    allocatie = pd.DataFrame(
        {
            "scenario": spec.name,
            "gemeente": [str(gemeenten.statcodes[g]) for g, *_ in polygons],
            "regio": [gemeenten.regions[g] for g, *_ in polygons],
            "categorie": ["hmc" if c == alloc.NEW_HMC else "overig" for _, c, *_ in polygons],
            "cellen": [cells for *_, cells, _ in polygons],
            "ha": [cells * grid.cell_ha for *_, cells, _ in polygons],
            "geschiktheid": [round(s, 6) for *_, s in polygons],
        }
    )
    layers = {
        "allocatie": DerivedLayer(
            "allocatie",
            allocatie,
            np.array([geom for _, _, geom, *_ in polygons], dtype=object),
            f"Allocatie nieuwe ruimte ({spec.name})",
        ),
        "milieuzones": DerivedLayer(
            "milieuzones",
            zonering.zones.copy(),
            polygonal(zonering.zone_geometries),
            f"Milieuzones bedrijventerreinen ({spec.name})",
        ),
        "conflicten": DerivedLayer(
            "conflicten",
            zonering.conflicts.copy(),
            polygonal(zonering.conflict_geometries),
            f"Conflicten in milieuzones ({spec.name})",
        ),
    }
    return tiffs, layers


def _jsonable(value: Any) -> Any:
    """Numpy scalars to Python, NaN to None, recursively."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    return value
