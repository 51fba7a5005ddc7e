"""Gemeenten for the demo data: the real CBS 2025 boundaries shipped with the package, or a file.

By default the demo is built on the province's gemeenten from ``layers/data/boundaries``
(:mod:`layers.boundaries`): real borders, no network needed. ``--gemeenten FILE`` gives other
real boundaries instead. Which gemeenten belong to the province is derived from the shipped
province polygons (largest overlap), not from a list of codes.

The known kernen (``layers/data/demo/kernen.csv``) are public knowledge, not data copied from a
boundary file: the main towns and villages with approximate RD coordinates and rounded
populations. The generators use them to place housing and terreinen; a kern that falls outside
its gemeente's real border moves inside it, and a gemeente without known kernen gets kernen
derived from its polygon (:func:`layers.demo.area.derived_kernen`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from layers import boundaries
from layers.demo.area import Kern, derived_kernen, known_kernen
from layers.importer import frame_source
from layers.kinds import Kind, resolve_columns
from layers.readers import SourceData, read_source
from spatial.crs import RD_NEW


@dataclass
class GemeentenChoice:
    """Where the gemeenten come from, as a source ready for :func:`layers.importer.prepare`."""

    source: SourceData
    origin: str
    """``package`` (the shipped CBS boundaries) or ``file``."""
    label: str
    """Package source or file name, for the provenance."""
    notes: list[str] = field(default_factory=list)
    licence: str | None = None
    attribution: str | None = None


def package_gemeenten(province: str = boundaries.DEFAULT_AREA) -> GemeentenChoice:
    """The gemeenten of the work area ``province`` (a province, or ``NL``) from the CBS 2025
    boundaries shipped with the package."""
    area = boundaries.work_area(province)
    gem = area.gemeenten
    frame = gem[["statcode", "naam"]].reset_index(drop=True)
    geoms = np.asarray(gem.geometry.to_numpy(), dtype=object)
    which = (
        f"all {len(frame)} of {area.naam}"
        if area.national
        else f"the {len(frame)} of provincie {area.naam} ({area.statcode}, by largest "
        "overlap with its CBS 2025 polygon)"
    )
    return GemeentenChoice(
        source=frame_source(frame, geoms, RD_NEW, "TopoJSON"),
        origin="package",
        label=boundaries.SOURCE,
        notes=[
            f"gemeenten: {which} from the CBS 2025 boundaries shipped with the "
            f"package ({boundaries.ATTRIBUTION})"
        ],
        licence=boundaries.LICENCE,
        attribution=boundaries.ATTRIBUTION,
    )


def file_gemeenten(
    path: Path,
    layer: str | None,
    kind: Kind,
    max_bytes: int | None,
    province: str = boundaries.DEFAULT_AREA,
) -> GemeentenChoice:
    """Gemeenten read from a file, keeping the province's where the file holds more."""
    source = read_source(path, layer, max_bytes)
    source, notes = _province_only(source, kind, province)
    return GemeentenChoice(
        source=source,
        origin="file",
        label=Path(path).name + (f" / {source.layer}" if source.layer else ""),
        notes=[f"gemeenten read from {Path(path).name}", *notes],
    )


def _province_only(source: SourceData, kind: Kind, province: str) -> tuple[SourceData, list[str]]:
    """Keep the province's gemeenten where the source holds them (and others).

    The province's statcodes are those of the shipped gemeenten that lie mostly in its polygon.
    A source holding none of them, or only them, is kept whole.
    """
    mapping, _, _ = resolve_columns(source.frame.columns, kind)
    column = mapping.get("statcode")
    if column is None:
        return source, []
    codes = set(boundaries.work_area(province).gemeenten["statcode"])
    keep = source.frame[column].map(_statcode).isin(codes).to_numpy()
    if not keep.any() or keep.all():
        return source, []
    kept = SourceData(
        frame=source.frame[keep].reset_index(drop=True),
        geometries=np.asarray(source.geometries, dtype=object)[keep],
        crs=source.crs,
        format=source.format,
        layer=source.layer,
        source_ids=source.source_ids[keep] if source.source_ids is not None else None,
        problems=[],
        notes=list(source.notes),
    )
    note = f"kept the {int(keep.sum())} gemeenten of the province out of {len(keep)} in the source"
    return kept, [note]


def _statcode(value: object) -> str | None:
    """``GM0344``, ``344`` or ``0344`` → ``GM0344``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit():
        return f"GM{int(text):04d}"
    return text


def kernen_for(
    statcodes: np.ndarray, names: np.ndarray, geometries: np.ndarray, seed: int
) -> list[Kern]:
    """The kernen of the gemeenten in use, each inside its gemeente.

    A known kern whose point falls outside its (real) gemeente moves to a point inside it; a
    gemeente without known kernen gets kernen derived from its polygon (deterministic per seed).
    """
    by_code = {str(c): g for c, g in zip(statcodes, geometries, strict=True)}
    name_of = {str(c): str(n) for c, n in zip(statcodes, names, strict=True)}
    kernen: list[Kern] = []
    for k in known_kernen():
        geom = by_code.get(k.statcode)
        if geom is None:
            continue
        if not geom.contains(shapely.Point(k.x, k.y)):
            p = geom.representative_point()
            k = Kern(k.statcode, k.naam, round(p.x, 1), round(p.y, 1), k.inwoners)
        kernen.append(k)
    covered = {k.statcode for k in kernen}
    for code, geom in by_code.items():
        if code not in covered:
            kernen.extend(derived_kernen(code, name_of[code], geom, seed))
    return kernen
