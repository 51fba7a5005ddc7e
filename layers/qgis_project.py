"""QGIS projects: one GeoPackage with styled layers and a ``.qgz`` project that opens them.

:func:`export_qgis_project` writes, into one directory,

- ``<name>.gpkg``: every layer (EPSG:28992) with its web map style as the default style in
  ``layer_styles``, as :func:`layers.exporter.export_layer` writes it;
- ``<name>.qgz``: a QGIS project (zip holding ``<name>.qgs``) with RD New as project
  CRS, the PDOK BRT-Achtergrondkaart as XYZ layer at the bottom, and the layers from the
  GeoPackage by relative path, styled, in the drawing order of the web maps. A layer
  holding several geometry types appears once per type (``geometrytype=`` sublayers).

Nothing here needs QGIS: the project is written as XML.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyogrio
from pyproj import CRS
from sqlalchemy import Connection

from layers.access import Viewer
from layers.exporter import GPKG_VERSION, _geometry_type, feature_table
from layers.gpkg_styles import GpkgStyle, geometry_families, styles_for_table, write_layer_styles
from layers.kinds import load_kinds
from layers.qml import qml_element
from layers.store import read_features
from layers.styles import DEFAULT_HMC_THRESHOLD, layer_style

#: Drawing order of kinds, bottom to top (as the web maps).
DRAW_ORDER = [
    "landgebruik",
    "constraints",
    "gemeenten",
    "hoofdstructuur",
    "bedrijventerreinen",
    "reserveringen",
    "strategische_locaties",
    "vestigingen",
    "milieuzones",
    "allocatie",
    "conflicten",
]
PDOK_BRT_XYZ = (
    "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
)
PDOK_ATTRIBUTION = "Kaartgegevens © Kadaster (BRT-Achtergrondkaart, PDOK)"
QGIS_VERSION = "3.22.0-Białowieża"
#: Geometry family → (OGR geometrytype filter, QGIS geometry name, Dutch suffix).
SUBLAYERS = {
    "point": ("Point", "Point", "punten"),
    "line": ("LineString", "Line", "lijnen"),
    "polygon": ("Polygon", "Polygon", "vlakken"),
}


@dataclass(frozen=True)
class ProjectLayer:
    """A layer to put in the project: its name and (optionally pinned) version."""

    name: str
    version: int | None = None
    visible: bool = True


@dataclass
class QgisExport:
    """What was written."""

    gpkg: Path
    project: Path
    layers: list[str] = field(default_factory=list)


def _spatialrefsys(parent: ET.Element, crs: CRS, authid: str) -> None:
    srs = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(srs, "wkt").text = crs.to_wkt()
    ET.SubElement(srs, "srid").text = authid.split(":")[1]
    ET.SubElement(srs, "authid").text = authid
    ET.SubElement(srs, "description").text = crs.name
    ET.SubElement(srs, "geographicflag").text = "true" if crs.is_geographic else "false"


def _layer_id(name: str) -> str:
    return name.replace("-", "_") + "_" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:12]


@dataclass
class _MapLayer:
    id: str
    title: str
    source: str
    provider: str
    kind: str  # vector | raster
    geometry: str | None
    renderer: ET.Element | None
    aliases: ET.Element | None
    visible: bool


def _vector_layer(
    gpkg_name: str,
    table: str,
    title: str,
    family: str,
    style_qgis: ET.Element,
    multi: bool,
    visible: bool,
) -> _MapLayer:
    ogr_type, qgis_geom, suffix = SUBLAYERS[family]
    source = f"./{gpkg_name}|layername={table}" + (f"|geometrytype={ogr_type}" if multi else "")
    return _MapLayer(
        id=_layer_id(f"{table}-{family}" if multi else table),
        title=f"{title} ({suffix})" if multi else title,
        source=source,
        provider="ogr",
        kind="vector",
        geometry=qgis_geom,
        renderer=style_qgis.find("renderer-v2"),
        aliases=style_qgis.find("aliases"),
        visible=visible,
    )


def _basemap_layer(url: str) -> _MapLayer:
    source = "type=xyz&url=" + quote(url, safe=":/") + "&zmax=19&zmin=0&crs=EPSG:3857"
    return _MapLayer(
        id="pdok_brt_achtergrondkaart",
        title="BRT-Achtergrondkaart (PDOK)",
        source=source,
        provider="wms",
        kind="raster",
        geometry=None,
        renderer=None,
        aliases=None,
        visible=True,
    )


def project_xml(
    title: str, layers: list[_MapLayer], extent: tuple[float, float, float, float] | None
) -> ET.Element:
    """The ``<qgis>`` project element; ``layers`` top to bottom."""
    rd, merc = CRS.from_epsg(28992), CRS.from_epsg(3857)
    qgis = ET.Element("qgis", projectname=title, version=QGIS_VERSION)
    ET.SubElement(qgis, "homePath", path="")
    ET.SubElement(qgis, "title").text = title
    _spatialrefsys(ET.SubElement(qgis, "projectCrs"), rd, "EPSG:28992")
    tree = ET.SubElement(qgis, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for lyr in layers:
        ET.SubElement(
            tree,
            "layer-tree-layer",
            id=lyr.id,
            name=lyr.title,
            source=lyr.source,
            providerKey=lyr.provider,
            checked="Qt::Checked" if lyr.visible else "Qt::Unchecked",
            expanded="1",
        )
    canvas = ET.SubElement(qgis, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    ext = ET.SubElement(canvas, "extent")
    for tag, value in zip(
        ("xmin", "ymin", "xmax", "ymax"),
        extent or (114244.0, 430005.0, 171506.0, 479450.0),
        strict=True,
    ):
        ET.SubElement(ext, tag).text = f"{value:.1f}"
    ET.SubElement(canvas, "rotation").text = "0"
    _spatialrefsys(ET.SubElement(canvas, "destinationsrs"), rd, "EPSG:28992")
    project_layers = ET.SubElement(qgis, "projectlayers")
    for lyr in layers:
        attrs = {"type": lyr.kind}
        if lyr.geometry:
            attrs["geometry"] = lyr.geometry
        ml = ET.SubElement(project_layers, "maplayer", attrs)
        ET.SubElement(ml, "id").text = lyr.id
        ET.SubElement(ml, "datasource").text = lyr.source
        ET.SubElement(ml, "layername").text = lyr.title
        crs, authid = (rd, "EPSG:28992") if lyr.kind == "vector" else (merc, "EPSG:3857")
        _spatialrefsys(ET.SubElement(ml, "srs"), crs, authid)
        ET.SubElement(ml, "provider", encoding="UTF-8").text = lyr.provider
        if lyr.kind == "raster":
            meta = ET.SubElement(ml, "resourceMetadata")
            ET.SubElement(meta, "rights").text = PDOK_ATTRIBUTION
        if lyr.renderer is not None:
            ml.append(lyr.renderer)
        if lyr.aliases is not None:
            ml.append(lyr.aliases)
    order = ET.SubElement(qgis, "layerorder")
    for lyr in layers:
        ET.SubElement(order, "layer", id=lyr.id)
    props = ET.SubElement(qgis, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    # QGIS reads <projectCrs> only when projections are enabled in the properties.
    srs = ET.SubElement(props, "SpatialRefSys")
    ET.SubElement(srs, "ProjectionsEnabled", type="int").text = "1"
    ET.SubElement(srs, "ProjectCrs", type="QString").text = "EPSG:28992"
    return qgis


def write_qgz(path: Path, project: ET.Element) -> Path:
    """Write ``project`` as a ``.qgz`` (a zip holding the ``.qgs``)."""
    text = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        project, encoding="unicode"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(path.with_suffix(".qgs").name, text)
    return path


def _draw_rank(kind: str) -> int:
    return DRAW_ORDER.index(kind) if kind in DRAW_ORDER else len(DRAW_ORDER)


def export_qgis_project(
    conn: Connection,
    layers: Sequence[ProjectLayer],
    output_dir: Path | str,
    name: str,
    title: str,
    *,
    viewer: Viewer | None = None,
    hmc_threshold: str = DEFAULT_HMC_THRESHOLD,
    basemap_url: str = PDOK_BRT_XYZ,
) -> QgisExport:
    """Write ``<name>.gpkg`` and ``<name>.qgz`` for ``layers`` into ``output_dir``.

    ``viewer`` leaves out what they may not see (None: everything, as for the CLI).
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / f"{name}.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    kinds = load_kinds()
    styles: list[GpkgStyle] = []
    map_layers: list[tuple[int, _MapLayer]] = []
    bounds: list[np.ndarray] = []
    written: list[str] = []
    for pl in layers:
        ff = read_features(conn, pl.name, pl.version, viewer)
        kind = kinds[ff.info.kind]
        table = feature_table(ff, kind)
        geometry_type = _geometry_type(table)
        pyogrio.write_dataframe(
            table,
            gpkg,
            layer=pl.name,
            driver="GPKG",
            use_arrow=True,
            geometry_type=geometry_type,
            dataset_options={"VERSION": GPKG_VERSION},
            layer_options={
                "IDENTIFIER": ff.info.title,
                "DESCRIPTION": ff.info.description or ff.info.title,
            },
        )
        written.append(pl.name)
        if len(table):
            bounds.append(np.asarray(table.total_bounds))
        families = geometry_families(np.asarray(table.geometry.array, dtype=object))
        multi = geometry_type in ("Unknown", "GeometryCollection") and len(families) > 1
        labels = {"fid": "Feature-id", **kind.field_labels()}
        style = layer_style(kind, ff.info.title, hmc_threshold)
        for fam in families:
            element = qml_element(style, SUBLAYERS[fam][0], labels)
            map_layers.append(
                (
                    _draw_rank(kind.name),
                    _vector_layer(
                        gpkg.name, pl.name, ff.info.title, fam, element, multi, pl.visible
                    ),
                )
            )
        styles += styles_for_table(
            kind, pl.name, ff.info.title, geometry_type, families, hmc_threshold
        )
    write_layer_styles(gpkg, styles)
    extent = None
    if bounds:
        b = np.vstack(bounds)
        extent = (
            float(b[:, 0].min()),
            float(b[:, 1].min()),
            float(b[:, 2].max()),
            float(b[:, 3].max()),
        )
    ordered = [ml for _, ml in sorted(map_layers, key=lambda t: -t[0])]
    project = project_xml(title, [*ordered, _basemap_layer(basemap_url)], extent)
    qgz = write_qgz(out / f"{name}.qgz", project)
    return QgisExport(gpkg=gpkg, project=qgz, layers=written)
