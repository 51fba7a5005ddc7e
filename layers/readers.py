"""Reading vector files: GeoPackage, GeoJSON, Shapefile (zipped or not), FlatGeobuf, CSV.

GDAL (through pyogrio) reads the binary formats; CSV is parsed here so that an
unreadable WKT value is reported per row instead of silently becoming an empty
geometry. Zip archives are inspected before anything is unpacked (declared size, compression
ratio, member names) and unpacked into a temporary directory counting the bytes that really
come out, so an archive that lies about its size stops at the limit. CSV text may be UTF-8,
UTF-16/32 (with or without a byte order mark) or Windows-1252; the encoding is noted.
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import re
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely
from pyarrow.lib import ArrowException
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj import CRS

from layers.errors import FileTooLarge, UnreadableFile, UnsupportedFormat
from layers.kinds import Problem
from spatial.crs import CRSProblem, parse_crs

FORMATS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
}
#: Name of the shapefile field-name mapping that exports put in their zip.
FIELDNAMES_FILE = "fieldnames.csv"
MAX_ZIP_RATIO = 200
_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "geometrie")
_XY_COLUMNS = (
    ("x", "y"),
    ("lon", "lat"),
    ("lng", "lat"),
    ("longitude", "latitude"),
    ("rd_x", "rd_y"),
    ("x_rd", "y_rd"),
)
_SHP_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


@dataclass
class SourceData:
    """What a file holds: attributes, geometries (in the file's CRS), the CRS itself."""

    frame: pd.DataFrame
    geometries: np.ndarray
    crs: CRS | None
    format: str
    layer: str | None = None
    source_ids: np.ndarray | None = None
    """Feature ids in the file (GDAL FIDs), for messages."""
    problems: list[Problem] = field(default_factory=list)
    """Per-feature read problems (e.g. unreadable WKT in a CSV row)."""
    notes: list[str] = field(default_factory=list)


def read_source(
    path: Path | str, source_layer: str | None = None, max_bytes: int | None = None
) -> SourceData:
    """Read one layer of a vector file.

    Parameters
    ----------
    path
        The file: .gpkg, .geojson/.json, .shp, .zip (a shapefile or one other supported
        file inside), .fgb or .csv.
    source_layer
        The layer to read where the file holds several (GeoPackage, zip with several
        shapefiles). Required then; the error lists the layers.
    max_bytes
        Refuse files (or unzipped contents) larger than this.
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file")
    if path.is_dir():
        raise UnreadableFile(f"{path} is a directory; give the file itself")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _read_zip(path, source_layer, max_bytes)
    if suffix not in FORMATS:
        raise UnsupportedFormat(
            f"{path.name}: unsupported file type {suffix or '(none)'}; supported: "
            ".gpkg, .geojson, .json, .shp, .zip (Shapefile), .fgb, .csv"
        )
    size = path.stat().st_size
    if suffix == ".shp":
        size += sum(p.stat().st_size for s in _SHP_SIDECARS if (p := path.with_suffix(s)).exists())
    _check_size(path.name, size, max_bytes)
    if suffix == ".csv":
        return _read_csv(path.read_bytes(), path.name, _sidecar_prj(path))
    return _read_ogr(str(path), FORMATS[suffix], source_layer, path.name)


def _check_size(name: str, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise FileTooLarge(f"{name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")


def _sidecar_prj(path: Path) -> CRS | None:
    prj = path.with_suffix(".prj")
    if prj.exists():
        try:
            return CRS.from_wkt(prj.read_text(encoding="utf-8", errors="replace"))
        except Exception as exc:  # noqa: BLE001 - any parse failure is a user error
            raise UnreadableFile(f"{prj.name}: not a readable .prj ({exc})") from exc
    return None


def _read_ogr(dataset: str, fmt: str, source_layer: str | None, display: str) -> SourceData:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = pyogrio.list_layers(dataset)
    except (DataSourceError, OSError) as exc:
        raise UnreadableFile(f"{display}: cannot be opened as {fmt} ({_clean(exc)})") from exc
    names = [str(name) for name, _ in layers]
    if not names:
        raise UnreadableFile(f"{display}: the file holds no layers")
    if source_layer is None:
        spatial = [str(n) for n, gt in layers if gt is not None]
        candidates = spatial or names
        if len(candidates) > 1:
            raise UnreadableFile(
                f"{display} holds {len(candidates)} layers; choose one with --source-layer: "
                + ", ".join(candidates)
            )
        source_layer = candidates[0]
    elif source_layer not in names:
        raise UnreadableFile(
            f"{display} has no layer {source_layer!r}; its layers: {', '.join(names)}"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            attrs, geoms, ids, crs_text, problems = _read_layer(dataset, source_layer)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"{display}: text is not in the declared encoding ({exc.reason}); "
                "save the file as UTF-8 or add a .cpg file naming its encoding"
            ) from exc
        except (
            DataSourceError,
            DataLayerError,
            FieldError,
            GeometryError,
            OSError,
            ValueError,
        ) as exc:
            raise UnreadableFile(
                f"{display}: layer {source_layer!r} cannot be read ({_clean(exc)})"
            ) from exc
    gdal_notes = sorted({f"GDAL: {w.message}" for w in caught})
    crs = CRS.from_user_input(crs_text) if crs_text else None
    attrs, ids = _take_fid_column(attrs, ids)
    return SourceData(
        frame=attrs,
        geometries=geoms,
        crs=crs,
        format=fmt,
        layer=source_layer,
        source_ids=ids,
        problems=problems,
        notes=gdal_notes,
    )


def _read_layer(
    dataset: str, layer: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str | None, list[Problem]]:
    """Attributes, geometries, feature ids and CRS of one layer.

    The fast path reads through Arrow. When it fails (a geometry GEOS cannot build, such as a
    ring of two points, or text Arrow will not take) the classic path reads the raw WKB and
    decodes it feature by feature, so that the broken ones are named instead of failing the file.
    """
    try:
        frame = pyogrio.read_dataframe(dataset, layer=layer, fid_as_index=True, use_arrow=True)
    except (ValueError, ArrowException, shapely.errors.GEOSException):
        return _read_layer_raw(dataset, layer)
    geoms = (
        np.asarray(frame.geometry.array, dtype=object)
        if "geometry" in frame
        else np.full(len(frame), None, dtype=object)
    )
    attrs = pd.DataFrame(
        frame.drop(columns=[frame.geometry.name] if "geometry" in frame else [])
    ).reset_index(drop=True)
    crs = frame.crs.to_wkt() if frame.crs is not None else None
    return attrs, geoms, frame.index.to_numpy(), crs, []


def _read_layer_raw(
    dataset: str, layer: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str | None, list[Problem]]:
    meta, fids, wkb, fields = pyogrio.raw.read(dataset, layer=layer, return_fids=True)
    n = len(fids)
    if wkb is None:
        wkb = np.full(n, None, dtype=object)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    broken = np.array([w is not None for w in wkb], dtype=bool) & shapely.is_missing(geoms)
    problems = [
        Problem(
            int(i),
            "geometry",
            "geometry cannot be read (GEOS refuses it, e.g. a ring of fewer than 4 points)",
        )
        for i in np.flatnonzero(broken)
    ]
    attrs = pd.DataFrame(
        {name: values for name, values in zip(meta["fields"], fields, strict=True)}
    )
    return attrs, np.asarray(geoms, dtype=object), np.asarray(fids), meta.get("crs"), problems


def _take_fid_column(
    attrs: pd.DataFrame, ids: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """A whole-number ``fid`` column (as our exports write it) is the feature id, not an attribute."""
    if "fid" not in attrs.columns:
        return attrs, ids
    values = pd.to_numeric(attrs["fid"], errors="coerce")
    if values.notna().all() and (values % 1 == 0).all():
        return attrs.drop(columns=["fid"]), values.astype(np.int64).to_numpy()
    return attrs, ids


def _clean(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


# -- zip -------------------------------------------------------------------------------


def _read_zip(path: Path, source_layer: str | None, max_bytes: int | None) -> SourceData:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(f"{path.name}: not a readable zip archive ({exc})") from exc
    with zf, tempfile.TemporaryDirectory(prefix="ruimte-unzip-") as tmp:
        members = [i for i in zf.infolist() if not i.is_dir()]
        total = sum(i.file_size for i in members)
        _check_size(f"{path.name} (unzipped)", total, max_bytes)
        packed = sum(max(i.compress_size, 1) for i in members)
        if total > 10_000_000 and total / packed > MAX_ZIP_RATIO:
            raise FileTooLarge(
                f"{path.name} unpacks {total / packed:.0f}× its size ({total / 1e6:.0f} MB): "
                "refused as a possible zip bomb"
            )
        for info in members:
            name = info.filename
            if name.startswith("/") or ".." in Path(name).parts:
                raise UnreadableFile(f"{path.name}: unsafe member name {name!r}")
        datasets = [
            i.filename
            for i in members
            if Path(i.filename).suffix.lower() in FORMATS
            and not Path(i.filename).name.startswith(".")
            and Path(i.filename).name != FIELDNAMES_FILE
            and not i.filename.startswith("__MACOSX")
        ]
        if not datasets:
            raise UnreadableFile(
                f"{path.name}: the archive holds no .shp, .gpkg, .geojson, .fgb or .csv"
            )
        chosen = _choose_member(path.name, datasets, source_layer)
        root = Path(tmp)
        _unpack(zf, path.name, members, root, max_bytes, packed)
        renames = _fieldnames_mapping(root, members)
        inner = root / chosen
        inner_suffix = inner.suffix.lower()
        if inner_suffix == ".csv":
            source = _read_csv(inner.read_bytes(), f"{path.name}/{chosen}", _sidecar_prj(inner))
        else:
            layer = source_layer if inner_suffix == ".gpkg" else None
            source = _read_ogr(str(inner), FORMATS[inner_suffix], layer, f"{path.name}/{chosen}")
    if renames:
        present = {short: long for short, long in renames.items() if short in source.frame.columns}
        source.frame = source.frame.rename(columns=present)
        source.notes.append(f"restored {len(present)} long field name(s) from {FIELDNAMES_FILE}")
    return source


_UNPACK_CHUNK = 1 << 20


def _unpack(
    zf: zipfile.ZipFile,
    archive: str,
    members: list[zipfile.ZipInfo],
    target: Path,
    max_bytes: int | None,
    packed: int,
) -> None:
    """Unpack ``members`` into ``target``, counting the bytes that really come out.

    A member's header may lie about its size: each one is unpacked up to what is left of
    ``max_bytes`` (not up to what its header says) and refused as soon as it goes over, so
    neither memory nor disk fills up; a member that unpacks to another size than its header
    says is refused as damaged or forged.
    """
    done = 0
    for info in members:
        declared = info.file_size
        left = None if max_bytes is None else max_bytes - done
        probe = copy.copy(info)
        # zipfile stops at the size the header gives: let it read past that, to the limit.
        probe.file_size = (left + 1) if left is not None else max(declared, 1) * MAX_ZIP_RATIO
        # zipfile would check the CRC when it stops at that size, on a part of the data:
        # the CRC is checked here instead, once the member is whole.
        del probe.CRC
        crc = 0
        dest = target / info.filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        real = 0
        try:
            with zf.open(probe) as src, dest.open("wb") as out:
                while chunk := src.read(_UNPACK_CHUNK):
                    real += len(chunk)
                    if real > 10_000_000 and real > MAX_ZIP_RATIO * max(info.compress_size, 1):
                        raise FileTooLarge(
                            f"{archive}: {info.filename} unpacks more than {MAX_ZIP_RATIO}× its "
                            f"packed size (its header says {declared:,} bytes): refused as a "
                            "possible zip bomb"
                        )
                    if left is not None and real > left:
                        raise FileTooLarge(
                            f"{archive}: {info.filename} unpacks to more than the limit of "
                            f"{max_bytes / 1e6:.0f} MB (its header says {declared:,} bytes): "
                            "refused (the archive is too large or lies about its size)"
                        )
                    crc = zlib.crc32(chunk, crc)
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise UnreadableFile(
                f"{archive}: {info.filename} cannot be unpacked ({_clean(exc)}): "
                "a damaged or forged archive"
            ) from exc
        if real == declared and crc != info.CRC:
            raise UnreadableFile(
                f"{archive}: {info.filename} is damaged (its checksum does not match)"
            )
        if real != declared:
            raise UnreadableFile(
                f"{archive}: {info.filename} unpacks to {real:,} bytes but its header says "
                f"{declared:,}: a damaged or forged archive, refused"
            )
        done += real
    if done > 10_000_000 and done / max(packed, 1) > MAX_ZIP_RATIO:
        raise FileTooLarge(
            f"{archive} unpacks {done / packed:.0f}× its size ({done / 1e6:.0f} MB): "
            "refused as a possible zip bomb"
        )


def _choose_member(archive: str, datasets: list[str], source_layer: str | None) -> str:
    if len(datasets) == 1:
        return datasets[0]
    if source_layer:
        for d in datasets:
            if Path(d).stem == source_layer or d == source_layer:
                return d
        if sum(Path(d).suffix.lower() == ".gpkg" for d in datasets) == 1:
            return next(d for d in datasets if Path(d).suffix.lower() == ".gpkg")
    raise UnreadableFile(
        f"{archive} holds {len(datasets)} datasets; choose one with --source-layer: "
        + ", ".join(Path(d).stem for d in datasets)
    )


def _fieldnames_mapping(root: Path, members: list[zipfile.ZipInfo]) -> dict[str, str]:
    """Shapefile field name → original long name, from an export's ``fieldnames.csv``."""
    for info in members:
        if Path(info.filename).name == FIELDNAMES_FILE:
            text = (root / info.filename).read_bytes().decode("utf-8", "replace")
            rows = list(csv.DictReader(io.StringIO(text)))
            return {
                r["shapefile_field"]: r["field"]
                for r in rows
                if r.get("shapefile_field") and r.get("field")
            }
    return {}


# -- CSV -------------------------------------------------------------------------------


#: Byte order marks, longest first (the UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ENCODING_NAMES = {
    "utf-32": "UTF-32",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 (little-endian, no byte order mark)",
    "utf-16-be": "UTF-16 (big-endian, no byte order mark)",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
}


def _sniff_encoding(data: bytes) -> str:
    """The encoding of a text file: its byte order mark, else UTF-16 by the zero bytes of
    ASCII text in it, else UTF-8 when it decodes as such, else Windows-1252."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    head = data[:4096]
    if len(head) >= 2 and head.count(0) * 4 >= len(head):
        even, odd = head[0::2].count(0), head[1::2].count(0)
        return "utf-16-be" if even > odd else "utf-16-le"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV and the name of its encoding (detected, see :func:`_sniff_encoding`)."""
    enc = _sniff_encoding(data)
    label = _ENCODING_NAMES[enc]
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{name}: the text looks like {label} but is not valid {label} ({exc.reason} at "
            f"byte {exc.start}); save the file as UTF-8 (CSV UTF-8)"
        ) from exc
    if "\x00" in text:
        raise UnreadableFile(
            f"{name}: the text holds NUL characters when read as {label}: not a CSV text file "
            "in a known encoding; save it as UTF-8 (CSV UTF-8)"
        )
    return text, label


_NUMBER_RE = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$")


def _numeric_if_all(col: pd.Series) -> pd.Series:
    """CSV text column → numbers when every value is a plain number (no leading zeros)."""
    present = col.dropna()
    if present.empty or not present.map(lambda v: bool(_NUMBER_RE.match(v))).all():
        return col
    nums = pd.to_numeric(col, errors="coerce")
    if present.map(lambda v: "." not in v and "e" not in v.lower()).all():
        return nums.astype("Int64")
    return nums


def _read_csv(data: bytes, name: str, prj: CRS | None) -> SourceData:
    text, encoding = _decode(data, name)
    if not text.strip():
        raise UnreadableFile(f"{name}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableFile(f"{name}: not a readable CSV ({_clean(exc)})") from exc
    lower = {c.lower().strip(): c for c in frame.columns}
    notes: list[str] = [] if encoding == "UTF-8" else [f"text read as {encoding}"]
    problems: list[Problem] = []
    crs = prj
    wkt_col = next((lower[c] for c in _WKT_COLUMNS if c in lower), None)
    if wkt_col is not None:
        raw = frame[wkt_col].fillna("").astype(str).str.strip()
        srids = raw.str.extract(r"^SRID=(\d+);", flags=re.IGNORECASE)[0]
        if srids.notna().any():
            distinct = srids.dropna().unique()
            if len(distinct) > 1:
                raise UnreadableFile(
                    f"{name}: the EWKT values name several SRIDs: {', '.join(distinct)}"
                )
            crs = parse_crs(distinct[0])
            raw = raw.str.replace(r"^SRID=\d+;", "", regex=True, flags=re.IGNORECASE)
        geoms = shapely.from_wkt(
            raw.where(raw != "", None).to_numpy(dtype=object), on_invalid="ignore"
        )
        unreadable = (raw != "").to_numpy() & shapely.is_missing(geoms)
        for i in np.flatnonzero(unreadable):
            problems.append(
                Problem(int(i), wkt_col, f"geometry is not readable WKT: {raw.iloc[i][:60]!r}")
            )
        frame = frame.drop(columns=[wkt_col])
        notes.append(f"geometry read from WKT column {wkt_col!r}")
    else:
        pair = next(
            ((lower[x], lower[y]) for x, y in _XY_COLUMNS if x in lower and y in lower), None
        )
        if pair is None:
            raise UnreadableFile(
                f"{name}: no geometry column; expected a WKT column ({', '.join(_WKT_COLUMNS)}) "
                "or coordinate columns (x/y, lon/lat, rd_x/rd_y)"
            )
        xs = pd.to_numeric(frame[pair[0]].str.replace(",", ".", regex=False), errors="coerce")
        ys = pd.to_numeric(frame[pair[1]].str.replace(",", ".", regex=False), errors="coerce")
        bad = xs.isna() | ys.isna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    int(i),
                    f"{pair[0]}/{pair[1]}",
                    f"coordinates {frame[pair[0]].iloc[i]!r}, {frame[pair[1]].iloc[i]!r} are not numbers",
                )
            )
        geoms = shapely.points(xs.to_numpy(), ys.to_numpy())
        geoms = np.where(bad.to_numpy(), None, geoms)
        frame = frame.drop(columns=list(pair))
        notes.append(f"point geometry read from columns {pair[0]!r}, {pair[1]!r}")
    frame = frame.replace("", None).reset_index(drop=True)
    frame, ids = _take_fid_column(frame, None)
    for col in frame.columns:
        frame[col] = _numeric_if_all(frame[col])
    return SourceData(
        frame=frame,
        source_ids=ids,
        geometries=np.asarray(geoms, dtype=object),
        crs=crs,
        format="CSV",
        problems=problems,
        notes=notes,
    )


__all__ = ["SourceData", "read_source", "FORMATS", "FIELDNAMES_FILE", "CRSProblem"]
