"""Data-quality report of a layer version (per import) and of the inputs of a scenario run.

For bedrijventerreinen the report lists

- the terreinen whose ``bruto_ha`` (the IBIS figure) differs from their polygon area by more
  than a tolerance (a setting, default 5% of the polygon area);
- the terreinen that cross gemeente borders, with the share of their area in each gemeente
  (and the part outside every gemeente), and those whose ``gemeente`` code is not the gemeente
  holding most of their area;

and for every kind the values repaired (geometry repairs at import) or mapped (source values
translated to the kind's values: filled by import profiles and ``--map-value``; an import
without them has an empty list, not a missing one).

The computations are pure functions on GeoDataFrames in EPSG:28992 (columns ``fid``,
``naam``, ``gemeente``, ``bruto_ha`` and the geometry for terreinen; ``statcode``, ``naam``
for gemeenten); :func:`report_json` gives the JSON stored in ``layer_versions.quality`` and
in a run's result. Lists longer than :data:`MAX_ITEMS` are cut (the counts stay whole).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field

from spatial.overlay import split_by_zones

HA = 10_000.0
#: Longest list kept in a report (a 100,000-feature import must not store a huge report).
MAX_ITEMS = 500
#: Shares below this (of a terrein's area) are slivers from digitising, not a real crossing.
MIN_SHARE = 0.001


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MappedValue(_Model):
    """A source value translated to a value of the kind, and how often (import profiles)."""

    field: str
    source: str
    target: str | int | float | bool
    count: int = Field(ge=0)
    via: str | None = None
    """What mapped it: ``profile NAME``, ``value map``, ``synonym`` or ``gemeentenaam``."""


class BrutoDeviation(_Model):
    """A terrein whose ``bruto_ha`` differs from its polygon area by more than the tolerance."""

    fid: int | None
    naam: str | None
    gemeente: str | None
    bruto_ha: float
    area_ha: float
    difference_ha: float
    """bruto_ha − polygon area."""
    difference_pct: float
    """The difference in % of the polygon area."""


class GemeenteShare(_Model):
    """The part of a terrein inside one gemeente."""

    statcode: str
    naam: str | None
    share: float
    area_ha: float


class BorderCrossing(_Model):
    """A terrein lying in more than one gemeente (or partly outside all of them)."""

    fid: int | None
    naam: str | None
    gemeente: str | None
    """The terrein's own ``gemeente`` code."""
    largest: str | None
    """The gemeente holding the largest part."""
    shares: list[GemeenteShare]
    outside_share: float
    """Part of the terrein's area outside every gemeente."""


class BrutoCheck(_Model):
    """Terreinen over the bruto/area tolerance."""

    tolerance_pct: float
    checked: int
    count: int
    terreinen: list[BrutoDeviation]
    truncated: bool = False


class BorderCheck(_Model):
    """Terreinen crossing gemeente borders, against which gemeenten."""

    gemeenten_layer: str
    gemeenten_version: int
    count: int
    terreinen: list[BorderCrossing]
    gemeente_differs: int
    """How many of all terreinen have a ``gemeente`` code other than their largest part's."""
    truncated: bool = False


class QualityReport(_Model):
    """The data-quality report of one layer version (or of a run's inputs)."""

    layer: str
    version: int | None
    kind: str
    features: int
    bruto_area: BrutoCheck | None = None
    borders: BorderCheck | None = None
    repaired: list[str] = Field(default_factory=list)
    mapped_values: list[MappedValue] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _column(frame: gpd.GeoDataFrame, name: str) -> np.ndarray:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), None, dtype=object)


def _fids(frame: gpd.GeoDataFrame) -> list[int | None]:
    return [None if v is None else int(v) for v in _column(frame, "fid")]


def bruto_deviations(
    terreinen: gpd.GeoDataFrame, tolerance_pct: float
) -> tuple[int, list[BrutoDeviation]]:
    """Every deviation (see :func:`bruto_check`, which this lists in full)."""
    checked, _, over = bruto_check(terreinen, tolerance_pct, None)
    return checked, over


def bruto_check(
    terreinen: gpd.GeoDataFrame, tolerance_pct: float, limit: int | None = MAX_ITEMS
) -> tuple[int, int, list[BrutoDeviation]]:
    """Terreinen whose ``bruto_ha`` differs from the polygon area by more than ``tolerance_pct``.

    Returns (terreinen checked, how many deviate, the first ``limit`` deviations sorted by the
    size of the difference, largest first; None: all). Only those are built (a file whose
    ``bruto_ha`` never matches has as many deviations as terreinen). Terreinen without a
    ``bruto_ha`` or without area are not checked.

    Examples
    --------
    >>> t = gpd.GeoDataFrame({"fid": [1, 2], "naam": ["A", "B"], "gemeente": ["GM0001"] * 2,
    ...                       "bruto_ha": [1.0, 1.1]},
    ...                      geometry=[shapely.box(0, 0, 100, 100)] * 2, crs=28992)
    >>> checked, over = bruto_deviations(t, 5.0)
    >>> checked, [(d.naam, round(d.difference_pct, 1)) for d in over]
    (2, [('B', 10.0)])
    """
    area = shapely.area(np.asarray(terreinen.geometry.values, dtype=object)) / HA
    bruto = np.asarray(
        [np.nan if v is None else float(v) for v in _column(terreinen, "bruto_ha")], dtype=float
    )
    ok = np.isfinite(bruto) & (area > 0)
    diff = bruto - area
    pct = np.where(ok, 100.0 * diff / np.where(area > 0, area, 1.0), 0.0)
    over = np.flatnonzero(ok & (np.abs(pct) > tolerance_pct))
    order = over[np.lexsort((over, -np.abs(pct[over])))][:limit]
    fids, names, codes = (
        _fids(terreinen),
        _column(terreinen, "naam"),
        _column(terreinen, "gemeente"),
    )
    return (
        int(ok.sum()),
        len(over),
        [
            BrutoDeviation(
                fid=fids[i],
                naam=_text(names[i]),
                gemeente=_text(codes[i]),
                bruto_ha=float(bruto[i]),
                area_ha=float(area[i]),
                difference_ha=float(diff[i]),
                difference_pct=float(pct[i]),
            )
            for i in order
        ],
    )


def border_crossings(
    terreinen: gpd.GeoDataFrame, gemeenten: gpd.GeoDataFrame
) -> tuple[list[BorderCrossing], int]:
    """Terreinen in more than one gemeente or partly outside all, with their shares.

    Returns (crossings in layer order, number of terreinen whose ``gemeente`` code is not
    the gemeente holding their largest part). Parts below :data:`MIN_SHARE` are ignored.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"statcode": ["GM0001", "GM0002"], "naam": ["A", "B"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=28992)
    >>> t = gpd.GeoDataFrame({"fid": [7], "naam": ["T"], "gemeente": ["GM0002"]},
    ...     geometry=[shapely.box(40, 0, 140, 100)], crs=28992)
    >>> crossing, differs = border_crossings(t, g)
    >>> [(s.statcode, s.share) for s in crossing[0].shares], crossing[0].largest, differs
    ([('GM0001', 0.6), ('GM0002', 0.4)], 'GM0001', 1)
    """
    geoms = np.asarray(terreinen.geometry.values, dtype=object)
    zones = np.asarray(gemeenten.geometry.values, dtype=object)
    pieces = split_by_zones(geoms, zones)
    statcodes = [str(c) for c in _column(gemeenten, "statcode")]
    gem_names = _column(gemeenten, "naam")
    fids, names, codes = (
        _fids(terreinen),
        _column(terreinen, "naam"),
        _column(terreinen, "gemeente"),
    )
    per: dict[int, list[tuple[int, float, float]]] = {}
    for f, z, a, s in zip(pieces.feature, pieces.zone, pieces.area, pieces.share, strict=True):
        if s >= MIN_SHARE:
            per.setdefault(int(f), []).append((int(z), float(s), float(a)))
    crossings, differs = [], 0
    for i in range(len(terreinen)):
        parts = per.get(i, [])
        inside = sum(s for _, s, _ in parts)
        largest = statcodes[max(parts, key=lambda p: (p[1], -p[0]))[0]] if parts else None
        if largest is not None and _text(codes[i]) != largest:
            differs += 1
        outside = max(0.0, 1.0 - inside)
        if len(parts) > 1 or (parts and outside >= MIN_SHARE):
            crossings.append(
                BorderCrossing(
                    fid=fids[i],
                    naam=_text(names[i]),
                    gemeente=_text(codes[i]),
                    largest=largest,
                    shares=[
                        GemeenteShare(
                            statcode=statcodes[z], naam=_text(gem_names[z]), share=s, area_ha=a / HA
                        )
                        for z, s, a in sorted(parts, key=lambda p: (-p[1], p[0]))
                    ],
                    outside_share=outside,
                )
            )
    return crossings, differs


def _cut(items: Sequence[Any]) -> tuple[list[Any], bool]:
    return list(items[:MAX_ITEMS]), len(items) > MAX_ITEMS


def quality_report(
    *,
    layer: str,
    version: int | None,
    kind: str,
    features: gpd.GeoDataFrame,
    tolerance_pct: float,
    gemeenten: gpd.GeoDataFrame | None = None,
    gemeenten_ref: tuple[str, int] | None = None,
    repaired: Iterable[str] = (),
    mapped_values: Iterable[MappedValue | dict[str, Any]] = (),
    notes: Iterable[str] = (),
) -> QualityReport:
    """The report of one layer version (see the module docstring).

    Parameters
    ----------
    layer, version, kind
        What the report is about.
    features
        The features (EPSG:28992); for bedrijventerreinen with ``fid``, ``naam``,
        ``gemeente`` and ``bruto_ha``.
    tolerance_pct
        Largest accepted difference between ``bruto_ha`` and the polygon area, in %.
    gemeenten, gemeenten_ref
        The gemeenten to check borders against, and (name, version) of their layer; None:
        borders are not checked (a note says so).
    repaired, mapped_values, notes
        Repairs and value mappings made at import; further notes.
    """
    report = QualityReport(
        layer=layer,
        version=version,
        kind=kind,
        features=len(features),
        repaired=list(repaired)[:MAX_ITEMS],
        mapped_values=[
            m if isinstance(m, MappedValue) else MappedValue.model_validate(m)
            for m in mapped_values
        ],
        notes=list(notes),
    )
    if kind != "bedrijventerreinen":
        return report
    checked, count, kept = bruto_check(features, tolerance_pct, MAX_ITEMS)
    report.bruto_area = BrutoCheck(
        tolerance_pct=tolerance_pct,
        checked=checked,
        count=count,
        terreinen=kept,
        truncated=count > len(kept),
    )
    if gemeenten is None or gemeenten_ref is None or not len(gemeenten):
        report.notes.append(
            "terreinen crossing gemeente borders not checked: no gemeenten layer of kind gemeenten"
        )
        return report
    crossings, differs = border_crossings(features, gemeenten)
    kept, cut = _cut(crossings)
    report.borders = BorderCheck(
        gemeenten_layer=gemeenten_ref[0],
        gemeenten_version=gemeenten_ref[1],
        count=len(crossings),
        terreinen=kept,
        gemeente_differs=differs,
        truncated=cut,
    )
    return report


def report_json(report: QualityReport) -> dict[str, Any]:
    """The report as JSON-ready data (what is stored)."""
    return report.model_dump(mode="json")


def summary_lines(report: dict[str, Any], limit: int = 20) -> list[str]:
    """Readable lines of a stored report (CLI output), at most ``limit`` per list."""
    lines: list[str] = []
    bruto = report.get("bruto_area")
    if bruto:
        lines.append(
            f"{bruto['count']} of {bruto['checked']} terreinen have a bruto_ha more than "
            f"{bruto['tolerance_pct']:g}% off their polygon area"
        )
        for d in bruto["terreinen"][:limit]:
            lines.append(
                f"  {_who(d)}: bruto_ha {d['bruto_ha']:.2f}, polygon {d['area_ha']:.2f} ha "
                f"({d['difference_pct']:+.1f}%)"
            )
        if bruto["count"] > limit:
            lines.append(f"  … and {bruto['count'] - limit} more")
    borders = report.get("borders")
    if borders:
        lines.append(
            f"{borders['count']} terreinen cross gemeente borders "
            f"(gemeenten layer {borders['gemeenten_layer']} v{borders['gemeenten_version']}); "
            f"{borders['gemeente_differs']} have a gemeente code other than their largest part's"
        )
        for c in borders["terreinen"][:limit]:
            parts = ", ".join(f"{s['statcode']} {100 * s['share']:.1f}%" for s in c["shares"])
            if c["outside_share"] >= MIN_SHARE:
                parts += f", outside {100 * c['outside_share']:.1f}%"
            lines.append(f"  {_who(c)}: {parts}")
        if borders["count"] > limit:
            lines.append(f"  … and {borders['count'] - limit} more")
    if report.get("repaired"):
        lines.append(f"{len(report['repaired'])} value(s) repaired")
    for m in report.get("mapped_values") or []:
        lines.append(f"mapped {m['field']}: {m['source']!r} → {m['target']!r} ({m['count']}×)")
    lines.extend(report.get("notes") or [])
    return lines


def _who(item: dict[str, Any]) -> str:
    parts = [f"fid {item['fid']}"] if item.get("fid") is not None else []
    if item.get("naam"):
        parts.append(repr(item["naam"]))
    if item.get("gemeente"):
        parts.append(f"({item['gemeente']})")
    return " ".join(parts) or "terrein"
