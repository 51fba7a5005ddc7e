"""The scenario spec: what a ruimtebeslag scenario asks, as data (YAML or JSON).

A spec names the layers it reads, the demand (growth per category of terreinen, with
overrides and absolute claims), the supply sources and their weights, the constraints
for new space, the allocation grid and suitability criteria, the milieuzonering and the
indicator thresholds. Every number that steers the outcome lives here (or in the VNG
table), not in code. ``docs/methode-ruimtebeslag.md`` explains each field.

The models check each field on its own; checks across fields and against the database
(known layers, statcodes, regions) are in :mod:`scenarios.validation`, which collects
every problem into one :class:`~scenarios.errors.SpecError`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z][a-z0-9_-]{0,62}$"
Basis = Literal["bruto", "netto"]
Omgevingstype = Literal["rustig", "gemengd"]
BrutoSource = Literal["attribute", "geometry"]
"""Bruto ha of a terrein: its ``bruto_ha`` attribute (IBIS) or its polygon area."""
Attribution = Literal["area_share", "attribute"]
"""A terrein's ha per gemeente: by area share, or wholly to the gemeente of its ``gemeente``."""
_REF_RE = re.compile(r"^(?P<name>[^@]+)@(?P<version>\d+)$")


def _category_text(value: Any) -> Any:
    """A milieucategorie written as a number in YAML (``4``, ``4.2``) as its code text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return value


class _Model(BaseModel):
    """Strict models: unknown keys are problems (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerRef(_Model):
    """A layer (optionally at a pinned version), optionally filtered by attribute values.

    Written as ``name``, ``name@version`` or a mapping. ``where`` keeps features whose
    attribute has one of the listed values (``{klasse: [water, verkeer]}``).
    ``required: false`` lets a spec name a layer that may be absent (it is then skipped
    and the run says so).
    """

    layer: str = Field(pattern=SLUG)
    version: int | None = Field(default=None, ge=1)
    where: dict[str, list[str]] | None = None
    required: bool = True

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            m = _REF_RE.match(value)
            if m:
                return {"layer": m["name"], "version": int(m["version"])}
            return {"layer": value}
        return value

    @field_validator("where")
    @classmethod
    def _where_values(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is not None:
            for field, values in value.items():
                if not values:
                    raise ValueError(f"where.{field} lists no values")
        return value


class Layers(_Model):
    """The layers with a fixed role in the computation."""

    gemeenten: LayerRef = LayerRef(layer="gemeenten")
    bedrijventerreinen: LayerRef = LayerRef(layer="bedrijventerreinen")
    reserveringen: LayerRef | None = None
    strategische_locaties: LayerRef | None = None
    vestigingen: LayerRef | None = None
    landgebruik: LayerRef | None = None


class Selection(_Model):
    """Which existing terreinen a demand category grows from (all conditions must hold)."""

    hmc: bool | None = None
    """True: only HMC terreinen (max_milieucategorie ≥ the HMC threshold); False: only others."""
    type_werklocatie: list[str] | None = None
    terreintype: list[str] | None = None
    planstatus: list[str] | None = None


class DemandCategory(_Model):
    """Growth in % of the current ruimtebeslag of a selection of terreinen."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    growth_pct: float = Field(ge=-100, le=1000)
    select: Selection = Selection()
    overrides: dict[str, float] = Field(default_factory=dict)
    """Growth % per gemeente (statcode) or region name; a gemeente beats its region."""

    @field_validator("overrides")
    @classmethod
    def _override_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not -100 <= v <= 1000]
        if bad:
            raise ValueError(f"growth % must be between -100 and 1000 (overrides {', '.join(bad)})")
        return value


class Claim(_Model):
    """An absolute extra claim in ha (on the basis) for a gemeente or a region."""

    name: str = "claim"
    gemeente: str | None = None
    region: str | None = None
    ha: float = Field(ge=0)
    hmc: bool = False
    """The claim needs HMC space (the richtafstand rule applies where it is allocated)."""

    @model_validator(mode="after")
    def _one_target(self) -> Claim:
        if (self.gemeente is None) == (self.region is None):
            raise ValueError("a claim names exactly one of gemeente or region")
        return self


class Demand(_Model):
    """Ruimtevraag: growth per category on a basis, plus absolute claims."""

    basis: Basis = "bruto"
    categories: list[DemandCategory] = Field(min_length=1)
    claims: list[Claim] = Field(default_factory=list)


class WeightedSource(_Model):
    """A supply source counted with a weight (0 switches it off)."""

    weight: float = Field(default=1.0, ge=0)


class ReserveringenSupply(_Model):
    """Reserveringen count with their area in the gemeente, weighted by status."""

    hard: float = Field(default=1.0, ge=0)
    zacht: float = Field(default=0.5, ge=0)
    hmc_functies: list[str] = Field(default_factory=list)
    """Reserveringen with one of these functies count as HMC-capable supply."""


class StrategischeLocatiesSupply(_Model):
    """Strategische locaties count with their capaciteit_ha, weighted."""

    weight: float = Field(default=1.0, ge=0)
    statuses: list[str] = Field(
        default_factory=lambda: ["verkenning", "voorgesteld", "vastgelegd", "beschikbaar"]
    )
    hmc_types: list[str] = Field(
        default_factory=lambda: ["hmc_multimodaal", "watergebonden", "haven_industrie"]
    )
    """Location types that count as HMC-capable supply."""


class Supply(_Model):
    """Aanbod: nog uitgeefbaar, reserveringen, strategische locaties, intensification."""

    uitgeefbaar: WeightedSource = WeightedSource()
    reserveringen: ReserveringenSupply = ReserveringenSupply()
    strategische_locaties: StrategischeLocatiesSupply = StrategischeLocatiesSupply()
    intensification_pct: float = Field(default=0.0, ge=0, le=100)
    """Extra room from intensifying existing terreinen, % of their netto ha."""
    protect_hmc_supply: bool = True
    """HMC-capable supply left over after HMC demand is not used for other demand."""
    netto_bruto_ratio: float | None = Field(default=None, gt=0, le=1)
    """netto/bruto to convert between bases; None: Σ netto / Σ bruto of the terreinen read."""


class ExcludeRule(LayerRef):
    """A layer (or some of its features) where no new space may go."""

    buffer_m: float = Field(default=0.0, ge=0)


class DistanceLayer(LayerRef):
    """A layer of sensitive objects with their omgevingstype (per feature or fixed)."""

    omgevingstype_field: str | None = "omgevingstype"
    omgevingstype: Omgevingstype = "rustig"
    """Used where the feature has no (valid) value in ``omgevingstype_field``."""


class HmcRule(_Model):
    """New HMC space keeps at least the richtafstand of its category from these layers."""

    enabled: bool = True
    layers: list[DistanceLayer] = Field(default_factory=list)
    category: str | None = None
    """Milieucategorie assumed for new HMC space; None: the HMC threshold."""

    @field_validator("category", mode="before")
    @classmethod
    def _category_text(cls, value: Any) -> Any:
        return _category_text(value)


class Constraints(_Model):
    """Where new space may not go."""

    exclude: list[ExcludeRule] = Field(default_factory=list)
    hmc_richtafstand: HmcRule = HmcRule()


class Criterion(_Model):
    """One suitability criterion: a score from the distance to some layers, with a weight."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    type: str
    """A criterion type of :mod:`scenarios.criteria` (``proximity``, ``distance_from``)."""
    weight: float = Field(ge=0)
    max_distance_m: float = Field(gt=0)
    layers: list[LayerRef] = Field(min_length=1)


class Allocation(_Model):
    """Placing unmet demand on a grid by suitability."""

    cell_size_m: float = Field(default=25.0, gt=0, le=1000)
    unit: Literal["gemeente", "region"] = "gemeente"
    criteria: list[Criterion] = Field(default_factory=list)


class Milieuzonering(_Model):
    """Zones around terreinen (VNG richtafstand) and what lies inside them."""

    terreinen: Literal["hmc", "all"] = "hmc"
    """Zones and conflicts for HMC terreinen only, or for every terrein."""
    conflict_layers: list[DistanceLayer] = Field(default_factory=list)


class StatusThresholds(_Model):
    """Status per gemeente from the coverage (supply ÷ demand)."""

    groen_from: float = Field(default=1.0, ge=0)
    oranje_from: float = Field(default=0.75, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> StatusThresholds:
        if self.oranje_from > self.groen_from:
            raise ValueError("oranje_from must not be above groen_from")
        return self


class StrategischeLocatiesTarget(_Model):
    """Strategische locaties available by ``year`` against a target (ha and/or count).

    A location counts as available by ``year`` when its status is one of
    ``available_statuses`` (available now) or its ``beschikbaar_vanaf`` is ``year`` or
    earlier. Status: groen when every target given is met, oranje from ``oranje_from`` of
    each, else rood; without a target the figures are given without a status.
    """

    year: int = Field(default=2035, ge=1990, le=2200)
    target_ha: float | None = Field(default=None, ge=0)
    target_count: int | None = Field(default=None, ge=0)
    oranje_from: float = Field(default=0.75, ge=0, le=1)
    available_statuses: list[str] = Field(
        default_factory=lambda: ["beschikbaar", "in_gebruik"], min_length=1
    )


class Indicators(_Model):
    """Settings of the Ruimte indicators."""

    status: StatusThresholds = StatusThresholds()
    strategische_locaties: StrategischeLocatiesTarget = StrategischeLocatiesTarget()


class Range(_Model):
    """A number anywhere between ``min`` and ``max``, each value as likely (uniform)."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not be above max ({self.max:g})")
        return self

    def central(self) -> float:
        """The value of the base run: the middle of the range."""
        return (self.min + self.max) / 2

    def ends(self) -> tuple[float, float]:
        """The lowest and highest value."""
        return self.min, self.max


class Triangular(Range):
    """A number between ``min`` and ``max``, most likely ``mode`` (triangular)."""

    mode: float

    @model_validator(mode="after")
    def _mode_inside(self) -> Triangular:
        if not self.min <= self.mode <= self.max:
            raise ValueError(
                f"mode ({self.mode:g}) must lie between min ({self.min:g}) and max ({self.max:g})"
            )
        return self

    def central(self) -> float:
        """The value of the base run: the mode."""
        return self.mode


class Choice(_Model):
    """One of ``values``, each as likely."""

    values: list[float] = Field(min_length=1)

    def central(self) -> float:
        """The value of the base run: the median of the values (the lower one of two)."""
        ordered = sorted(self.values)
        return ordered[(len(ordered) - 1) // 2]

    def ends(self) -> tuple[float, float]:
        """The lowest and highest value."""
        return min(self.values), max(self.values)


Distribution = Triangular | Range | Choice


class Ensemble(_Model):
    """Run ``samples`` variants of the scenario, drawing every distribution (seeded).

    Distributions are written in place of a number (``growth_pct: {min: 10, max: 15}``,
    ``{min, mode, max}`` or a list of values); validation moves them here, keyed by their
    path (``demand.categories[0].growth_pct``), and puts the central value in their place:
    the value of the base run.
    """

    samples: int = Field(ge=1, le=10_000)
    method: Literal["latin_hypercube", "random"] = "latin_hypercube"
    seed: int = Field(ge=0, le=2**32 - 1)
    robust_share: float = Field(default=0.8, gt=0, le=1)
    """A cell allocated in at least this share of the variants is a robust location."""
    distributions: dict[str, Distribution] = Field(default_factory=dict)


class CoverageType(_Model):
    """The reach of one type of regional circular function."""

    reach_km: float | None = Field(default=None, gt=0, le=500)
    """Straight-line km from a gemeente's centroid; None: the default of the type
    (``scenarios/coverage.yaml``)."""


class PopulationRef(LayerRef):
    """A layer of points or polygons with a population count per feature."""

    field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")


class Suggest(_Model):
    """Suggest ``k`` sites per type that leaves gemeenten uncovered."""

    k: int = Field(ge=1, le=50)
    block_m: float = Field(default=1000, gt=0, le=50_000)
    """Candidate sites: the most suitable cell of each block of this size (m)."""


class Coverage(_Model):
    """Coverage of regional circular functions: which gemeenten have one within reach."""

    layer: LayerRef = LayerRef(layer="strategische_locaties")
    function_field: str = Field(default="functie", pattern=r"^[a-z][a-z0-9_]{0,62}$")
    types: dict[str, CoverageType] = Field(min_length=1)
    population: PopulationRef | None = None
    """Population-weighted centroids from this layer; None: area centroids."""
    suggest: Suggest | None = None


DemandPath = Literal["linear"] | dict[int, float]
"""How demand grows to the horizon: ``linear`` or, per milestone, the share (0-1) of the
horizon's extra demand reached by then."""


class Phasing(_Model):
    """Figures and allocation at milestones between the base year and the horizon.

    ``milestones`` are years, strictly increasing, after the base year and not after the
    horizon year. ``demand_path`` gives the share (0-1) of the horizon's extra demand
    (growth and claims alike) reached by each milestone: ``linear`` is
    (milestone − base year) ÷ (horizon year − base year); given per milestone its keys are the
    milestones, its shares do not fall, and a milestone at the horizon has share 1.
    ``lead_time_years`` sets, per planstatus of the bedrijventerreinen, the years after the
    base year at which their nog uitgeefbaar ha (and intensification) become available; a
    status not named keeps its default (``scenarios/phasing.yaml``).
    """

    milestones: list[int] = Field(min_length=1, max_length=20)
    demand_path: DemandPath = "linear"
    lead_time_years: dict[str, float] = Field(default_factory=dict)

    @field_validator("milestones")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError(
                f"milestones must be strictly increasing (got {', '.join(map(str, value))})"
            )
        return value

    @field_validator("demand_path")
    @classmethod
    def _shares(cls, value: DemandPath) -> DemandPath:
        if isinstance(value, dict):
            bad = [str(k) for k, v in value.items() if not 0 <= v <= 1]
            if bad:
                raise ValueError(f"shares must be between 0 and 1 (milestones {', '.join(bad)})")
            ordered = [value[k] for k in sorted(value)]
            if any(b < a for a, b in zip(ordered, ordered[1:], strict=False)):
                raise ValueError("shares must not fall from one milestone to the next")
        return value

    @field_validator("lead_time_years")
    @classmethod
    def _lead_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not 0 <= v <= 100]
        if bad:
            raise ValueError(f"lead times must be between 0 and 100 years ({', '.join(bad)})")
        return value


class ScenarioSpec(_Model):
    """A whole scenario (see the module docstring and docs/methode-ruimtebeslag.md)."""

    name: str = Field(pattern=SLUG)
    title: str = ""
    description: str = ""
    base_year: int = Field(ge=1990, le=2100)
    horizon_year: int = Field(ge=1990, le=2200)
    hmc_threshold: str = "4"
    layers: Layers = Layers()
    regions: dict[str, list[str]] = Field(default_factory=dict)
    """Region name → statcodes of its gemeenten."""
    demand: Demand
    supply: Supply = Supply()
    constraints: Constraints = Constraints()
    allocation: Allocation = Allocation()
    milieuzonering: Milieuzonering = Milieuzonering()
    indicators: Indicators = Indicators()
    coverage: Coverage | None = None
    """Coverage of regional circular functions (:mod:`scenarios.coverage`); None: none."""
    ensemble: Ensemble | None = None
    """Bandwidths: the numbers given as distributions and how many variants to run
    (:mod:`scenarios.ensemble`); None: one run."""
    phasing: Phasing | None = None
    """Figures per milestone and staged allocation (:mod:`scenarios.phasing`); None: the
    horizon only."""
    bruto_source: BrutoSource | None = None
    """``attribute``: bruto ha from the terreinen's ``bruto_ha`` (IBIS); ``geometry``: from
    their polygons. None: the planning setting (``RUIMTE_PLANNING_BRUTO_SOURCE``)."""
    attribution: Attribution | None = None
    """``area_share``: a terrein's ha shared over gemeenten by area; ``attribute``: wholly to
    the gemeente in its ``gemeente`` field. None: the setting (``RUIMTE_PLANNING_ATTRIBUTION``)."""
    unknown_values: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Layer → field → value: what a value the run does not know in a field it classifies on
    (omgevingstype, status, type, max_milieucategorie, …) counts as. Without an entry such a
    value fails the run, naming the layer, the feature and the value."""

    @field_validator("hmc_threshold", mode="before")
    @classmethod
    def _category_text(cls, value: Any) -> Any:
        return _category_text(value)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (what is stored and what a run records)."""
        return self.model_dump(mode="json")


def spec_layer_refs(spec: ScenarioSpec) -> list[tuple[str, LayerRef]]:
    """Every layer reference of a spec with where it is used."""
    out: list[tuple[str, LayerRef]] = []
    for role in (
        "gemeenten",
        "bedrijventerreinen",
        "reserveringen",
        "strategische_locaties",
        "vestigingen",
        "landgebruik",
    ):
        ref = getattr(spec.layers, role)
        if ref is not None:
            out.append((f"layers.{role}", ref))
    out += [(f"constraints.exclude[{i}]", r) for i, r in enumerate(spec.constraints.exclude)]
    out += [
        (f"constraints.hmc_richtafstand.layers[{i}]", r)
        for i, r in enumerate(spec.constraints.hmc_richtafstand.layers)
    ]
    for i, crit in enumerate(spec.allocation.criteria):
        out += [(f"allocation.criteria[{i}].layers[{j}]", r) for j, r in enumerate(crit.layers)]
    out += [
        (f"milieuzonering.conflict_layers[{i}]", r)
        for i, r in enumerate(spec.milieuzonering.conflict_layers)
    ]
    if spec.coverage is not None:
        out.append(("coverage.layer", spec.coverage.layer))
        if spec.coverage.population is not None:
            out.append(("coverage.population", spec.coverage.population))
    return out
