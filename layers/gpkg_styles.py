"""The ``layer_styles`` table in a GeoPackage: how QGIS finds a layer's default style.

QGIS stores styles in a GeoPackage in a table ``layer_styles`` (the columns QGIS itself
creates, registered in ``gpkg_contents`` as an attributes table) and, when it opens a
layer, applies the row for that table marked ``useAsDefault``. Each row carries the QML
and an SLD of the same style.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely

from layers.kinds import Kind
from layers.qml import to_qml
from layers.sld import to_sld
from layers.styles import DEFAULT_HMC_THRESHOLD, layer_style

CREATE = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


@dataclass(frozen=True)
class GpkgStyle:
    """One style of one table: name, QML, SLD, whether it is the default."""

    table: str
    name: str
    qml: str
    sld: str
    default: bool = True
    description: str = ""


def style_for(
    kind: Kind,
    table: str,
    title: str,
    geometry_type: str,
    hmc_threshold: str = DEFAULT_HMC_THRESHOLD,
    key: str | None = None,
) -> GpkgStyle:
    """The web map style of a layer of ``kind`` as a GeoPackage style row."""
    style = layer_style(kind, title, hmc_threshold, key)
    labels = {"fid": "Feature-id", **kind.field_labels()}
    return GpkgStyle(
        table=table,
        name=table[:30],
        qml=to_qml(style, geometry_type, labels),
        sld=to_sld(style, table, geometry_type),
        description=f"{title}: stijl van de webkaart van Ruimte Circulair",
    )


#: Geometry family → (geometry type of its style, Dutch name).
FAMILIES = {
    "polygon": ("Polygon", "vlakken"),
    "line": ("LineString", "lijnen"),
    "point": ("Point", "punten"),
}


def geometry_families(geometries: np.ndarray) -> list[str]:
    """The geometry families present (polygon, line, point; in that order), at least one."""
    ids = set(np.unique(shapely.get_type_id(geometries)).tolist()) if len(geometries) else set()
    found = [
        fam
        for fam, codes in (("polygon", {3, 6}), ("line", {1, 2, 5}), ("point", {0, 4}))
        if ids & codes
    ]
    return found or ["polygon"]


def styles_for_table(
    kind: Kind,
    table: str,
    title: str,
    geometry_type: str,
    families: list[str],
    hmc_threshold: str = DEFAULT_HMC_THRESHOLD,
) -> list[GpkgStyle]:
    """The default style of a table; a table mixing geometry types gets it for its first
    family (QGIS opens such a table per type) and a named extra style for each other one."""
    if geometry_type not in ("Unknown", "GeometryCollection") or len(families) < 2:
        return [style_for(kind, table, title, geometry_type, hmc_threshold)]
    first = style_for(kind, table, title, FAMILIES[families[0]][0], hmc_threshold)
    extra = []
    for fam in families[1:]:
        s = style_for(kind, table, title, FAMILIES[fam][0], hmc_threshold)
        extra.append(
            GpkgStyle(
                table=table,
                name=f"{table[:20]} {FAMILIES[fam][1]}",
                qml=s.qml,
                sld=s.sld,
                default=False,
                description=f"{title}, {FAMILIES[fam][1]}",
            )
        )
    return [first, *extra]


def write_layer_styles(gpkg: Path, styles: list[GpkgStyle]) -> None:
    """Add ``styles`` to the ``layer_styles`` table of ``gpkg`` (created when missing)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with sqlite3.connect(gpkg) as db:
        db.execute(CREATE)
        db.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS-stijlen (QML en SLD)', ?)",
            (now,),
        )
        columns = dict(
            db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        )
        for s in styles:
            if s.default:
                db.execute(
                    "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (s.table,)
                )
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                "VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, 'ruimte-circulair', NULL, ?)",
                (
                    s.table,
                    columns.get(s.table, "geom"),
                    s.name,
                    s.qml,
                    s.sld,
                    int(s.default),
                    s.description,
                    now,
                ),
            )
