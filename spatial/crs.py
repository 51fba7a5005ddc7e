"""Coordinate reference systems: parsing, plausibility of coordinates, reprojection.

Storage and computation use EPSG:28992 (Amersfoort / RD New). Coordinates are checked
against the area where RD New is defined before they are trusted: lon/lat degrees
declared as RD metres, swapped axes and points far outside the Netherlands are caught
here, per feature, with a message that says what is probably wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

RD_NEW = CRS.from_epsg(28992)
CRS84 = CRS.from_user_input("OGC:CRS84")
ETRS89 = CRS.from_epsg(4258)
WGS84 = CRS.from_epsg(4326)

#: Where RD New coordinates of the Netherlands (land, water and a margin) fall, metres.
RD_DOMAIN = (-7_000.0, 289_000.0, 300_000.0, 629_000.0)
#: The same area in degrees, lon/lat.
LONLAT_DOMAIN = (3.0, 50.6, 7.4, 53.7)

_OGC_URI = "http://www.opengis.net/def/crs/"


class CRSProblem(ValueError):
    """A CRS that cannot be parsed or used."""


def parse_crs(value: str | int | CRS) -> CRS:
    """Parse ``28992``, ``EPSG:28992``, ``CRS84``, an OGC CRS URI or WKT into a CRS.

    Examples
    --------
    >>> parse_crs("http://www.opengis.net/def/crs/EPSG/0/28992").to_epsg()
    28992
    >>> parse_crs("CRS84").name
    'WGS 84 (CRS84)'
    """
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    elif text.upper() in {"CRS84", "OGC:CRS84"}:
        text = "OGC:CRS84"
    elif text.startswith(_OGC_URI):
        parts = text[len(_OGC_URI) :].strip("/").split("/")
        if len(parts) == 3 and parts[0] in {"EPSG", "OGC"}:
            text = f"{parts[0]}:{parts[2]}"
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise CRSProblem(f"unknown CRS {value!r}: {exc}") from exc


def crs_label(crs: CRS | None) -> str:
    """Short human name: ``EPSG:28992`` where there is an EPSG code, else the CRS name."""
    if crs is None:
        return "none"
    auth = crs.to_authority()
    if auth:
        return f"{auth[0]}:{auth[1]}"
    return crs.name


def crs_uri(crs: CRS) -> str:
    """OGC URI of a CRS (``http://www.opengis.net/def/crs/EPSG/0/28992``)."""
    auth = crs.to_authority()
    if not auth:
        raise CRSProblem(f"CRS {crs.name!r} has no authority code")
    return f"{_OGC_URI}{auth[0]}/0/{auth[1]}"


@dataclass(frozen=True)
class CoordinateIssue:
    """One feature whose coordinates cannot be in the declared CRS."""

    index: int
    message: str


def _inside(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def _to_rd(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if crs.equals(RD_NEW):
        return x, y
    tr = Transformer.from_crs(crs, RD_NEW, always_xy=True)
    with np.errstate(invalid="ignore"):
        return tr.transform(x, y, errcheck=False)


def check_coordinates(geometries: np.ndarray, crs: CRS) -> list[CoordinateIssue]:
    """Features whose coordinates cannot lie in the Netherlands in ``crs``.

    Looks at the corners of each feature's bounding box, transformed to RD New, and
    explains the likely cause when they fall outside :data:`RD_DOMAIN`: degrees
    declared as metres, swapped axes, or simply somewhere else.

    Parameters
    ----------
    geometries
        Array of shapely geometries in ``crs`` (missing or empty ones are skipped).
    crs
        The CRS the file declares (or the one given with ``--crs``).

    Returns
    -------
    list of CoordinateIssue
        Empty when every feature is plausible.
    """
    bounds = shapely.bounds(geometries)
    present = np.isfinite(bounds).all(axis=1)
    if not present.any():
        return []
    idx = np.flatnonzero(present)
    b = bounds[present]
    ok = np.ones(len(idx), dtype=bool)
    for xs, ys in ((b[:, 0], b[:, 1]), (b[:, 2], b[:, 3])):
        rx, ry = _to_rd(crs, xs, ys)
        ok &= np.isfinite(rx) & np.isfinite(ry) & _inside(rx, ry, RD_DOMAIN)
    if ok.all():
        return []
    label = crs_label(crs)
    issues = []
    for i in np.flatnonzero(~ok):
        minx, miny, maxx, maxy = b[i]
        issues.append(CoordinateIssue(int(idx[i]), _diagnose(minx, miny, maxx, maxy, crs, label)))
    return issues


def _diagnose(minx: float, miny: float, maxx: float, maxy: float, crs: CRS, label: str) -> str:
    where = f"x {minx:.6g}…{maxx:.6g}, y {miny:.6g}…{maxy:.6g}"
    x = np.array([minx, maxx])
    y = np.array([miny, maxy])
    if crs.is_projected and (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        if _inside(x, y, LONLAT_DOMAIN).all():
            return (
                f"coordinates ({where}) look like longitude/latitude degrees, but the declared CRS "
                f"{label} is in metres; declare the right CRS (e.g. --crs 4326)"
            )
        if _inside(y, x, LONLAT_DOMAIN).all():
            return (
                f"coordinates ({where}) look like latitude/longitude degrees (axes swapped), but the "
                f"declared CRS {label} is in metres"
            )
    sx, sy = _to_rd(crs, y, x)
    if np.isfinite(sx).all() and _inside(sx, sy, RD_DOMAIN).all():
        return (
            f"coordinates ({where}) fall in the Netherlands only with x and y swapped: the axes in "
            f"the file look swapped for {label}"
        )
    if crs.is_geographic and _inside(x, y, RD_DOMAIN).all():
        return (
            f"coordinates ({where}) look like RD New metres, but the declared CRS {label} is in "
            "degrees; declare the right CRS (e.g. --crs 28992)"
        )
    return f"coordinates ({where}) lie far outside the Netherlands in {label}"


def reproject(geometries: np.ndarray, source: CRS, target: CRS = RD_NEW) -> np.ndarray:
    """Reproject an array of geometries (x/y order, as GDAL and GeoJSON give them)."""
    if source.equals(target):
        return geometries
    tr = Transformer.from_crs(source, target, always_xy=True)

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometries, _apply)


def outside_box(geometries: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Boolean mask of geometries whose bounding box does not touch ``box``."""
    b = shapely.bounds(geometries)
    with np.errstate(invalid="ignore"):
        return (b[:, 2] < box[0]) | (b[:, 0] > box[2]) | (b[:, 3] < box[1]) | (b[:, 1] > box[3])
