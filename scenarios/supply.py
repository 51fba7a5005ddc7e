"""Aanbod: ha available per gemeente, by source, with the part that is HMC-capable.

Each source is a small class on :class:`SupplySource`, listed in :data:`SOURCES` (the
order of the result's columns). A source measures in its own basis: IBIS figures
(uitgeefbaar, intensification) are netto, areas of reserveringen and the capacity of
strategische locaties are bruto-like. :func:`supply_per_gemeente` converts each to the
spec's basis with the netto/bruto ratio::

    on a bruto basis:  netto figure ÷ ratio        on a netto basis:  bruto figure × ratio
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from scenarios.errors import ScenarioError
from scenarios.indicators import available_by
from scenarios.inputs import Inputs, LayerData
from scenarios.spec import Supply
from scenarios.units import Gemeenten
from spatial.overlay import split_by_zones

HA = 10_000.0


@dataclass(frozen=True)
class Availability:
    """Which supply counts by ``year`` (a milestone of a phased scenario).

    - terreinen (nog uitgeefbaar, intensification): from the base year plus the lead time
      of their planstatus;
    - reserveringen: from the year of their ``geldig_van`` (none given: now);
    - strategische locaties: when :func:`scenarios.indicators.available_by` says so (a status
      of ``available_statuses``, or ``beschikbaar_vanaf`` ≤ ``year``).
    """

    year: int
    base_year: int
    lead_time_years: Mapping[str, float]
    available_statuses: tuple[str, ...]

    def terreinen(self, planstatus: np.ndarray) -> np.ndarray:
        """Mask of the pieces whose planstatus makes their ha available by ``year``."""
        values = np.asarray(planstatus, dtype=object)
        unknown = sorted({str(v) for v in values if v not in self.lead_time_years})
        if unknown:
            raise ScenarioError(
                f"planstatus {unknown} of bedrijventerreinen has no lead time "
                f"(phasing.lead_time_years); known: {', '.join(self.lead_time_years)}"
            )
        lead = np.array([float(self.lead_time_years[v]) for v in values], dtype=float)
        return self.base_year + lead <= self.year + 1e-9

    def reserveringen(self, layer: LayerData) -> np.ndarray:
        """Mask of the reserveringen valid (``geldig_van``) by ``year``."""
        return np.nan_to_num(valid_from_years(layer), nan=-np.inf) <= self.year

    def locations(self, layer: LayerData) -> np.ndarray:
        """Mask of the strategische locaties available by ``year``."""
        return available_by(
            layer.column("status").astype(str),
            layer.numbers("beschikbaar_vanaf"),
            self.year,
            list(self.available_statuses),
        )


def valid_from_years(layer: LayerData) -> np.ndarray:
    """The year of each reservering's ``geldig_van`` (NaN where none is given).

    Examples
    --------
    >>> import datetime
    >>> r = LayerData("r", "reserveringen", 1, np.array([None] * 3),
    ...               pd.DataFrame({"geldig_van": ["2032-01-01", None, datetime.date(2041, 5, 1)]}))
    >>> valid_from_years(r).tolist()
    [2032.0, nan, 2041.0]
    """
    out = np.full(len(layer), np.nan)
    for i, value in enumerate(layer.column("geldig_van")):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
            continue
        stamp = pd.to_datetime(value, errors="coerce")
        if pd.isna(stamp):
            raise ScenarioError(
                f"layer {layer.name!r} version {layer.version}: geldig_van {value!r} of "
                f"reservering {int(layer.fids[i])} is not a date"
            )
        out[i] = stamp.year
    return out


@dataclass
class SupplyContext:
    """What the sources read: the terrein pieces, the layers, the gemeenten, the settings,
    and (phasing) which supply is available by a milestone (None: all of it)."""

    pieces: pd.DataFrame
    inputs: Inputs
    gemeenten: Gemeenten
    settings: Supply
    available: Availability | None = None

    def terreinen_available(self) -> np.ndarray:
        """Mask of the pieces whose ha count (all of them without phasing)."""
        if self.available is None:
            return np.ones(len(self.pieces), dtype=bool)
        return self.available.terreinen(self.pieces["planstatus"].to_numpy(dtype=object))

    def per_gemeente(self, gemeente: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` per gemeente position."""
        return np.bincount(gemeente.astype(np.int64), weights=values, minlength=len(self.gemeenten))


class SupplySource:
    """Base class: one source of supply."""

    name: ClassVar[str]
    title: ClassVar[str]
    basis: ClassVar[str]
    """The basis the source measures in: ``netto`` or ``bruto``."""

    def compute(self, ctx: SupplyContext) -> tuple[np.ndarray, np.ndarray]:
        """(ha, HMC-capable ha) per gemeente position, in the source's own basis."""
        raise NotImplementedError


class Uitgeefbaar(SupplySource):
    """Nog uitgeefbaar ha of the terreinen (IBIS), × weight; HMC-capable on HMC terreinen."""

    name = "uitgeefbaar"
    title = "nog uitgeefbaar"
    basis = "netto"

    def compute(self, ctx: SupplyContext) -> tuple[np.ndarray, np.ndarray]:
        """Weighted uitgeefbaar ha per gemeente."""
        p = ctx.pieces
        ha = p["uitgeefbaar_ha"].to_numpy(dtype=float) * ctx.settings.uitgeefbaar.weight
        ha = np.where(ctx.terreinen_available(), ha, 0.0)
        gem = p["gemeente"].to_numpy()
        hmc = np.where(p["hmc"].to_numpy(dtype=bool), ha, 0.0)
        return ctx.per_gemeente(gem, ha), ctx.per_gemeente(gem, hmc)


class Intensivering(SupplySource):
    """Intensification: ``intensification_pct`` % of the netto ha of existing terreinen."""

    name = "intensivering"
    title = "intensivering"
    basis = "netto"

    def compute(self, ctx: SupplyContext) -> tuple[np.ndarray, np.ndarray]:
        """Netto ha × pct per gemeente."""
        p = ctx.pieces
        ha = p["netto_ha"].to_numpy(dtype=float) * ctx.settings.intensification_pct / 100.0
        ha = np.where(ctx.terreinen_available(), ha, 0.0)
        gem = p["gemeente"].to_numpy()
        hmc = np.where(p["hmc"].to_numpy(dtype=bool), ha, 0.0)
        return ctx.per_gemeente(gem, ha), ctx.per_gemeente(gem, hmc)


class _Reserveringen(SupplySource):
    """Area of the reserveringen with one status, in each gemeente, × that status's weight."""

    status: ClassVar[str]
    basis = "bruto"

    def compute(self, ctx: SupplyContext) -> tuple[np.ndarray, np.ndarray]:
        """Weighted reservering area per gemeente."""
        n = len(ctx.gemeenten)
        layer = ctx.inputs.get(ctx.inputs.reserveringen)
        weight = getattr(ctx.settings.reserveringen, self.status)
        if layer is None or weight == 0:
            return np.zeros(n), np.zeros(n)
        keep = layer.column("status") == self.status
        if ctx.available is not None:
            keep = keep & ctx.available.reserveringen(layer)
        hmc = np.isin(
            layer.column("functie").astype(str), list(ctx.settings.reserveringen.hmc_functies)
        )
        return _area_supply(ctx, layer, keep, hmc, weight)


class ReserveringenHard(_Reserveringen):
    """Hard reserveringen (in a vastgesteld omgevingsplan)."""

    name = "reserveringen_hard"
    title = "reserveringen (hard)"
    status = "hard"


class ReserveringenZacht(_Reserveringen):
    """Zachte reserveringen (in a visie)."""

    name = "reserveringen_zacht"
    title = "reserveringen (zacht)"
    status = "zacht"


class StrategischeLocaties(SupplySource):
    """Capaciteit_ha of strategische locaties with a counted status, × weight.

    A polygon location's capacity is shared over gemeenten by area; a point's goes to
    the gemeente that holds it. Locations of an HMC type are HMC-capable.
    """

    name = "strategische_locaties"
    title = "strategische locaties"
    basis = "bruto"

    def compute(self, ctx: SupplyContext) -> tuple[np.ndarray, np.ndarray]:
        """Weighted capacity per gemeente."""
        n = len(ctx.gemeenten)
        layer = ctx.inputs.get(ctx.inputs.strategische_locaties)
        settings = ctx.settings.strategische_locaties
        if layer is None or settings.weight == 0:
            return np.zeros(n), np.zeros(n)
        keep = np.isin(layer.column("status").astype(str), list(settings.statuses))
        if ctx.available is not None:
            keep &= ctx.available.locations(layer)
        hmc = np.isin(layer.column("type").astype(str), list(settings.hmc_types))
        capacity = np.nan_to_num(layer.numbers("capaciteit_ha"), nan=0.0)
        pieces = split_by_zones(layer.geometries[keep], ctx.gemeenten.geometries)
        idx = np.flatnonzero(keep)[pieces.feature]
        ha = capacity[idx] * pieces.share * settings.weight
        return ctx.per_gemeente(pieces.zone, ha), ctx.per_gemeente(
            pieces.zone, np.where(hmc[idx], ha, 0.0)
        )


def _area_supply(
    ctx: SupplyContext, layer: LayerData, keep: np.ndarray, hmc: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray]:
    pieces = split_by_zones(layer.geometries[keep], ctx.gemeenten.geometries)
    idx = np.flatnonzero(keep)[pieces.feature]
    ha = pieces.area / HA * weight
    return ctx.per_gemeente(pieces.zone, ha), ctx.per_gemeente(
        pieces.zone, np.where(hmc[idx], ha, 0.0)
    )


SOURCES: dict[str, type[SupplySource]] = {
    s.name: s
    for s in (
        Uitgeefbaar,
        ReserveringenHard,
        ReserveringenZacht,
        StrategischeLocaties,
        Intensivering,
    )
}


def netto_bruto_ratio(pieces: pd.DataFrame, settings: Supply) -> float:
    """The spec's ratio, else Σ netto ÷ Σ bruto of the terreinen in the gemeenten (1 without any).

    Examples
    --------
    >>> netto_bruto_ratio(pd.DataFrame({"netto_ha": [8.0], "bruto_ha": [10.0]}), Supply())
    0.8
    """
    if settings.netto_bruto_ratio is not None:
        return float(settings.netto_bruto_ratio)
    bruto = float(pieces["bruto_ha"].sum())
    netto = float(pieces["netto_ha"].sum())
    return netto / bruto if bruto > 0 and netto > 0 else 1.0


def supply_per_gemeente(ctx: SupplyContext, basis: str, ratio: float) -> pd.DataFrame:
    """Supply per gemeente on ``basis``, per source and in total, with the HMC-capable part.

    Parameters
    ----------
    ctx
        Pieces, inputs, gemeenten and the spec's supply settings.
    basis
        ``bruto`` or ``netto``: the demand's basis.
    ratio
        netto ÷ bruto, to convert sources measured on the other basis.

    Returns
    -------
    pandas.DataFrame
        ``supply_<source>_ha`` per source, ``supply_ha`` and ``hmc_supply_ha``.
    """
    n = len(ctx.gemeenten)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    total, hmc = np.zeros(n), np.zeros(n)
    for name, source_cls in SOURCES.items():
        source = source_cls()
        ha, hmc_ha = source.compute(ctx)
        factor = _conversion(source.basis, basis, ratio)
        out[f"supply_{name}_ha"] = ha * factor
        total += ha * factor
        hmc += hmc_ha * factor
    out["supply_ha"] = total
    out["hmc_supply_ha"] = hmc
    return out


def _conversion(source_basis: str, basis: str, ratio: float) -> float:
    if source_basis == basis:
        return 1.0
    return 1.0 / ratio if basis == "bruto" else ratio
