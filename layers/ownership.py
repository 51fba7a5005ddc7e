"""Ownership by geometry: which gemeenten exist, and how much of a feature lies outside one.

The gemeenten that exist are the statcodes of the current (non-draft) features of the
stored gemeenten layer; nothing else may be written as a feature's ``gemeente``. A
gemeente-editor's features must lie within their own gemeente: :func:`outside_gemeente`
measures what lies outside its border, allowing ``tolerance_m`` (the stored borders are
generalised). The callers (``app/``) decide who is held to which rule and pass the layer
name and tolerance from their settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from sqlalchemy import Connection, select, text

from layers.errors import LayerError
from layers.models import STORAGE_SRID, Feature, Layer


class NoGemeentenLayer(LayerError):
    """The gemeenten layer the checks need is not stored (HTTP 409: import it first)."""

    status = 409
    title = "Conflict"


@dataclass(frozen=True)
class Gemeenten:
    """The gemeenten of the stored gemeenten layer: statcode → naam."""

    layer: str
    layer_id: int
    names: dict[str, str]

    def name_of(self, statcode: str) -> str:
        """``GM0344 (Utrecht)``, or the bare code when it is unknown."""
        naam = self.names.get(statcode)
        return f"{statcode} ({naam})" if naam else statcode


def load_gemeenten(conn: Connection, layer: str) -> Gemeenten:
    """The statcodes and names of the current, adopted features of gemeenten layer ``layer``."""
    row = conn.execute(select(Layer.id, Layer.kind).where(Layer.name == layer)).first()
    if row is None or row.kind != "gemeenten":
        what = "is not stored" if row is None else f"is of kind {row.kind}, not gemeenten"
        raise NoGemeentenLayer(
            f"the gemeenten layer {layer!r} {what}, so gemeente codes cannot be checked; import "
            f"the CBS gemeenten first (ruimte layers import FILE --kind gemeenten --name {layer}) "
            "or set RUIMTE_AUTH_GEMEENTEN_LAYER"
        )
    rows = conn.execute(
        select(Feature.gemeente, Feature.properties["naam"].astext).where(
            Feature.layer_id == row.id,
            Feature.version_to.is_(None),
            Feature.draft.is_(False),
            Feature.gemeente.is_not(None),
        )
    ).all()
    return Gemeenten(layer, row.id, {code: naam or "" for code, naam in rows})


@dataclass(frozen=True)
class Outside:
    """What of a feature lies outside a gemeente (beyond the tolerance)."""

    statcode: str
    gemeente: str
    """``GM0344 (Utrecht)``."""
    area_m2: float
    length_m: float
    points: int
    share: float
    """Of the feature's area (polygons) or length (lines); 1.0 for points."""

    def describe(self) -> str:
        """``2.35 ha (41% of its area) lies outside GM0344 (Utrecht)``."""
        if self.area_m2 > 0:
            amount = (
                f"{self.area_m2 / 10_000:.2f} ha"
                if self.area_m2 >= 10_000
                else f"{self.area_m2:.0f} m²"
            )
            of = f" ({self.share:.0%} of its area)"
        elif self.length_m > 0:
            amount, of = f"{self.length_m:.0f} m", f" ({self.share:.0%} of its length)"
        else:
            amount, of = f"{self.points} point(s)", ""
        return f"{amount}{of} lies outside {self.gemeente}"


_OUTSIDE_SQL = text(
    """
    WITH g AS (
        SELECT ST_Union(geom) AS geom FROM features
        WHERE layer_id = :layer_id AND version_to IS NULL AND NOT draft AND gemeente = :code
    ), f AS (SELECT ST_GeomFromWKB(:wkb, :srid) AS geom)
    SELECT
        ST_CoveredBy(f.geom, CASE WHEN :tol > 0 THEN ST_Buffer(g.geom, :tol) ELSE g.geom END)
            AS inside,
        ST_Area(ST_Difference(f.geom, g.geom)) AS area_out,
        ST_Area(f.geom) AS area,
        ST_Length(ST_Difference(f.geom, g.geom)) AS length_out,
        ST_Length(f.geom) AS length,
        ST_NPoints(ST_Difference(f.geom, g.geom)) AS points_out
    FROM f, g
    """
)


def outside_gemeente(
    conn: Connection,
    gemeenten: Gemeenten,
    statcode: str,
    geometry: shapely.Geometry,
    tolerance_m: float,
) -> Outside | None:
    """What of ``geometry`` (EPSG:28992) lies outside gemeente ``statcode``; None when it lies
    within it (allowing ``tolerance_m`` over the border)."""
    row = (
        conn.execute(
            _OUTSIDE_SQL,
            {
                "layer_id": gemeenten.layer_id,
                "code": statcode,
                "wkb": shapely.to_wkb(geometry),
                "srid": STORAGE_SRID,
                "tol": float(tolerance_m),
            },
        )
        .mappings()
        .one()
    )
    if row["inside"]:
        return None
    if row["inside"] is None:  # the gemeente has no geometry: all of the feature is outside
        area, length = float(shapely.area(geometry)), float(shapely.length(geometry))
        return Outside(
            statcode,
            gemeenten.name_of(statcode),
            area,
            0.0 if area else length,
            int(shapely.get_num_coordinates(geometry)),
            1.0,
        )
    area_out, area = float(row["area_out"] or 0.0), float(row["area"] or 0.0)
    length_out, length = float(row["length_out"] or 0.0), float(row["length"] or 0.0)
    share = area_out / area if area else (length_out / length if length else 1.0)
    return Outside(
        statcode,
        gemeenten.name_of(statcode),
        area_out if area else 0.0,
        length_out if not area else 0.0,
        int(row["points_out"] or 0),
        share,
    )
