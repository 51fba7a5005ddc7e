"""Gemeenten for the demo data: real boundaries from a file or PDOK, or a generated stand-in.

The reference tables here are public facts, not data copied from a boundary file: the
26 CBS gemeentecodes and names of the province of Utrecht (2025), the main kernen with
approximate RD coordinates and rounded populations, and a coarse outline of the province
(33 vertices on a 500 m grid, within about 1–2 km of the real border). Offline, the
gemeenten are a Voronoi tessellation of the kernen (plus one point per gemeente that
fills its rural area) clipped to that outline: each gemeente is where its kernen are,
with roughly its real size, but the borders are invented.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from layers.importer import frame_source
from layers.kinds import Kind, resolve_columns
from layers.readers import SourceData, read_source
from spatial.crs import CRS84, RD_NEW, parse_crs

#: CBS gemeentecode → name and a point in its rural area (RD), for the 26 gemeenten of
#: the province of Utrecht in 2025.
GEMEENTEN: dict[str, tuple[str, float, float]] = {
    "GM0307": ("Amersfoort", 156700, 463900),
    "GM0308": ("Baarn", 145800, 467500),
    "GM0310": ("De Bilt", 140200, 461300),
    "GM0312": ("Bunnik", 143700, 450000),
    "GM0313": ("Bunschoten", 152900, 472400),
    "GM0317": ("Eemnes", 147600, 473500),
    "GM0321": ("Houten", 140700, 446300),
    "GM0327": ("Leusden", 156800, 459400),
    "GM0331": ("Lopik", 124700, 443800),
    "GM0335": ("Montfoort", 124900, 450300),
    "GM0339": ("Renswoude", 165200, 454000),
    "GM0340": ("Rhenen", 166800, 443400),
    "GM0342": ("Soest", 148600, 462800),
    "GM0344": ("Utrecht", 135200, 454900),
    "GM0345": ("Veenendaal", 166300, 448500),
    "GM0351": ("Woudenberg", 156300, 454900),
    "GM0352": ("Wijk bij Duurstede", 149900, 444900),
    "GM0353": ("IJsselstein", 130100, 448700),
    "GM0355": ("Zeist", 145700, 458600),
    "GM0356": ("Nieuwegein", 134800, 449000),
    "GM0589": ("Oudewater", 118500, 448600),
    "GM0632": ("Woerden", 121200, 458600),
    "GM0736": ("De Ronde Venen", 123400, 472200),
    "GM1581": ("Utrechtse Heuvelrug", 155200, 449500),
    "GM1904": ("Stichtse Vecht", 128300, 466900),
    "GM1961": ("Vijfheerenlanden", 131400, 439200),
}


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

#: Extra Voronoi seeds (statcode, x, y) that give the larger gemeenten their size offline.
EXTRA_SEEDS: tuple[tuple[str, float, float], ...] = (
    ("GM0344", 133300, 457500),  # Lage Weide
    ("GM0344", 136400, 458600),  # Overvecht
    ("GM0307", 154200, 466300),  # Hoogland
    ("GM0307", 156600, 466900),  # Vathorst
    ("GM0327", 162300, 460900),  # Achterveld
    ("GM0355", 150200, 455000),  # Austerlitz
    ("GM0736", 122400, 469200),  # Waverveen
    ("GM1961", 130400, 439100),  # Hei- en Boeicop
)

#: A coarse outline of the province (RD, 500 m grid; about 1,549 km²).
PROVINCE_OUTLINE: tuple[tuple[float, float], ...] = (
    (134000, 432000), (130000, 430000), (123500, 440500), (120000, 439000), (116000, 446000),
    (118000, 448000), (115000, 447500), (120000, 453500), (116500, 454000), (114000, 459500),
    (121000, 464000), (114500, 471000), (130000, 479500), (130000, 477000), (133000, 477000),
    (130500, 475000), (132500, 472000), (131500, 464500), (141500, 465500), (146500, 477000),
    (153000, 476000), (156000, 473000), (158500, 465000), (162500, 462000), (160000, 454500),
    (164500, 454500), (166000, 457500), (171500, 440500), (159000, 444000), (151500, 441000),
    (144000, 443000), (141000, 442000),
)
# fmt: on

#: PDOK's WFS of the CBS gebiedsindelingen 2025 (public, no key).
PDOK_WFS_URL = "https://service.pdok.nl/cbs/gebiedsindelingen/2025/wfs/v1_0"
PDOK_TYPENAME = "gebiedsindelingen:gemeente_gegeneraliseerd"
PDOK_BBOX = (113000.0, 429000.0, 173000.0, 481000.0)
PDOK_ATTRIBUTION = "CBS / Kadaster, via PDOK (CBS gebiedsindelingen 2025)"


@dataclass
class GemeentenChoice:
    """Where the gemeenten come from, as a source ready for :func:`layers.importer.prepare`."""

    source: SourceData
    origin: str
    """``file``, ``pdok`` or ``generated``."""
    label: str
    """File name, URL or generator, for the provenance."""
    notes: list[str] = field(default_factory=list)
    licence: str | None = None
    attribution: str | None = None


def province_outline() -> shapely.Polygon:
    """The coarse province outline used when no real boundaries are at hand."""
    return shapely.Polygon(PROVINCE_OUTLINE)


def generated_gemeenten() -> GemeentenChoice:
    """26 gemeenten as a Voronoi tessellation of their kernen, clipped to the outline."""
    outline = province_outline()
    seeds = [(k.statcode, k.x, k.y) for k in KERNEN]
    seeds += list(EXTRA_SEEDS)
    seeds += [(code, x, y) for code, (_, x, y) in GEMEENTEN.items()]
    points = shapely.MultiPoint([(x, y) for _, x, y in seeds])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(points, extend_to=outline.buffer(10_000), ordered=True)
    )
    parts: dict[str, list[shapely.Geometry]] = {}
    for (code, _, _), cell in zip(seeds, cells, strict=True):
        parts.setdefault(code, []).append(cell)
    codes = sorted(GEMEENTEN)
    geoms = np.empty(len(codes), dtype=object)
    for i, code in enumerate(codes):
        geoms[i] = shapely.intersection(shapely.union_all(parts[code]), outline)
    frame = pd.DataFrame({"statcode": codes, "naam": [GEMEENTEN[c][0] for c in codes]})
    return GemeentenChoice(
        source=frame_source(frame, geoms, RD_NEW, "generated"),
        origin="generated",
        label="generated: Voronoi tessellation of the kernen, clipped to a coarse province outline",
        notes=["gemeenten generated offline: real codes and names, invented borders"],
        licence="CC0 1.0 (synthetic demo data)",
    )


def file_gemeenten(
    path: Path, layer: str | None, kind: Kind, max_bytes: int | None
) -> GemeentenChoice:
    """Gemeenten read from a file, keeping the province's 26 where the file holds more."""
    source = read_source(path, layer, max_bytes)
    source, notes = _province_only(source, kind)
    return GemeentenChoice(
        source=source,
        origin="file",
        label=Path(path).name + (f" / {source.layer}" if source.layer else ""),
        notes=[f"gemeenten read from {Path(path).name}", *notes],
    )


def pdok_gemeenten(kind: Kind, url: str = PDOK_WFS_URL, timeout_s: float = 5.0) -> GemeentenChoice:
    """Gemeenten from PDOK's WFS; raises ``OSError`` or ``ValueError`` when that fails."""
    params = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": PDOK_TYPENAME,
        "outputFormat": "application/json",
        "srsName": "EPSG:28992",
        "bbox": ",".join(f"{v:.0f}" for v in PDOK_BBOX) + ",EPSG:28992",
    }
    full = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    doc = json.loads(_fetch(full, timeout_s))
    source = _geojson_source(doc)
    source, notes = _province_only(source, kind)
    if len(source.geometries) != len(GEMEENTEN):
        raise ValueError(
            f"PDOK returned {len(source.geometries)} of the {len(GEMEENTEN)} gemeenten"
        )
    return GemeentenChoice(
        source=source,
        origin="pdok",
        label=f"{url} ({PDOK_TYPENAME})",
        notes=["gemeenten fetched from PDOK (CBS gebiedsindelingen 2025)", *notes],
        licence="CC BY 4.0",
        attribution=PDOK_ATTRIBUTION,
    )


def _fetch(url: str, timeout_s: float) -> bytes:
    """GET ``url`` within ``timeout_s`` seconds in all (name lookup included), or raise."""
    body: list[bytes] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "ruimte-circulair demo-data"})
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 - configured URL
                body.append(resp.read())
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            errors.append(exc)

    worker = threading.Thread(target=run, name="pdok-fetch", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {timeout_s:g} s")
    if errors:
        err = errors[0]
        reason = getattr(err, "reason", None) or err
        raise OSError(str(reason) or type(err).__name__) from err
    return body[0]


def _geojson_source(doc: dict) -> SourceData:
    """A GeoJSON FeatureCollection (as parsed JSON) as a source, with its CRS settled."""
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise ValueError("the answer holds no features")
    frame = pd.DataFrame([f.get("properties") or {} for f in features])
    geoms = np.array(
        [shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None for f in features]
    )
    crs_name = ((doc.get("crs") or {}).get("properties") or {}).get("name")
    if crs_name:
        crs: CRS = parse_crs(crs_name.replace("urn:ogc:def:crs:", "").replace("::", ":"))
    else:
        xy = shapely.get_coordinates(geoms[:1])
        crs = RD_NEW if len(xy) and abs(xy[0, 0]) > 1000 else CRS84
    return frame_source(frame, geoms, crs, "GeoJSON")


def _province_only(source: SourceData, kind: Kind) -> tuple[SourceData, list[str]]:
    """Keep the province's gemeenten where the source holds them (and others)."""
    mapping, _, _ = resolve_columns(source.frame.columns, kind)
    column = mapping.get("statcode")
    if column is None:
        return source, []
    codes = source.frame[column].map(_statcode)
    keep = codes.isin(list(GEMEENTEN)).to_numpy()
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
