"""Gemeenten for the demo data: the real CBS 2025 boundaries shipped with the package, or a file.

By default the demo is built on the province's gemeenten from ``layers/data/boundaries``
(:mod:`layers.boundaries`): real borders, no network needed. ``--gemeenten FILE`` gives other
real boundaries instead. Which gemeenten belong to the province is derived from the shipped
province polygons (largest overlap), not from a list of codes.

The kernen table here is public knowledge, not data copied from a boundary file: the main
towns and villages with approximate RD coordinates and rounded populations. The generators
use them to place housing and terreinen; a kern that falls outside its gemeente's real border
moves inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from layers import boundaries
from layers.importer import frame_source
from layers.kinds import Kind, resolve_columns
from layers.readers import SourceData, read_source
from spatial.crs import RD_NEW


@dataclass(frozen=True)
class Kern:
    """A town or village: its gemeente, name, RD position and rounded population."""

    statcode: str
    naam: str
    x: float
    y: float
    inwoners: int


# fmt: off
KERNEN: tuple[Kern, ...] = (
    Kern("GM0307", "Amersfoort", 155000, 463100, 158000),
    Kern("GM0308", "Baarn", 148200, 469300, 25000),
    Kern("GM0310", "Bilthoven", 142400, 460100, 22000),
    Kern("GM0310", "De Bilt", 140800, 458000, 10000),
    Kern("GM0310", "Maartensdijk", 140400, 463000, 10000),
    Kern("GM0312", "Bunnik", 142000, 453200, 8500),
    Kern("GM0312", "Odijk", 144700, 451600, 6500),
    Kern("GM0313", "Bunschoten-Spakenburg", 154200, 473000, 22000),
    Kern("GM0317", "Eemnes", 146200, 473900, 9500),
    Kern("GM0321", "Houten", 140000, 448900, 48000),
    Kern("GM0321", "Schalkwijk", 141000, 445600, 2300),
    Kern("GM0327", "Leusden", 157900, 460500, 30000),
    Kern("GM0331", "Lopik", 124700, 442800, 6000),
    Kern("GM0331", "Benschop", 126900, 446600, 3000),
    Kern("GM0335", "Montfoort", 125200, 450900, 12000),
    Kern("GM0335", "Linschoten", 122600, 452900, 2500),
    Kern("GM0339", "Renswoude", 165400, 453900, 5500),
    Kern("GM0340", "Rhenen", 167400, 441300, 13000),
    Kern("GM0340", "Elst", 163800, 445300, 6000),
    Kern("GM0342", "Soest", 148500, 465000, 40000),
    Kern("GM0342", "Soesterberg", 148000, 458900, 7000),
    Kern("GM0344", "Utrecht", 136800, 455900, 300000),
    Kern("GM0344", "Leidsche Rijn", 132600, 456200, 40000),
    Kern("GM0344", "Vleuten-De Meern", 129400, 455800, 35000),
    Kern("GM0345", "Veenendaal", 166800, 448900, 67000),
    Kern("GM0351", "Woudenberg", 157000, 454700, 14000),
    Kern("GM0352", "Wijk bij Duurstede", 151900, 443000, 19000),
    Kern("GM0352", "Cothen", 149600, 445400, 2800),
    Kern("GM0353", "IJsselstein", 131400, 448000, 34000),
    Kern("GM0355", "Zeist", 144300, 455700, 48000),
    Kern("GM0355", "Den Dolder", 144900, 461300, 6000),
    Kern("GM0356", "Nieuwegein", 134000, 449000, 64000),
    Kern("GM0589", "Oudewater", 119500, 448600, 10000),
    Kern("GM0632", "Woerden", 120500, 455400, 40000),
    Kern("GM0632", "Harmelen", 125700, 455800, 8500),
    Kern("GM0632", "Kamerik", 121200, 458300, 3500),
    Kern("GM0736", "Mijdrecht", 119100, 468900, 17000),
    Kern("GM0736", "Vinkeveen", 124000, 469900, 11000),
    Kern("GM0736", "Abcoude", 126500, 476000, 9000),
    Kern("GM0736", "Wilnis", 121600, 467700, 7000),
    Kern("GM1581", "Driebergen-Rijsenburg", 147700, 451700, 19000),
    Kern("GM1581", "Doorn", 151900, 449400, 10000),
    Kern("GM1581", "Leersum", 158000, 447000, 7500),
    Kern("GM1581", "Maarn", 153900, 453000, 7000),
    Kern("GM1581", "Amerongen", 160000, 445500, 7000),
    Kern("GM1904", "Maarssen", 131300, 460800, 40000),
    Kern("GM1904", "Breukelen", 128600, 464900, 15000),
    Kern("GM1904", "Loenen aan de Vecht", 130100, 469200, 9000),
    Kern("GM1961", "Vianen", 134700, 445000, 20000),
    Kern("GM1961", "Leerdam", 134700, 433900, 21000),
    Kern("GM1961", "Meerkerk", 128000, 436900, 4000),
    Kern("GM1961", "Lexmond", 130700, 442300, 3000),
)
# fmt: on


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


def package_gemeenten(province: str = boundaries.UTRECHT) -> GemeentenChoice:
    """The gemeenten of ``province`` from the CBS 2025 boundaries shipped with the package."""
    prov = boundaries.province(province)
    gem = boundaries.gemeenten_of(prov.statcode)
    frame = gem[["statcode", "naam"]].reset_index(drop=True)
    geoms = np.asarray(gem.geometry.to_numpy(), dtype=object)
    return GemeentenChoice(
        source=frame_source(frame, geoms, RD_NEW, "TopoJSON"),
        origin="package",
        label=boundaries.SOURCE,
        notes=[
            f"gemeenten: the {len(frame)} of provincie {prov.naam} ({prov.statcode}, by largest "
            "overlap with its CBS 2025 polygon) from the CBS 2025 boundaries shipped with the "
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
    province: str = boundaries.UTRECHT,
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
    codes = set(boundaries.gemeenten_of(province)["statcode"])
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


def kernen_for(statcodes: np.ndarray, names: np.ndarray, geometries: np.ndarray) -> list[Kern]:
    """The kernen of the gemeenten in use, each inside its gemeente.

    A kern whose point falls outside its (real) gemeente moves to a point inside it; a
    gemeente without kernen in the table gets one at its centre (population from area).
    """
    by_code = {str(c): g for c, g in zip(statcodes, geometries, strict=True)}
    name_of = {str(c): str(n) for c, n in zip(statcodes, names, strict=True)}
    kernen: list[Kern] = []
    for k in KERNEN:
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
            p = geom.representative_point()
            kernen.append(
                Kern(code, name_of[code], round(p.x, 1), round(p.y, 1), int(geom.area / 1e6 * 350))
            )
    return kernen
