"""The result of a run, typed: what :func:`scenarios.compute.compute` returns and a run stores.

The JSON is the one runs have always stored (``model_dump`` of these models with the keys
that were set, :meth:`RunResult.as_json`), so stored runs load unchanged. Every model keeps
keys it does not name (``extra="allow"``): the spec's own columns (``demand_<categorie>_ha``,
``supply_<bron>_ha``) and keys a later version may add; ``row.figure(name)`` reads any of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    """A part of the result: named fields typed, other keys kept as they are."""

    model_config = ConfigDict(extra="allow")

    def figure(self, name: str) -> Any:
        """A field or kept key by name (None when the run has no such figure)."""
        return getattr(self, name, None)

    def as_json(self) -> dict[str, Any]:
        """The JSON form: the keys that were set (a stored run dumps back to what was stored)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Figures(_Open):
    """The figures of a row (gemeente, region or totals); None where the run has none."""

    current_ha: float | None = None
    current_bruto_ha: float | None = None
    current_netto_ha: float | None = None
    current_uitgegeven_ha: float | None = None
    current_uitgeefbaar_ha: float | None = None
    hmc_current_ha: float | None = None
    hmc_bruto_ha: float | None = None
    hmc_netto_ha: float | None = None
    hmc_uitgegeven_ha: float | None = None
    hmc_uitgeefbaar_ha: float | None = None
    terreinen: int | None = None
    demand_ha: float | None = None
    hmc_demand_ha: float | None = None
    growth_demand_ha: float | None = None
    claims_demand_ha: float | None = None
    supply_ha: float | None = None
    hmc_supply_ha: float | None = None
    balance_ha: float | None = None
    uncovered_ha: float | None = None
    hmc_uncovered_ha: float | None = None
    other_uncovered_ha: float | None = None
    allocated_ha: float | None = None
    hmc_allocated_ha: float | None = None
    other_allocated_ha: float | None = None
    allocated_cells: int | None = None
    hmc_allocated_cells: int | None = None
    allocated_cells_ha: float | None = None
    unmet_ha: float | None = None
    hmc_unmet_ha: float | None = None
    coverage: float | None = None
    status: str | None = None


class _Place(Figures):
    """A row of a gemeente or of the work area."""

    statcode: str
    naam: str
    regio: str | None = None
    basis: str
    conflicts: int | None = None
    conflicts_overlap_ha: float | None = None


class GemeenteRow(_Place):
    """One gemeente."""

    hmc_benutting_pct: float | None = None


class RegionRow(Figures):
    """One region of the spec (figures summed, or pooled when allocating per region)."""

    region: str
    gemeenten: list[str] = Field(default_factory=list)
    counts: dict[str, Any] = Field(default_factory=dict)


class TotalsRow(_Place):
    """The work area: sums of the gemeente rows, distinct counts computed (``counts`` says)."""

    counts: dict[str, Any] = Field(default_factory=dict)


class SpecRef(_Open):
    """The spec a result is of (the version once stored)."""

    name: str
    title: str = ""
    version: int | None = None


class FigureChoices(_Open):
    """Bruto source and attribution, and whether the spec or the settings chose them."""

    bruto_source: str
    bruto_source_from: str
    attribution: str
    attribution_from: str


class RunInputs(_Open):
    """The layers read (name: version), whether any is synthetic, notes (skipped layers)."""

    layers: dict[str, int]
    synthetic: bool
    notes: list[str] = Field(default_factory=list)


class Ruimtevraag(_Open):
    """Ruimtevraag against beschikbare ruimte per gemeente, with the status thresholds."""

    thresholds: dict[str, Any]
    status_counts: dict[str, int]
    per_gemeente: list[dict[str, Any]]


class HmcBenutting(_Open):
    """Share of HMC-zoned terrein that HMC firms use (None when no vestigingen layer)."""

    pct: float | None = None
    hmc_netto_ha: float | None = None
    threshold: str | None = None
    per_gemeente: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Landgebruik(_Open):
    """Land use of the work area per class (thousands of ha)."""

    layer: str
    total_ha: float
    total_duizend_ha: float
    per_klasse: list[dict[str, Any]]


class StrategischeLocaties(_Open):
    """Strategische locaties available by the target year against the spec's target."""

    layer: str
    year: int
    available_ha: float
    available_count: int
    total_ha: float
    total_count: int
    target_ha: float | None = None
    target_count: int | None = None
    share: float | None = None
    """The lowest of available ÷ target over the targets given (None: no target)."""
    status: str | None = None
    reason: str
    available_statuses: list[str]
    per_gemeente: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Indicators(_Open):
    """The Ruimte indicators of the run."""

    landgebruik: Landgebruik | None = None
    hmc_benutting: HmcBenutting | None = None
    ruimtevraag: Ruimtevraag
    strategische_locaties: StrategischeLocaties | None = None
    """None without a strategische_locaties layer (and in runs stored before it)."""


class Grid(_Open):
    """The raster grid of the allocation (EPSG:28992, RD-aligned)."""

    crs: str
    cell_size_m: float
    cell_ha: float
    origin: list[float]
    rows: int
    cols: int


class AllocationSummary(_Open):
    """The grid, the cells of each constraint class and the cells allocated."""

    unit: str
    grid: Grid
    cells: dict[str, int]
    cells_ha: dict[str, float]
    allocated_cells: int
    hmc_allocated_cells: int
    criteria: list[dict[str, Any]] = Field(default_factory=list)


class LayerConflicts(_Open):
    """Conflicts of the milieuzones with one conflict layer."""

    conflicts: int
    overlap_ha: float
    area_ha: float | None = None


class Conflicts(_Open):
    """Milieuzonering: the conflicts of the terreinen's zones with sensitive objects."""

    conflicts: int
    overlap_ha: float
    terreinen_with_zone: int | None = None
    terreinen_with_conflicts: int | None = None
    by_layer: dict[str, LayerConflicts] = Field(default_factory=dict)
    most_squeezed: list[dict[str, Any]] = Field(default_factory=list)
    per_gemeente: dict[str, dict[str, Any]] = Field(default_factory=dict)


class RunInfo(_Open):
    """Set when stored: the run's id, seconds per step, derived layers and rasters."""

    id: int
    timing: dict[str, float] = Field(default_factory=dict)
    layers: dict[str, str] = Field(default_factory=dict)
    rasters: list[str] = Field(default_factory=list)


class Band(_Open):
    """p10, p50 and p90 of a figure over the variants of an ensemble."""

    p10: float
    p50: float
    p90: float


class EnsembleRow(_Open):
    """A gemeente (or the work area) over the variants of an ensemble."""

    statcode: str | None = None
    naam: str | None = None
    demand_ha: Band
    supply_ha: Band
    balance_ha: Band
    uncovered_ha: Band
    unmet_ha: Band
    p_shortage: float
    """Share of the variants in which uncovered demand is above zero."""
    rank_correlation: dict[str, float | None] = Field(default_factory=dict)
    """Spearman's rank correlation of each input with the balance (None: constant)."""
    most_important: dict[str, Any] | None = None
    """The input with the strongest rank correlation: ``{"input": path, "rho": r}``."""
    robust_ha: float = 0.0
    """ha of cells allocated in at least ``robust_share`` of the variants."""


class EnsembleInput(_Open):
    """One distribution of the spec and the values the variants drew."""

    input: str
    label: str = ""
    """Dutch label of the number (``groei bedrijventerreinen (%)``)."""
    kind: str
    distribution: dict[str, Any]
    values: list[float]


class EnsembleResult(_Open):
    """Bandwidths: the ensemble's inputs and figures (:mod:`scenarios.ensemble`)."""

    samples: int
    method: str
    seed: int
    robust_share: float
    inputs: list[EnsembleInput]
    per_gemeente: list[EnsembleRow]
    totals: EnsembleRow
    robust_cells: int
    shortage_rule: str
    percentiles: str


class CoverageRow(_Open):
    """A gemeente's nearest location of a type."""

    statcode: str
    naam: str
    distance_km: float | None = None
    nearest: str | None = None
    nearest_gemeente: str | None = None
    covered: bool


class SuggestedSite(_Open):
    """A suggested site (RD cell centre) and the uncovered gemeenten it would cover."""

    x: float
    y: float
    cell: int
    suitability: float
    gemeente: str | None = None
    covers: list[str]


class CoverageType(_Open):
    """Coverage of one type of regional circular function."""

    type: str
    reach_km: float
    locations: int
    per_gemeente: list[CoverageRow]
    uncovered: list[str]
    share_uncovered: dict[str, float | None]
    suggestions: list[SuggestedSite] = Field(default_factory=list)


class CoverageResult(_Open):
    """Coverage of regional circular functions (:mod:`scenarios.coverage`)."""

    layer: str
    layer_version: int
    function_field: str
    centroid: str
    centroid_per_gemeente: dict[str, str] = Field(default_factory=dict)
    distance: str
    types: list[CoverageType]


class PhasingMilestone(_Open):
    """The figures of a gemeente (or the work area) at one milestone of a phased run."""

    year: int
    demand_share: float
    demand_ha: float
    hmc_demand_ha: float
    supply_ha: float
    hmc_supply_ha: float
    balance_ha: float
    uncovered_ha: float
    allocated_ha: float | None = None
    """Cumulative: allocated by this milestone (None for figures only)."""
    hmc_allocated_ha: float | None = None
    allocated_cells: int | None = None
    unmet_ha: float | None = None


class PhasingRow(_Open):
    """A gemeente (or the work area) over the milestones."""

    statcode: str
    naam: str
    first_shortage: int | None = None
    """The first milestone with balance < 0; None: no shortage at any milestone."""
    milestones: list[PhasingMilestone]


class PhasingResult(_Open):
    """Phasing (:mod:`scenarios.phasing`): figures per milestone and staged allocation."""

    milestones: list[int]
    demand_shares: list[float]
    demand_path: str
    lead_time_years: dict[str, float]
    available_statuses: list[str] = Field(default_factory=list)
    staged: bool = False
    per_gemeente: list[PhasingRow]
    totals: PhasingRow


class RunResult(_Open):
    """A run's result: figures per gemeente, region and in total, indicators, allocation."""

    spec: SpecRef
    basis: str
    base_year: int
    horizon_year: int
    totals: TotalsRow
    per_gemeente: list[GemeenteRow]
    regions: list[RegionRow] = Field(default_factory=list)
    # None only in results stored by versions older than these parts
    hmc_threshold: str | None = None
    netto_bruto_ratio: float | None = None
    milieucategorie_table: str | None = None
    figures: FigureChoices | None = None
    indicators: Indicators | None = None
    inputs: RunInputs | None = None
    quality: dict[str, Any] = Field(default_factory=dict)
    allocation: AllocationSummary | None = None
    """None for figures only (:func:`scenarios.compute.compute_figures`)."""
    milieuzonering: Conflicts | None = None
    coverage: CoverageResult | None = None
    """Set when the spec asks for coverage of regional circular functions."""
    ensemble: EnsembleResult | None = None
    """Set when the spec has an ensemble: the bands over its variants."""
    phasing: PhasingResult | None = None
    """Set when the spec has milestones (``phasing``)."""
    software_version: str | None = None
    run: RunInfo | None = None
