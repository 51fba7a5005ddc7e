"""Import a vector file as a layer: read, check everything, then store all or nothing.

Steps, each collecting every problem before deciding:

1. read the file (:mod:`layers.readers`);
2. settle the CRS: the file's, or ``--crs`` where it has none (or to override it);
3. check coordinates are plausible in that CRS (degrees declared as metres, swapped axes);
4. reproject to EPSG:28992 and check geometries (:mod:`spatial.geometry`), repairing
   them with ``repair``;
5. check the features fall in the work area (the province plus a margin);
6. check attributes against the kind (:mod:`layers.kinds`);
7. if anything is wrong, raise :class:`InvalidFeatures` listing it all; nothing is stored.
   Otherwise store in one transaction (:func:`layers.store.store_layer`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import Connection, Engine, text

from layers.errors import InvalidFeatures, LayerError, LayerNotFound, UnreadableFile
from layers.kinds import (
    AttributeLimits,
    GemeenteNames,
    Kind,
    MappedValue,
    Problem,
    SourceRules,
    check_geometry_rules,
    load_kinds,
    validate_attributes,
)
from layers.milieucategorie import MilieucategorieTable, load_table
from layers.quality import quality_report, report_json
from layers.readers import SourceData, read_source
from layers.store import (
    LayerInfo,
    NewFeatures,
    Provenance,
    check_user_layer_name,
    get_layer,
    read_features,
    set_version_quality,
    store_layer,
    version_fids,
)
from spatial.crs import CRSProblem, check_coordinates, crs_label, outside_box, parse_crs, reproject
from spatial.geometry import check_geometries, drop_zm, family_of

PARALLEL_CHECKS_FROM = 5_000
"""From this many features the geometry and attribute checks run side by side."""

StageProgress = Callable[[str, int, int], None]
"""Called with (stage, done, total) while an import runs."""


@dataclass
class ImportPolicy:
    """Limits that come from settings, not from the request."""

    work_area: tuple[float, float, float, float] | None = None
    """Features must touch this RD box (province plus margin); None: no check."""
    work_area_name: str = "the work area"
    max_bytes: int | None = None
    max_features: int | None = None
    max_vertices: int | None = None
    """Most vertices (coordinates) in one feature's geometry; None: no limit."""
    attribute_limits: AttributeLimits = field(default_factory=AttributeLimits)
    """Limits on attribute values (text length); the defaults set none."""
    categories: MilieucategorieTable | None = None
    bruto_tolerance_pct: float = 5.0
    """Data-quality report: terreinen whose bruto_ha differs more than this (% of the polygon
    area) are listed (``RUIMTE_PLANNING_BRUTO_TOLERANCE_PCT``)."""
    gemeenten_layer: str = "gemeenten"
    """The layer the data-quality report checks gemeente borders against (when it exists)."""


@dataclass
class PrepareOptions:
    """How to interpret the source (the import's command-line options)."""

    crs: str | None = None
    repair: bool = False
    drop_empty: bool = False
    field_map: Mapping[str, str] = field(default_factory=dict)
    set_values: Mapping[str, Any] = field(default_factory=dict)
    keep_extra: bool = True
    allow_extra: bool = True
    rules: SourceRules | None = None
    """Column names, value maps and defaults of an import profile and ``--map-value``."""


@dataclass
class Prepared:
    """Features that passed every check, ready for :func:`layers.store.store_layer`."""

    kind: Kind
    features: NewFeatures
    geometry_type: str
    source_crs: CRS
    extra_fields: dict[str, str]
    repairs: list[str]
    notes: list[str]
    mapped_values: list[MappedValue] = field(default_factory=list)
    """Source values stored as other values (field, source, target, count, why): import
    profiles, ``--map-value``, synonyms and gemeente names; in the data-quality report."""


@dataclass
class ImportReport:
    """What an import did."""

    layer: LayerInfo
    repairs: list[str]
    notes: list[str]
    quality: dict[str, Any] | None = None
    """The data-quality report stored with the version (:mod:`layers.quality`)."""
    mapped: list[MappedValue] = field(default_factory=list)
    """Source values stored as other values (field, source, target, count, why)."""


def feature_ref(i: int, source: SourceData, kind: Kind) -> str:
    """Name feature ``i`` for a message: position, file id where it differs, label value."""
    parts = []
    if source.source_ids is not None and i < len(source.source_ids):
        sid = source.source_ids[i]
        if str(sid) not in {str(i), str(i + 1)}:
            parts.append(f"fid {sid}")
    label = kind.label_field
    if label:
        cols = {str(c).lower(): c for c in source.frame.columns}
        col = cols.get(label) or next(
            (cols[a.lower()] for a in kind.fields[label].aliases if a.lower() in cols), None
        )
        if col is not None:
            value = source.frame[col].iloc[i]
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                parts.append(f"{label} {str(value)[:50]!r}")
    return f"feature {i + 1}" + (f" ({', '.join(parts)})" if parts else "")


def _raise_if_problems(problems: list[Problem], source: SourceData, kind: Kind, what: str) -> None:
    if not problems:
        return
    problems = sorted(problems, key=lambda p: (p.index is not None, p.index or 0, p.field or ""))
    lines = [
        p.describe(feature_ref(p.index, source, kind) if p.index is not None else None)
        for p in problems
    ]
    n_features = len({p.index for p in problems if p.index is not None})
    head = f"{what}: {len(problems)} problem(s)"
    if n_features:
        head += f" in {n_features} feature(s)"
    raise InvalidFeatures(head + "; nothing was stored", problems, lines)


def prepare(
    source: SourceData,
    kind: Kind,
    options: PrepareOptions,
    policy: ImportPolicy,
    what: str = "import refused",
    gemeenten: GemeenteNames | None = None,
) -> Prepared:
    """Check and convert features read from a source; raise listing every problem.

    ``gemeenten`` (the stored gemeenten layer's names) lets gemeente columns hold names.
    """
    n = len(source.geometries)
    if n == 0:
        raise UnreadableFile(f"{what}: the source holds no features")
    if policy.max_features and n > policy.max_features:
        raise LayerError(f"{what}: {n} features is more than the limit of {policy.max_features}")
    problems: list[Problem] = list(source.problems)
    notes = list(source.notes)

    crs = source.crs
    if options.crs:
        try:
            given = parse_crs(options.crs)
        except CRSProblem as exc:
            raise LayerError(str(exc)) from exc
        if crs is not None and not crs.equals(given):
            notes.append(
                f"the file declares {crs_label(crs)}; --crs overrides it with {crs_label(given)}"
            )
        crs = given
    if crs is None:
        raise LayerError(
            f"{what}: the file has no CRS; give it with --crs (e.g. --crs 28992 for RD New, "
            "--crs 4326 for longitude/latitude)"
        )

    geoms = np.asarray(source.geometries, dtype=object)
    coord_issues = check_coordinates(geoms, crs)
    implausible = np.zeros(n, dtype=bool)
    if coord_issues and len(coord_issues) == int((~_missing(geoms)).sum()):
        # Every feature is off: one clear message instead of one per feature.
        first = coord_issues[0].message
        raise InvalidFeatures(
            f"{what}: the coordinates cannot be in {crs_label(crs)}: {first}; nothing was stored",
            [Problem(None, None, first)],
            [f"all {len(coord_issues)} features: {first}"],
        )
    for issue in coord_issues:
        implausible[issue.index] = True
        problems.append(Problem(issue.index, "geometry", issue.message))
    if policy.max_vertices is not None:
        present = ~_missing(geoms)
        counts = np.zeros(n, dtype=np.int64)
        counts[present] = shapely.get_num_coordinates(geoms[present])
        for i in np.flatnonzero(counts > policy.max_vertices):
            implausible[i] = True  # not reprojected or checked further
            problems.append(
                Problem(
                    int(i),
                    "geometry",
                    f"has {counts[i]:,} vertices, more than the limit of {policy.max_vertices:,}",
                )
            )

    # Z and M go before the reprojection, which would drop them without a note.
    geoms, zm_note = drop_zm(geoms)
    if zm_note:
        notes.append(zm_note)
    rd = np.asarray(geoms, dtype=object).copy()
    ok = ~implausible & ~_missing(geoms)
    if ok.any():
        rd[ok] = reproject(geoms[ok], crs)
    rd[implausible] = None

    # The geometry checks (GEOS, which releases the GIL) run beside the attribute checks
    # (pandas) on large inputs; both always run in full, so every problem is listed.
    geometry_args = (rd, kind.geometry)
    geometry_kwargs = {"repair": options.repair, "drop_empty": options.drop_empty}
    with ThreadPoolExecutor(max_workers=1) as pool:
        checking = None
        if n >= PARALLEL_CHECKS_FROM:
            checking = pool.submit(check_geometries, *geometry_args, **geometry_kwargs)
        else:
            check = check_geometries(*geometry_args, **geometry_kwargs)
        try:
            attrs = validate_attributes(
                source.frame,
                kind,
                categories=policy.categories or load_table(),
                field_map=options.field_map,
                set_values=options.set_values,
                keep_extra=options.keep_extra,
                allow_extra=options.allow_extra,
                rules=options.rules,
                limits=policy.attribute_limits,
                gemeenten=gemeenten,
            )
        except Exception:
            if checking is not None:
                checking.result()  # a geometry error was, and stays, the first one reported
            raise
        if checking is not None:
            check = checking.result()
    unreadable = {p.index for p in source.problems}
    problems.extend(
        Problem(g.index, "geometry", g.message)
        for g in check.problems
        if not implausible[g.index] and g.index not in unreadable
    )
    notes.extend(check.notes)

    if policy.work_area is not None:
        present = ~_missing(check.geometries)
        outside = present & outside_box(np.where(present, check.geometries, None), policy.work_area)
        for i in np.flatnonzero(outside & ~implausible & check.keep):
            problems.append(
                Problem(
                    int(i), "geometry", f"lies outside the work area of {policy.work_area_name}"
                )
            )

    problems.extend(attrs.problems)
    problems.extend(check_geometry_rules(attrs.frame, family_of(check.geometries), kind))
    notes.extend(attrs.notes)
    keep = check.keep
    problems = [p for p in problems if p.index is None or keep[p.index]]
    _raise_if_problems(problems, source, kind, what)

    frame = attrs.frame[keep].reset_index(drop=True)
    gemeente = (
        frame[kind.gemeente_field].to_numpy(dtype=object)
        if kind.gemeente_field
        else np.full(len(frame), None, dtype=object)
    )
    repairs = [f"{feature_ref(r.index, source, kind)}: {r.message}" for r in check.repairs]
    return Prepared(
        kind=kind,
        features=NewFeatures(
            geometries=check.geometries[keep], attributes=frame, gemeente=gemeente
        ),
        geometry_type=check.geometry_type,
        source_crs=crs,
        extra_fields=attrs.extra_fields,
        repairs=repairs,
        notes=notes,
        mapped_values=attrs.mapped,
    )


def _missing(geoms: np.ndarray) -> np.ndarray:
    return np.array([g is None for g in geoms], dtype=bool)


@dataclass
class ImportRequest:
    """Everything ``ruimte layers import`` is asked to do."""

    path: Path
    kind: str
    name: str
    source_layer: str | None = None
    options: PrepareOptions = field(default_factory=PrepareOptions)
    title: str | None = None
    description: str | None = None
    licence: str | None = None
    attribution: str | None = None
    source_date: date | None = None
    synthetic: bool = False
    new_version: bool = False
    created_by: str | None = None


def import_file(
    engine: Engine,
    request: ImportRequest,
    policy: ImportPolicy,
    progress: StageProgress | None = None,
) -> ImportReport:
    """Read, check and store a file as a layer, all or nothing."""
    kind = load_kinds()[request.kind]
    check_user_layer_name(request.name)
    if progress:
        progress("read", 0, 1)
    source = read_source(request.path, request.source_layer, policy.max_bytes)
    n = len(source.geometries)
    if progress:
        progress("read", 1, 1)
        progress("check", 0, n)
    names = None
    if kind.name != "gemeenten" and any(f.type == "statcode" for f in kind.fields.values()):
        with engine.connect() as conn:
            names = gemeente_names(conn)
    prepared = prepare(source, kind, request.options, policy, gemeenten=names)
    if progress:
        progress("check", n, n)
    provenance = Provenance(
        source=Path(request.path).name + (f" / {source.layer}" if source.layer else ""),
        source_format=source.format,
        source_crs=crs_label(prepared.source_crs),
        source_date=request.source_date,
        licence=request.licence,
        attribution=request.attribution,
        synthetic=request.synthetic,
        note="; ".join(prepared.notes + prepared.repairs)[:4000] or None,
        created_by=request.created_by,
    )
    total = len(prepared.features.geometries)
    with engine.begin() as conn, ThreadPoolExecutor(max_workers=1) as pool:
        # The data-quality report is made while the server stores and indexes the rows,
        # with positions for fids; the fids are put in once they are known.
        gemeenten, ref = _quality_gemeenten(conn, prepared, policy)
        frame = _quality_frame(prepared, None)  # its own objects: the thread shares none
        making = pool.submit(
            _quality_report, request.name, None, prepared, policy, frame, gemeenten, ref
        )
        try:
            info = store_layer(
                conn,
                name=request.name,
                kind=kind.name,
                title=request.title,
                description=request.description,
                geometry_type=prepared.geometry_type,
                features=prepared.features,
                provenance=provenance,
                extra_fields=prepared.extra_fields,
                new_version=request.new_version,
                progress=(lambda done, _t: progress("store", done, total)) if progress else None,
            )
        finally:
            made = making.result() if making.exception() is None else None
        if made is None:
            quality = store_quality(conn, info, prepared, policy)
        else:
            quality = _with_fids(made, info.version, version_fids(conn, info.id, info.version))
            set_version_quality(conn, info.id, info.version, quality)
    info.quality, info.quality_read = quality, True
    return ImportReport(
        layer=info,
        repairs=prepared.repairs,
        notes=prepared.notes,
        quality=quality,
        mapped=prepared.mapped_values,
    )


def store_quality(
    conn: Connection, info: LayerInfo, prepared: Prepared, policy: ImportPolicy
) -> dict[str, Any]:
    """Make the data-quality report of a version just stored and store it with the version.

    Borders are checked against the current version of ``policy.gemeenten_layer`` when
    that layer exists and is of kind gemeenten (the report says when it could not be).
    """
    gemeenten, ref = _quality_gemeenten(conn, prepared, policy)
    fids = (
        version_fids(conn, info.id, info.version)
        if prepared.kind.name == "bedrijventerreinen"
        else None
    )
    frame = _quality_frame(prepared, fids)
    report = _quality_report(info.name, info.version, prepared, policy, frame, gemeenten, ref)
    set_version_quality(conn, info.id, info.version, report)
    return report


def _quality_gemeenten(
    conn: Connection, prepared: Prepared, policy: ImportPolicy
) -> tuple[gpd.GeoDataFrame | None, tuple[str, int] | None]:
    """The gemeenten the report checks borders against, and (layer, version); None, None
    where there are none or the kind's report needs none."""
    if prepared.kind.name != "bedrijventerreinen":  # the checks of other kinds need no geometry
        return None, None
    try:
        gem_info = get_layer(conn, policy.gemeenten_layer, with_versions=False)
    except LayerNotFound:
        return None, None
    if gem_info.kind != "gemeenten":
        return None, None
    gem = read_features(conn, gem_info.name)
    frame = gpd.GeoDataFrame(gem.properties, geometry=list(gem.geometries), crs=28992)
    return frame, (gem_info.name, gem_info.version)


def _quality_frame(prepared: Prepared, fids: np.ndarray | None) -> gpd.GeoDataFrame:
    """The features as the report reads them; ``fids`` None: positions stand for the fids."""
    features = prepared.features
    if prepared.kind.name != "bedrijventerreinen":
        return gpd.GeoDataFrame(index=pd.RangeIndex(len(features.geometries)))
    frame = gpd.GeoDataFrame(
        features.attributes.reset_index(drop=True),
        geometry=list(features.geometries),
        crs=28992,
    )
    frame["fid"] = np.arange(len(frame)) if fids is None else fids
    return frame


def _quality_report(
    name: str,
    version: int | None,
    prepared: Prepared,
    policy: ImportPolicy,
    frame: gpd.GeoDataFrame,
    gemeenten: gpd.GeoDataFrame | None,
    ref: tuple[str, int] | None,
) -> dict[str, Any]:
    """The report of :func:`_quality_frame`'s features, as JSON."""
    return report_json(
        quality_report(
            layer=name,
            version=version,
            kind=prepared.kind.name,
            features=frame,
            tolerance_pct=policy.bruto_tolerance_pct,
            gemeenten=gemeenten,
            gemeenten_ref=ref,
            repaired=prepared.repairs,
            mapped_values=[m.as_dict() for m in prepared.mapped_values],
        )
    )


def _with_fids(report: dict[str, Any], version: int, fids: np.ndarray) -> dict[str, Any]:
    """A report made with positions for fids (:func:`_quality_report`), with the version and
    the fids (in row order, as the rows were written)."""
    report["version"] = version
    for check in ("bruto_area", "borders"):
        for item in (report.get(check) or {}).get("terreinen", []):
            if item.get("fid") is not None:
                item["fid"] = int(fids[item["fid"]])
    return report


def gemeente_names(conn: Connection) -> GemeenteNames | None:
    """Names of the stored gemeenten layer (statcode → naam), to read gemeente name columns.

    The layer named ``gemeenten`` when it is of that kind, else the only layer of kind
    ``gemeenten``; None when there is none (or several and none of them is named so).
    """
    rows = conn.execute(
        text("SELECT id, name FROM layers WHERE kind = 'gemeenten' ORDER BY name")
    ).all()
    chosen = next((r for r in rows if r.name == "gemeenten"), rows[0] if len(rows) == 1 else None)
    if chosen is None:
        return None
    names = conn.execute(
        text(
            "SELECT properties->>'statcode' AS code, properties->>'naam' AS naam FROM features "
            "WHERE layer_id = :id AND version_to IS NULL AND NOT draft"
        ),
        {"id": chosen.id},
    ).all()
    return GemeenteNames(
        layer=chosen.name, names={r.code: r.naam for r in names if r.code and r.naam}
    )


def frame_source(
    frame: pd.DataFrame, geometries: np.ndarray, crs: CRS | None, fmt: str
) -> SourceData:
    """Wrap in-memory features (API requests, generated demo data) as a source."""
    return SourceData(
        frame=frame.reset_index(drop=True), geometries=geometries, crs=crs, format=fmt
    )
