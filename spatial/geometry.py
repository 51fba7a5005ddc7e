"""Geometry checks and repairs for features coming in from files or the API.

Every decision is deliberate and reported:

- a missing or empty geometry is a problem (or dropped with ``drop_empty``);
- Z and M values are dropped, with a note (storage is 2D);
- NaN or infinite coordinates are a problem;
- a geometry of the wrong family (a point in a polygon layer) is a problem;
- a geometry collection is a problem, or with ``repair`` reduced to its parts of the
  allowed family;
- an invalid geometry is a problem naming GEOS's reason, or with ``repair`` made valid
  (``shapely.make_valid``, structure method) and the repair reported with the area change;
- single and multi geometries of one family are promoted to multi, with a note.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import GeometryType

FAMILY_TYPES: dict[str, frozenset[str]] = {
    "point": frozenset({"Point", "MultiPoint"}),
    "line": frozenset({"LineString", "MultiLineString", "LinearRing"}),
    "polygon": frozenset({"Polygon", "MultiPolygon"}),
}
#: Geometry families allowed by a kind's ``geometry`` setting.
KIND_FAMILIES: dict[str, frozenset[str]] = {
    "point": frozenset({"point"}),
    "line": frozenset({"line"}),
    "polygon": frozenset({"polygon"}),
    "point_or_polygon": frozenset({"point", "polygon"}),
    "any": frozenset({"point", "line", "polygon"}),
}
_MULTI = {"point": "MultiPoint", "line": "MultiLineString", "polygon": "MultiPolygon"}
_FAMILY_OF_ID = {
    GeometryType.POINT: "point",
    GeometryType.MULTIPOINT: "point",
    GeometryType.LINESTRING: "line",
    GeometryType.LINEARRING: "line",
    GeometryType.MULTILINESTRING: "line",
    GeometryType.POLYGON: "polygon",
    GeometryType.MULTIPOLYGON: "polygon",
}
_FAMILY_WORD = {"point": "point", "line": "line", "polygon": "polygon"}


@dataclass(frozen=True)
class GeometryIssue:
    """A problem with (or a repair of) the geometry of the feature at ``index``."""

    index: int
    message: str


@dataclass
class GeometryCheck:
    """Outcome of :func:`check_geometries`."""

    geometries: np.ndarray
    keep: np.ndarray
    """Boolean mask: False for features dropped (``drop_empty``)."""
    problems: list[GeometryIssue] = field(default_factory=list)
    repairs: list[GeometryIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    geometry_type: str = "Geometry"
    """The layer's geometry type after promotion (``Geometry`` when families are mixed)."""


def family_of(geometries: np.ndarray) -> np.ndarray:
    """Family name per geometry (``point``, ``line``, ``polygon``, ``collection`` or ``none``)."""
    ids = shapely.get_type_id(geometries)
    out = np.full(len(ids), "none", dtype=object)
    for type_id, fam in _FAMILY_OF_ID.items():
        out[ids == int(type_id)] = fam
    out[ids == int(GeometryType.GEOMETRYCOLLECTION)] = "collection"
    return out


def _family_parts(geom: shapely.Geometry, families: frozenset[str]) -> shapely.Geometry | None:
    """The parts of ``geom`` in one allowed family, as one (multi) geometry."""
    parts = [g for g in shapely.get_parts(geom) if not g.is_empty]
    flat = []
    for p in parts:
        flat.extend(shapely.get_parts(p) if p.geom_type.startswith("Multi") else [p])
    for fam in ("polygon", "line", "point"):
        if fam not in families:
            continue
        chosen = [p for p in flat if p.geom_type in FAMILY_TYPES[fam]]
        if chosen:
            if len(chosen) == 1:
                return chosen[0]
            return _make_multi(fam, chosen)
    return None


def _make_multi(fam: str, parts: list[shapely.Geometry]) -> shapely.Geometry:
    if fam == "polygon":
        return shapely.MultiPolygon(parts)
    if fam == "line":
        return shapely.MultiLineString(parts)
    return shapely.MultiPoint(parts)


def _area_ha(geom: shapely.Geometry) -> float:
    return float(shapely.area(geom)) / 10_000.0


def check_geometries(
    geometries: np.ndarray,
    kind_geometry: str,
    *,
    repair: bool = False,
    drop_empty: bool = False,
) -> GeometryCheck:
    """Check (and optionally repair) geometries in their storage CRS.

    Parameters
    ----------
    geometries
        Array of shapely geometries (None allowed), already in EPSG:28992.
    kind_geometry
        The kind's geometry setting (a key of :data:`KIND_FAMILIES`).
    repair
        Make invalid geometries valid and reduce collections to their allowed parts.
    drop_empty
        Drop missing and empty geometries instead of refusing them.

    Returns
    -------
    GeometryCheck
        The (possibly repaired, 2D, promoted) geometries and every problem, repair and note.
    """
    geoms = np.asarray(geometries, dtype=object).copy()
    families = KIND_FAMILIES[kind_geometry]
    n = len(geoms)
    result = GeometryCheck(geometries=geoms, keep=np.ones(n, dtype=bool))
    if n == 0:
        return result

    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(np.where(missing, None, geoms))
    for i in np.flatnonzero(missing | empty):
        what = "no geometry" if missing[i] else "an empty geometry"
        if drop_empty:
            result.keep[i] = False
        else:
            result.problems.append(GeometryIssue(int(i), f"has {what}"))
    if drop_empty and (missing | empty).any():
        result.notes.append(
            f"dropped {int((missing | empty).sum())} feature(s) without geometry (--drop-empty)"
        )
    present = ~(missing | empty)

    geoms[present], note = drop_zm(geoms[present])
    if note:
        result.notes.append(note)

    coords, coord_index = shapely.get_coordinates(np.where(present, geoms, None), return_index=True)
    bad_coord = np.zeros(n, dtype=bool)
    if len(coords):
        bad_coord[np.unique(coord_index[~np.isfinite(coords).all(axis=1)])] = True
    for i in np.flatnonzero(bad_coord):
        result.problems.append(GeometryIssue(int(i), "has NaN or infinite coordinates"))
    usable = present & ~bad_coord

    fam = family_of(geoms)
    for i in np.flatnonzero(usable & (fam == "collection")):
        if repair:
            part = _family_parts(geoms[i], families)
            if part is None:
                result.problems.append(
                    GeometryIssue(
                        int(i), "is a geometry collection without parts of an allowed type"
                    )
                )
                usable[i] = False
            else:
                geoms[i] = part
                result.repairs.append(
                    GeometryIssue(int(i), f"geometry collection reduced to its {part.geom_type}")
                )
        else:
            result.problems.append(
                GeometryIssue(
                    int(i),
                    "is a geometry collection; use --repair to keep its parts of an allowed type",
                )
            )
            usable[i] = False
    fam = family_of(geoms)
    wrong = usable & ~np.isin(fam, list(families))
    allowed = " or ".join(sorted(_FAMILY_WORD[f] for f in families))
    for i in np.flatnonzero(wrong):
        result.problems.append(
            GeometryIssue(
                int(i), f"is a {geoms[i].geom_type}, but this kind takes {allowed} geometries"
            )
        )
    usable &= ~wrong

    _check_validity(geoms, usable, families, repair, result)

    kept = result.keep & usable
    result.geometry_type = _promote(geoms, kept, result)
    result.geometries = geoms
    return result


PARALLEL_FROM = 20_000
"""From this many geometries :func:`is_valid` splits the work over two threads."""


def is_valid(geoms: np.ndarray) -> np.ndarray:
    """``shapely.is_valid``, on large arrays in two threads (GEOS releases the GIL)."""
    n = len(geoms)
    if n < PARALLEL_FROM:
        return shapely.is_valid(geoms)
    half = n // 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        second = pool.submit(shapely.is_valid, geoms[half:])
        first = shapely.is_valid(geoms[:half])
        return np.concatenate([first, second.result()])


def drop_zm(geometries: np.ndarray) -> tuple[np.ndarray, str | None]:
    """The geometries in 2D, and a note saying how many had Z and/or M values (None: none).

    Run it before reprojecting: a reprojection would drop Z and M without a word.
    """
    geoms = np.asarray(geometries, dtype=object).copy()
    if len(geoms) == 0:
        return geoms, None
    present = ~shapely.is_missing(geoms)
    has_z = present & shapely.has_z(np.where(present, geoms, None))
    has_m = present & _has_m(np.where(present, geoms, None))
    if not (has_z | has_m).any():
        return geoms, None
    geoms[has_z | has_m] = shapely.force_2d(geoms[has_z | has_m])
    dims = " and ".join(d for d, m in (("Z", has_z), ("M", has_m)) if m.any())
    return (
        geoms,
        f"dropped {dims} values from {int((has_z | has_m).sum())} feature(s): storage is 2D",
    )


def _has_m(geoms: np.ndarray) -> np.ndarray:
    if hasattr(shapely, "has_m"):
        return shapely.has_m(geoms)
    return np.zeros(len(geoms), dtype=bool)


def _check_validity(
    geoms: np.ndarray,
    usable: np.ndarray,
    families: frozenset[str],
    repair: bool,
    result: GeometryCheck,
) -> None:
    candidates = np.flatnonzero(usable)
    if not len(candidates):
        return
    valid = is_valid(geoms[candidates])
    invalid = candidates[~valid]
    if not len(invalid):
        return
    reasons = shapely.is_valid_reason(geoms[invalid])
    for i, reason in zip(invalid, reasons, strict=True):
        if not repair:
            result.problems.append(
                GeometryIssue(int(i), f"has an invalid geometry: {reason} (use --repair to fix)")
            )
            usable[i] = False
            continue
        before = geoms[i]
        fixed = shapely.make_valid(before, method="structure", keep_collapsed=False)
        if fixed.geom_type not in FAMILY_TYPES.get(_family_name(before), frozenset()):
            fixed = _family_parts(fixed, families)
        if fixed is None or fixed.is_empty:
            result.problems.append(
                GeometryIssue(int(i), f"has an invalid geometry that cannot be repaired: {reason}")
            )
            usable[i] = False
            continue
        geoms[i] = fixed
        change = ""
        if _family_name(before) == "polygon":
            change = f"; area after repair {_area_ha(fixed):.4f} ha"
        result.repairs.append(
            GeometryIssue(int(i), f"repaired invalid geometry ({reason}){change}")
        )


def _family_name(geom: shapely.Geometry) -> str:
    return family_of(np.array([geom], dtype=object))[0]


def _promote(geoms: np.ndarray, kept: np.ndarray, result: GeometryCheck) -> str:
    """Pick the layer geometry type; promote single to multi where a family mixes both."""
    if not kept.any():
        return "Geometry"
    types = shapely.get_type_id(geoms[kept])
    fams = set(family_of(geoms[kept]))
    if len(fams) != 1:
        return "Geometry"
    fam = fams.pop()
    distinct = {GeometryType(t).name for t in np.unique(types)}
    if len(distinct) == 1:
        name = distinct.pop()
        return {
            "POINT": "Point",
            "MULTIPOINT": "MultiPoint",
            "LINESTRING": "LineString",
            "LINEARRING": "LineString",
            "MULTILINESTRING": "MultiLineString",
            "POLYGON": "Polygon",
            "MULTIPOLYGON": "MultiPolygon",
        }[name]
    multi = _MULTI[fam]
    multi_ids = [int(GeometryType.MULTIPOINT), int(GeometryType.MULTILINESTRING)]
    multi_ids.append(int(GeometryType.MULTIPOLYGON))
    singles = kept & (family_of(geoms) == fam) & ~np.isin(shapely.get_type_id(geoms), multi_ids)
    for i in np.flatnonzero(singles):
        geoms[i] = _make_multi(fam, [geoms[i]])
    result.notes.append(
        f"promoted {int(singles.sum())} single geometries to {multi}: the layer mixes single and multi"
    )
    return multi


def promote_to_multi(geometries: np.ndarray) -> np.ndarray:
    """Return the geometries with every single part wrapped in its multi type."""
    out = np.asarray(geometries, dtype=object).copy()
    for i, g in enumerate(out):
        if (
            g is not None
            and not g.geom_type.startswith("Multi")
            and g.geom_type != "GeometryCollection"
        ):
            fam = _family_name(g)
            out[i] = _make_multi(fam, [g])
    return out
