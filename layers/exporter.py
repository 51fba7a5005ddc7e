"""Export a layer to GeoPackage, GeoJSON, Shapefile (zip), FlatGeobuf or CSV.

Defaults follow what readers expect:

- GeoPackage and FlatGeobuf in EPSG:28992; the GeoPackage is version 1.2, which GDAL 3.6
  and QGIS 3.22 read without warnings; the stable feature id is the GeoPackage FID; a
  ``layer_styles`` table holds the web map's style (QML and SLD), which QGIS applies;
- GeoJSON in WGS84 per RFC 7946 (lon/lat, right-hand winding), with 9 decimals so that
  a round trip stays within a millimetre; with ``crs`` another CRS and a ``crs`` member;
- Shapefile as a zip with .prj and .cpg, and ``fieldnames.csv`` mapping each long field
  name to its 10-character shapefile name (the importer reads it back);
- CSV with a ``wkt`` geometry column (EPSG:28992 unless ``crs``) and a ``.prj`` beside it.
"""

from __future__ import annotations

import csv
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from psycopg import sql
from pyproj import CRS
from sqlalchemy import Connection

from layers.access import Viewer
from layers.errors import LayerError, UnsupportedFormat
from layers.formats import EXPORT_FORMATS, MEDIA_TYPES, SUFFIXES
from layers.gpkg_styles import geometry_families, styles_for_table, write_layer_styles
from layers.kinds import Kind, load_kinds
from layers.models import STORAGE_SRID
from layers.readers import FIELDNAMES_FILE
from layers.store import FeatureFrame, LayerInfo, get_layer, rows_filter
from layers.styles import DEFAULT_HMC_THRESHOLD
from spatial.crs import RD_NEW, WGS84, crs_label, parse_crs, reproject
from spatial.geometry import promote_to_multi

GEOJSON_DECIMALS = 9
GPKG_VERSION = "1.2"

StageProgress = Callable[[str, int, int], None]
"""Called with (stage, done, total) while an export runs: ``read``, ``table``, ``write``."""


@dataclass
class ExportResult:
    """What was written."""

    path: Path
    format: str
    feature_count: int
    crs: str
    files: list[str]


def feature_table(ff: FeatureFrame, kind: Kind) -> gpd.GeoDataFrame:
    """Typed table of a layer's features: ``fid``, the kind's fields, then extra fields."""
    props = ff.properties
    n = len(ff.fids)
    data: dict[str, object] = {"fid": ff.fids.astype(np.int64)}
    for spec in kind.fields.values():
        col = props[spec.name] if spec.name in props else pd.Series([None] * n, dtype=object)
        data[spec.name] = _typed(col, spec.type)
    for name, typ in ff.info.extra_fields.items():
        col = props[name] if name in props else pd.Series([None] * n, dtype=object)
        data[name] = _typed(col, typ)
    frame = pd.DataFrame(data)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(ff.geometries, crs=RD_NEW), crs=RD_NEW)


def _typed(col: pd.Series, typ: str) -> pd.Series:
    col = col.reset_index(drop=True)
    if typ == "number":
        return pd.to_numeric(col, errors="coerce").astype("float64")
    if typ == "integer":
        return pd.to_numeric(col, errors="coerce").astype("Int64")
    if typ == "boolean":
        return col.astype("boolean")
    if typ == "date":
        return col.map(lambda v: date.fromisoformat(v[:10]) if isinstance(v, str) else None).astype(
            object
        )
    return col.map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    ).astype(object)


#: The SQL type a kind's field type is read as from the JSONB (``jsonb_to_record``): numbers as
#: float8 (an integer field too, checked whole below), dates as text (their first 10 characters).
_SQL_TYPES = {"number": "float8", "integer": "float8", "boolean": "bool"}


#: Rows per batch of :func:`typed_table` (each batch is one row of arrays, one column each).
#: Small enough (about 1 MB) that the server computes the next batch while GDAL writes this
#: one: 2,000 exported 100,000 polygons faster than 10,000 in every interleaved run here.
TYPED_BATCH = 2_000


def _typed_query(
    info: LayerInfo,
    kind: Kind,
    version: int | None,
    viewer: Viewer | None,
    wkb: str = "ST_AsBinary(f.geom)",
) -> tuple[sql.Composed, dict[str, object], dict[str, str]]:
    """The statement of :func:`typed_table` and :func:`typed_batches`: one row per batch of
    :data:`TYPED_BATCH` features in fid order, each column an array (fid, WKB, the kind's
    fields, the extra fields); its parameters; and field name → type."""
    fields = {spec.name: spec.type for spec in kind.fields.values()}
    fields.update(info.extra_fields)
    names = list(fields)
    record = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(_SQL_TYPES.get(fields[n], "text")))
        for n in names
    )
    # Batches by fid range (every TYPED_BATCH-th fid starts one), each read by an index range
    # scan in fid order and aggregated in that order: no sort of the wide rows, which spills
    # to disk at the default work_mem. (The order is checked where the arrays are read.)
    aggregates = sql.SQL(", ").join(
        sql.SQL("array_agg(s.{})").format(sql.Identifier(c)) for c in ("fid", "wkb", *names)
    )
    columns = sql.SQL("").join(sql.SQL(", p.{}").format(sql.Identifier(n)) for n in names)
    flt, params = rows_filter(info, version, viewer, "f")
    ids_flt, _ = rows_filter(info, version, viewer, "g")
    query = sql.SQL(
        "WITH ids AS (SELECT g.fid, row_number() OVER (ORDER BY g.fid) - 1 AS n "
        "FROM features g WHERE {ids_flt}), "
        "bounds AS (SELECT fid AS lo, coalesce(lead(fid) OVER (ORDER BY fid), {top}) AS hi "
        "FROM ids WHERE n %% {batch} = 0) "
        "SELECT a.* FROM bounds b CROSS JOIN LATERAL (SELECT {aggregates} FROM ("
        "SELECT f.fid, {wkb} AS wkb{columns} FROM features f{join} "
        "WHERE {flt} AND f.fid >= b.lo AND f.fid < b.hi ORDER BY f.fid) s) a ORDER BY b.lo"
    ).format(
        ids_flt=sql.SQL(ids_flt),
        top=sql.Literal(2**63 - 1),
        aggregates=aggregates,
        wkb=sql.SQL(wkb),
        columns=columns,
        batch=sql.Literal(TYPED_BATCH),
        join=sql.SQL(", jsonb_to_record(f.properties) AS p({})").format(record)
        if names
        else sql.SQL(""),
        flt=sql.SQL(flt),
    )
    return query, params, fields


def _fid_ordered(row: tuple) -> tuple:
    """A batch of :func:`_typed_query` (a row of arrays) in fid order, as the statement asks
    of the aggregates (they take the rows in the order of their subquery); sorted here should
    a plan ever give them otherwise."""
    fids = row[0]
    if all(a < b for a, b in zip(fids, fids[1:], strict=False)):
        return row
    order = sorted(range(len(fids)), key=fids.__getitem__)
    return tuple([col[i] for i in order] for col in row)


def typed_table(
    conn: Connection,
    info: LayerInfo,
    kind: Kind,
    version: int | None = None,
    viewer: Viewer | None = None,
) -> gpd.GeoDataFrame:
    """:func:`feature_table` of the layer's rows as ``viewer`` sees them at ``version``, read
    typed: PostgreSQL turns the JSONB into typed columns (``jsonb_to_record``) and sends each
    batch of rows as one row of arrays, which psycopg decodes in C (binary), so that Python
    neither decodes JSON nor handles a message per feature. The same table as
    :func:`feature_table` of :func:`layers.store.read_features` (a test compares them), in one
    statement (one snapshot)."""
    query, params, fields = _typed_query(info, kind, version, viewer)
    names = list(fields)
    raw = conn.connection.driver_connection
    parts: list[list] = [[] for _ in range(2 + len(names))]
    with raw.cursor(binary=True) as cur:
        cur.execute(query, params)
        for row in cur:
            for part, values in zip(parts, _fid_ordered(row), strict=True):
                part.extend(values)
    fids, wkb, *values = parts
    data: dict[str, object] = {"fid": np.array(fids, dtype=np.int64)}
    for n, col in zip(names, values, strict=True):
        t = fields[n]
        if t == "number":
            data[n] = pd.Series(np.array(col, dtype=float), dtype="float64")
        elif t == "integer":
            data[n] = pd.to_numeric(pd.Series(np.array(col, dtype=float))).astype("Int64")
        elif t == "boolean":
            data[n] = pd.Series(col, dtype="boolean")
        elif t == "date":
            data[n] = pd.Series(
                [date.fromisoformat(v[:10]) if isinstance(v, str) else None for v in col],
                dtype=object,
            )
        else:
            data[n] = pd.Series(col, dtype=object)
    geometries = (
        shapely.from_wkb(np.array(wkb, dtype=object)) if wkb else np.array([], dtype=object)
    )
    return gpd.GeoDataFrame(
        pd.DataFrame(data), geometry=gpd.GeoSeries(geometries, crs=RD_NEW), crs=RD_NEW
    )


#: Arrow type of each kind field type (anything else is text).
_ARROW_TYPES = {"number": "float64", "integer": "int64", "boolean": "bool_", "date": "date32"}
#: Shapely type id of each WKB geometry type code (1 Point … 7 GeometryCollection).
_WKB_TYPE_IDS = {1: 0, 2: 1, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7}
#: Formats written straight from Arrow batches (in EPSG:28992): their GDAL drivers.
ARROW_DRIVERS = {"gpkg": "GPKG", "fgb": "FlatGeobuf"}


@dataclass
class TypedBatches:
    """The rows of :func:`typed_table` as Arrow record batches, streamed from the query.

    ``type_ids`` collects the shapely type ids of the geometries in the batches read so far
    (from the WKB headers: the geometries are not decoded).
    """

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    type_ids: set[int]


def _arrow_schema(fields: dict[str, str]) -> pa.Schema:
    columns = [pa.field("fid", pa.int64())]
    for name, typ in fields.items():
        columns.append(pa.field(name, getattr(pa, _ARROW_TYPES.get(typ, "string"))()))
    columns.append(pa.field("geometry", pa.binary()))
    return pa.schema(columns)


def wkb_type_ids(wkb: pa.Array) -> set[int]:
    """The shapely type ids of WKB values (from their headers): -1 for a missing one, -2 for
    one with Z or M (or of an unknown type)."""
    heads = pc.unique(pc.binary_slice(wkb, 0, 5)).to_pylist()
    ids = set()
    for head in heads:
        if head is None or len(head) < 5:
            ids.add(-1)
            continue
        code = int.from_bytes(head[1:5], "little" if head[0] == 1 else "big")
        if code & 0xE0000000 or code >= 1000:  # EWKB flags, or ISO Z/M: not for this path
            ids.add(-2)
            continue
        ids.add(_WKB_TYPE_IDS.get(code, -2))
    return ids


def _arrow_batch(row: tuple, fields: dict[str, str], schema: pa.Schema) -> pa.RecordBatch:
    fids, wkb, *values = row
    arrays = [pa.array(fids, pa.int64())]
    for (name, typ), col in zip(fields.items(), values, strict=True):
        if typ == "integer":  # read as float8: whole numbers, checked by the cast
            arrays.append(pa.array(col, pa.float64()).cast(pa.int64()))
        elif typ == "date":  # the first 10 characters of the stored ISO text
            text = pc.utf8_slice_codeunits(pa.array(col, pa.string()), 0, 10)
            arrays.append(text.cast(pa.date32()))
        else:
            arrays.append(pa.array(col, schema.field(name).type))
    arrays.append(pa.array(wkb, pa.binary()))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def typed_batches(
    conn: Connection,
    info: LayerInfo,
    kind: Kind,
    version: int | None = None,
    viewer: Viewer | None = None,
) -> TypedBatches:
    """:func:`typed_table` as a stream of Arrow record batches (fid, the fields, WKB
    ``geometry``): the same statement, read batch by batch as the server sends them, with
    the WKB passed on as it is. Consume it before using ``conn`` again."""
    query, params, fields = _typed_query(info, kind, version, viewer, "ST_AsBinary(f.geom, 'NDR')")
    schema = _arrow_schema(fields)
    type_ids: set[int] = set()
    raw = conn.connection.driver_connection

    def batches() -> Iterator[pa.RecordBatch]:
        with raw.cursor(binary=True) as cur:
            for row in cur.stream(query, params):
                batch = _arrow_batch(_fid_ordered(row), fields, schema)
                type_ids.update(wkb_type_ids(batch.column(len(fields) + 1)))
                yield batch

    return TypedBatches(schema=schema, batches=batches(), type_ids=type_ids)


def _layer_type_ids(
    conn: Connection, info: LayerInfo, version: int | None, viewer: Viewer | None
) -> tuple[set[int], bool]:
    """The shapely type ids of the rows :func:`typed_batches` reads, and whether any has Z or M
    (from the geometry headers, without reading the geometries)."""
    flt, params = rows_filter(info, version, viewer, "f")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT ST_GeometryType(f.geom), ST_Zmflag(f.geom) FROM features f "  # noqa: S608 - fixed text
            f"WHERE {flt}",
            params,
        )
        rows = cur.fetchall()
    names = {v: k for k, v in _TYPE_NAMES.items()}
    ids = {-1 if name is None else names.get(name.removeprefix("ST_"), -2) for name, _ in rows}
    return ids, any(zm for _, zm in rows)


def _export_arrow(
    conn: Connection,
    info: LayerInfo,
    kind: Kind,
    fmt: str,
    output: Path,
    version: int | None,
    viewer: Viewer | None,
    hmc_threshold: str,
) -> ExportResult | None:
    """Write a GeoPackage or FlatGeobuf in EPSG:28992 straight from Arrow batches of the query
    (:func:`typed_batches`; the server computes the next batch while GDAL writes this one):
    the same file as :func:`write_table` writes (a test compares them). None, and no file,
    where the layer needs the table path: mixed geometry types, Z or M values, missing
    geometries, no rows, or other geometry types than the catalogue says."""
    # One geometry type, as the catalogue says of the layer (checked against every WKB
    # header below), or else as the rows say.
    known = {v: k for k, v in _TYPE_NAMES.items()}
    if info.geometry_type in known and info.geometry_type != "LinearRing":
        ids = {known[info.geometry_type]}
    else:
        ids, zm = _layer_type_ids(conn, info, version, viewer)
        if zm:
            return None
    if len(ids) != 1 or not ids <= set(_TYPE_NAMES):  # mixed (or none): the table path
        return None
    geometry_type = _type_name(ids)
    families = _families_of(ids)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.unlink()
    stream = typed_batches(conn, info, kind, version, viewer)
    count = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal count
        for batch in stream.batches:
            count += batch.num_rows
            yield batch

    options: dict[str, dict[str, str]] = {}
    if fmt == "gpkg":
        options = {
            "dataset_options": {"VERSION": GPKG_VERSION},
            "layer_options": {
                "IDENTIFIER": info.title,
                "DESCRIPTION": info.description or info.title,
            },
        }
    pyogrio.write_arrow(
        pa.RecordBatchReader.from_batches(stream.schema, counted()),
        output,
        layer=info.name,
        driver=ARROW_DRIVERS[fmt],
        geometry_name="geometry",
        geometry_type=geometry_type,
        crs=f"EPSG:{STORAGE_SRID}",
        **options,
    )
    if stream.type_ids != ids:  # other types than expected (or no rows): the table path
        output.unlink(missing_ok=True)
        return None
    if fmt == "gpkg":
        write_layer_styles(
            output,
            styles_for_table(kind, info.name, info.title, geometry_type, families, hmc_threshold),
        )
    return ExportResult(
        path=output, format=fmt, feature_count=count, crs=crs_label(RD_NEW), files=[output.name]
    )


def export_layer(
    conn: Connection,
    name: str,
    fmt: str,
    output: Path | str,
    crs: str | None = None,
    version: int | None = None,
    progress: StageProgress | None = None,
    viewer: Viewer | None = None,
    hmc_threshold: str = DEFAULT_HMC_THRESHOLD,
) -> ExportResult:
    """Write layer ``name`` (current or pinned ``version``) to ``output`` as ``fmt``.

    ``viewer`` leaves out what they may not see (None: everything, as for the CLI).
    ``hmc_threshold`` is the HMC setting the GeoPackage's QGIS style uses.
    """
    if fmt not in EXPORT_FORMATS:
        raise UnsupportedFormat(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    report = progress or (lambda _stage, _done, _total: None)
    report("read", 0, 1)
    info = get_layer(conn, name, version, viewer, with_versions=False)
    kind = load_kinds()[info.kind]
    if fmt in ARROW_DRIVERS and (crs is None or parse_crs(crs).equals(RD_NEW)):
        report("table", 0, 0)
        report("write", 0, info.feature_count)
        result = _export_arrow(conn, info, kind, fmt, Path(output), version, viewer, hmc_threshold)
        if result is not None:
            report("write", result.feature_count, result.feature_count)
            return result
    table = typed_table(conn, info, kind, version, viewer)
    n = len(table)
    report("table", n, n)
    report("write", 0, n)
    result = write_table(
        table,
        info.name,
        info.title,
        info.description,
        fmt,
        Path(output),
        crs,
        kind=kind,
        hmc_threshold=hmc_threshold,
    )
    report("write", n, n)
    return result


def write_table(
    table: gpd.GeoDataFrame,
    layer_name: str,
    title: str,
    description: str,
    fmt: str,
    output: Path,
    crs: str | None = None,
    *,
    kind: Kind | None = None,
    hmc_threshold: str = DEFAULT_HMC_THRESHOLD,
) -> ExportResult:
    """Write a feature table (EPSG:28992) in one of the export formats.

    A GeoPackage of a layer of ``kind`` gets the kind's web map style as its default
    QGIS style (``layer_styles``); ``hmc_threshold`` is the HMC setting the style uses.
    """
    default = WGS84 if fmt == "geojson" else RD_NEW
    target = parse_crs(crs) if crs else default
    if not target.equals(RD_NEW):
        table = table.set_geometry(
            gpd.GeoSeries(
                reproject(np.asarray(table.geometry.array, dtype=object), RD_NEW, target),
                crs=target,
            )
        )
        table = table.set_crs(target, allow_override=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.unlink()
    geometry_type = _geometry_type(table)
    families = geometry_families(np.asarray(table.geometry.array, dtype=object))
    if fmt == "gpkg" and kind is not None and geometry_type == "Unknown" and len(families) > 1:
        files = _write_gpkg_parts(
            table, layer_name, title, description, output, kind, families, hmc_threshold
        )
    elif fmt == "gpkg":
        pyogrio.write_dataframe(
            table,
            output,
            layer=layer_name,
            driver="GPKG",
            use_arrow=True,
            geometry_type=geometry_type,
            dataset_options={"VERSION": GPKG_VERSION},
            layer_options={"IDENTIFIER": title, "DESCRIPTION": description or title},
        )
        if kind is not None:
            write_layer_styles(
                output,
                styles_for_table(kind, layer_name, title, geometry_type, families, hmc_threshold),
            )
        files = [output.name]
    elif fmt == "fgb":
        pyogrio.write_dataframe(
            table,
            output,
            layer=layer_name,
            driver="FlatGeobuf",
            use_arrow=True,
            geometry_type=geometry_type,
        )
        files = [output.name]
    elif fmt == "geojson":
        rfc = target.equals(WGS84)
        pyogrio.write_dataframe(
            table,
            output,
            driver="GeoJSON",
            use_arrow=True,
            layer_options={
                "RFC7946": "YES" if rfc else "NO",
                "COORDINATE_PRECISION": str(GEOJSON_DECIMALS if target.is_geographic else 4),
                "ID_FIELD": "fid",
                "WRITE_NAME": "NO",
            },
        )
        files = [output.name]
    elif fmt == "csv":
        files = _write_csv(table, output, target)
    else:
        files = _write_shapefile_zip(table, layer_name, output, geometry_type)
    return ExportResult(
        path=output, format=fmt, feature_count=len(table), crs=crs_label(target), files=files
    )


#: Shapely type ids of each geometry family.
_FAMILY_TYPE_IDS = {"polygon": (3, 6), "line": (1, 2, 5), "point": (0, 4)}


def _write_gpkg_parts(
    table: gpd.GeoDataFrame,
    layer_name: str,
    title: str,
    description: str,
    output: Path,
    kind: Kind,
    families: list[str],
    hmc_threshold: str,
) -> list[str]:
    """A layer that mixes geometry types as one GeoPackage table per type (``layer-part``, as
    the OGC API's collections), each typed and with its default style: QGIS opens each styled."""
    ids = shapely.get_type_id(np.asarray(table.geometry.array, dtype=object))
    styles = []
    for fam in families:
        part = table[np.isin(ids, _FAMILY_TYPE_IDS[fam])]
        name = f"{layer_name}-{kind.part_name(fam)}"
        part_title = f"{title} – {kind.part_name(fam)}"
        gtype = _geometry_type(part)
        pyogrio.write_dataframe(
            part,
            output,
            layer=name,
            driver="GPKG",
            use_arrow=True,
            geometry_type=gtype,
            dataset_options={"VERSION": GPKG_VERSION},
            layer_options={"IDENTIFIER": part_title, "DESCRIPTION": description or part_title},
            append=output.exists(),
        )
        styles += styles_for_table(kind, name, part_title, gtype, [fam], hmc_threshold)
    write_layer_styles(output, styles)
    return [output.name]


#: Geometry type names as GeoPandas' ``geom_type`` gives them, by shapely type id.
_TYPE_NAMES = {
    int(shapely.GeometryType.POINT): "Point",
    int(shapely.GeometryType.LINESTRING): "LineString",
    int(shapely.GeometryType.LINEARRING): "LinearRing",
    int(shapely.GeometryType.POLYGON): "Polygon",
    int(shapely.GeometryType.MULTIPOINT): "MultiPoint",
    int(shapely.GeometryType.MULTILINESTRING): "MultiLineString",
    int(shapely.GeometryType.MULTIPOLYGON): "MultiPolygon",
    int(shapely.GeometryType.GEOMETRYCOLLECTION): "GeometryCollection",
}


def _geometry_type(table: gpd.GeoDataFrame) -> str:
    ids = np.unique(shapely.get_type_id(np.asarray(table.geometry.array, dtype=object)))
    return _type_name(set(ids.tolist()))


def _families_of(ids: set[int]) -> list[str]:
    """:func:`layers.gpkg_styles.geometry_families` of geometries with these type ids."""
    found = [fam for fam, codes in _FAMILY_TYPE_IDS.items() if ids & set(codes)]
    return found or ["polygon"]


def _type_name(ids: set[int]) -> str:
    """The layer geometry type of geometries with these shapely type ids (see the writers)."""
    types = {_TYPE_NAMES[i] for i in ids if i in _TYPE_NAMES}
    if not types:
        return "Unknown"
    if len(types) == 1:
        return types.pop()
    families = {t.replace("Multi", "") for t in types}
    if len(families) == 1:
        return "Multi" + families.pop()
    return "Unknown"


def _write_csv(table: gpd.GeoDataFrame, output: Path, target: CRS) -> list[str]:
    decimals = 10 if target.is_geographic else 6
    frame = pd.DataFrame(table.drop(columns=[table.geometry.name]))
    frame["wkt"] = shapely.to_wkt(
        np.asarray(table.geometry.array, dtype=object), rounding_precision=decimals
    )
    frame.to_csv(output, index=False, encoding="utf-8", date_format="%Y-%m-%d")
    prj = output.with_suffix(".prj")
    prj.write_text(target.to_wkt(), encoding="utf-8")
    return [output.name, prj.name]


def shapefile_field_names(names: list[str]) -> dict[str, str]:
    """Map field names to unique shapefile names of at most 10 characters, predictably.

    A name of 10 characters or fewer stays as it is. A longer one is cut to 10; when that
    collides, to 8 followed by ``_1``, ``_2``… in the order of the fields.

    Examples
    --------
    >>> shapefile_field_names(["uitgeefbaar_ha", "uitgeefbaar_terstond_ha", "naam"])
    {'uitgeefbaar_ha': 'uitgeefbaa', 'uitgeefbaar_terstond_ha': 'uitgeefb_1', 'naam': 'naam'}
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        short = name[:10]
        k = 1
        while short.lower() in taken:
            short = f"{name[:8]}_{k}" if k < 10 else f"{name[:7]}_{k}"
            k += 1
        out[name] = short
        taken.add(short.lower())
    return out


def _write_shapefile_zip(
    table: gpd.GeoDataFrame, layer_name: str, output: Path, geometry_type: str
) -> list[str]:
    if geometry_type == "Unknown":
        raise LayerError(
            "a Shapefile holds one geometry type, but this layer mixes points, lines and polygons; "
            "export it as gpkg, geojson or fgb"
        )
    mapping = shapefile_field_names([c for c in table.columns if c != table.geometry.name])
    renamed = table.rename(columns=mapping)
    if geometry_type.startswith("Multi"):
        renamed = renamed.set_geometry(
            gpd.GeoSeries(
                promote_to_multi(np.asarray(renamed.geometry.array, dtype=object)), crs=table.crs
            )
        )
    for col, dtype in renamed.dtypes.items():
        if str(dtype) == "boolean":
            # dBASE logical fields: GDAL writes booleans as integers 0/1 otherwise.
            renamed[col] = renamed[col].astype("Int64")
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{layer_name}.shp"
        pyogrio.write_dataframe(
            renamed,
            shp,
            driver="ESRI Shapefile",
            geometry_type=geometry_type,
            layer_options={"ENCODING": "UTF-8"},
        )
        fieldnames = Path(tmp) / FIELDNAMES_FILE
        with fieldnames.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["field", "shapefile_field"])
            writer.writerows(mapping.items())
        files = sorted(p.name for p in Path(tmp).iterdir())
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in files:
                zf.write(Path(tmp) / name, arcname=name)
    return files


__all__ = [
    "EXPORT_FORMATS",
    "MEDIA_TYPES",
    "SUFFIXES",
    "ExportResult",
    "export_layer",
    "feature_table",
    "shapefile_field_names",
    "write_table",
    "STORAGE_SRID",
]
