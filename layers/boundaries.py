"""Real CBS 2025 boundaries shipped with the package: gemeenten and provincies of the country.

The files in ``layers/data/boundaries/`` are unchanged copies of cartomap/nl's generalised
TopoJSON of the CBS gebiedsindelingen 2025 (see the README there for source, licence and
quality). They are decoded with GDAL's TopoJSON driver through pyogrio, which the importer uses
already: no network, no extra package. TopoJSON carries no CRS; these files are RD New metres,
so EPSG:28992 is assigned on reading.

The provincies were generalised separately from the gemeenten, so their borders do not coincide.
Which province a gemeente belongs to is derived from the polygons (the province holding the
largest part of its area), not from a list of codes; a province's outline for the demo is the
union of its gemeenten, so that it fits them exactly.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from layers.errors import LayerError, UnreadableFile
from spatial.crs import RD_NEW

BOUNDARIES_DIR = Path(__file__).resolve().parent / "data" / "boundaries"
GEMEENTEN_FILE = BOUNDARIES_DIR / "gemeente_2025.topojson"
PROVINCIES_FILE = BOUNDARIES_DIR / "provincie_2025.topojson"

#: How the boundaries must be credited wherever they are shown or passed on.
ATTRIBUTION = "CBS / Kadaster, via PDOK, CC BY 4.0; generalised by cartomap/nl"
LICENCE = "CC BY 4.0"
#: Where the files come from, for a layer's provenance.
SOURCE = (
    "CBS gebiedsindelingen 2025 (PDOK, gemeente_gegeneraliseerd), via cartomap/nl "
    "rd/gemeente_2025.topojson (shipped in layers/data/boundaries)"
)
SOURCE_DATE = "2025-01-01"
#: The caveats of the shipped copy (README in layers/data/boundaries).
CAVEAT = (
    "generalised by cartomap/nl (about 10% of the vertices, 1 m grid): for aggregation and maps, "
    "not for parcel-level work; the cartomap/nl repository states no separate data licence "
    "(its package.json says GPL-2), so the licence of this derived copy is not fully settled"
)
#: The default work area (``RUIMTE_WORK_AREA``) and province of the demo.
DEFAULT_AREA = "PV26"
UTRECHT = DEFAULT_AREA  # old name, kept for callers
#: The code of the whole country as a work area.
NATIONAL = "NL"
NATIONAL_NAME = "Nederland"


class BoundaryError(LayerError):
    """An unknown province, or a boundary file that does not hold what it should."""

    status = 422
    title = "Unknown boundary"


@dataclass(frozen=True)
class Province:
    """A province of the CBS 2025 indeling: its code, name and (generalised) polygon."""

    statcode: str
    naam: str
    geometry: shapely.Geometry


def read_topojson(path: Path | str, object_name: str | None = None) -> gpd.GeoDataFrame:
    """Decode one object of a TopoJSON file in RD New metres into a GeoDataFrame (EPSG:28992).

    Parameters
    ----------
    path
        The TopoJSON file.
    object_name
        The object (GDAL layer) to read; may be left out when the file holds one.

    Raises
    ------
    UnreadableFile
        When the file is missing, is not TopoJSON, or lacks the object.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            # GDAL < 3.8 warns that the string FID attribute is not a feature id (and drops it)
            warnings.filterwarnings("ignore", message=".*FID.*")
            layers = [str(name) for name, _ in pyogrio.list_layers(path)]
            if object_name is None:
                if len(layers) != 1:
                    raise UnreadableFile(
                        f"{path.name} holds {len(layers)} objects; name one of: {', '.join(layers)}"
                    )
                object_name = layers[0]
            elif object_name not in layers:
                raise UnreadableFile(
                    f"{path.name} has no object {object_name!r}; its objects: {', '.join(layers)}"
                )
            frame = pyogrio.read_dataframe(path, layer=object_name)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise UnreadableFile(f"{path.name}: cannot be read as TopoJSON ({exc})") from exc
    return frame.set_crs(RD_NEW, allow_override=True)


@cache
def _decoded(path: Path, object_name: str) -> gpd.GeoDataFrame:
    frame = read_topojson(path, object_name)
    missing = {"statcode", "statnaam"} - set(frame.columns)
    if missing:
        raise BoundaryError(f"{path.name}: no {', '.join(sorted(missing))} attribute")
    out = gpd.GeoDataFrame(
        {
            "statcode": frame["statcode"].astype(str).to_numpy(),
            "naam": frame["statnaam"].astype(str).to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs=RD_NEW,
    )
    return out.sort_values("statcode", ignore_index=True)


def gemeenten() -> gpd.GeoDataFrame:
    """The 342 gemeenten of 2025: ``statcode`` (GM…), ``naam`` and polygon, by statcode."""
    return _decoded(GEMEENTEN_FILE, "gemeente_2025").copy()


def provincies() -> gpd.GeoDataFrame:
    """The 12 provincies of 2025: ``statcode`` (PV20–PV31), ``naam`` and polygon, by statcode."""
    return _decoded(PROVINCIES_FILE, "provincie_2025").copy()


def membership(gemeenten: gpd.GeoDataFrame, provincies: gpd.GeoDataFrame) -> pd.Series:
    """The province of each gemeente: the one that holds the largest part of its area.

    Parameters
    ----------
    gemeenten, provincies
        Frames with ``statcode`` and polygons in the same CRS.

    Returns
    -------
    pandas.Series
        Province statcode per gemeente statcode (index), None where no province overlaps.
    """
    geoms = np.asarray(gemeenten.geometry.to_numpy(), dtype=object)
    prov = np.asarray(provincies.geometry.to_numpy(), dtype=object)
    g_idx, p_idx = shapely.STRtree(prov).query(geoms, predicate="intersects")
    areas = shapely.area(shapely.intersection(geoms[g_idx], prov[p_idx]))
    best = np.full(len(geoms), -1)
    best_area = np.zeros(len(geoms))
    for g, p, a in zip(g_idx, p_idx, areas, strict=True):
        if a > best_area[g]:
            best[g], best_area[g] = p, a
    codes = provincies["statcode"].to_numpy()
    values = [str(codes[p]) if p >= 0 else None for p in best]
    return pd.Series(values, index=gemeenten["statcode"].to_numpy(), name="provincie")


def province(code_or_name: str) -> Province:
    """A province by CBS code (``PV26``, ``26``) or name (``Utrecht``, case-insensitive).

    Raises
    ------
    BoundaryError
        For a code or name that is not one of the 12, listing them (and the nearest match).
    """
    frame = provincies()
    text = str(code_or_name).strip()
    code = f"PV{int(text):02d}" if text.isdigit() else text.upper()
    hit = frame[(frame["statcode"] == code) | (frame["naam"].str.casefold() == text.casefold())]
    if len(hit) != 1:
        known = ", ".join(f"{c} {n}" for c, n in zip(frame["statcode"], frame["naam"], strict=True))
        raise BoundaryError(
            f"{code_or_name!r} is not a province of the CBS 2025 indeling{_did_you_mean(text)}: "
            f"{known}"
        )
    row = hit.iloc[0]
    return Province(str(row["statcode"]), str(row["naam"]), row.geometry)


def _did_you_mean(text: str) -> str:
    """`` (did you mean 'Gelderland'?)`` for a near miss of a province name or code, else ''."""
    frame = provincies()
    by_key = {str(n).casefold(): str(n) for n in frame["naam"]}
    by_key |= {str(c).casefold(): str(c) for c in frame["statcode"]}
    by_key[NATIONAL.casefold()] = NATIONAL
    by_key[NATIONAL_NAME.casefold()] = NATIONAL
    close = difflib.get_close_matches(text.casefold(), list(by_key), n=1, cutoff=0.6)
    return f" (did you mean {by_key[close[0]]!r}?)" if close else ""


@dataclass(frozen=True)
class WorkArea:
    """Where the service works: one province or the whole country (``NL``).

    Attributes
    ----------
    statcode
        ``PV20``…``PV31``, or ``NL``.
    naam
        ``Gelderland``, or ``Nederland``.
    gemeenten
        Its gemeenten (statcode, naam, polygon), by statcode: a province's by largest overlap.
    """

    statcode: str
    naam: str
    gemeenten: gpd.GeoDataFrame

    @property
    def national(self) -> bool:
        """Whether this is the whole country."""
        return self.statcode == NATIONAL

    @property
    def title(self) -> str:
        """``Provincie Gelderland`` or ``Nederland``: the name of the area's totals and maps."""
        return NATIONAL_NAME if self.national else f"Provincie {self.naam}"

    @property
    def in_text(self) -> str:
        """``de provincie Gelderland`` or ``Nederland``, for running Dutch text."""
        return NATIONAL_NAME if self.national else f"de provincie {self.naam}"

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Bounding box of its gemeenten (RD metres, whole metres outwards)."""
        minx, miny, maxx, maxy = self.gemeenten.total_bounds
        return (
            float(np.floor(minx)),
            float(np.floor(miny)),
            float(np.ceil(maxx)),
            float(np.ceil(maxy)),
        )


def work_area(code_or_name: str) -> WorkArea:
    """A work area by province code or name (see :func:`province`), or ``NL``/``Nederland``.

    Raises
    ------
    BoundaryError
        For anything else, naming the value, the nearest match and the valid ones.
    """
    text = str(code_or_name).strip()
    if text.casefold() in (NATIONAL.casefold(), NATIONAL_NAME.casefold()):
        return WorkArea(NATIONAL, NATIONAL_NAME, gemeenten())
    frame = provincies()
    codes = set(frame["statcode"]) | {f"{int(c[2:])}" for c in frame["statcode"]}
    names = {str(n).casefold() for n in frame["naam"]}
    if text.upper() not in codes and text.casefold() not in names:
        known = ", ".join(f"{c} {n}" for c, n in zip(frame["statcode"], frame["naam"], strict=True))
        raise BoundaryError(
            f"{code_or_name!r} is not a work area{_did_you_mean(text)}: give a CBS 2025 "
            f"province ({known}) or {NATIONAL} for the whole country"
        )
    prov = province(text)
    return WorkArea(prov.statcode, prov.naam, gemeenten_of(prov.statcode))


def gemeenten_of(code_or_name: str) -> gpd.GeoDataFrame:
    """The gemeenten of one province (by largest overlap with its polygon), by statcode."""
    prov = province(code_or_name)
    gem = gemeenten()
    member = _membership_codes()
    return gem[(member == prov.statcode)].reset_index(drop=True)


def province_of(statcodes: np.ndarray) -> np.ndarray:
    """The province statcode of each gemeente statcode (None for one not in the 342)."""
    member = dict(zip(gemeenten()["statcode"], _membership_codes(), strict=True))
    return np.array([member.get(str(c)) for c in statcodes], dtype=object)


@cache
def _membership_codes() -> np.ndarray:
    """The province of each of the 342 gemeenten, in the order of :func:`gemeenten` (cached)."""
    return membership(gemeenten(), provincies()).to_numpy()
