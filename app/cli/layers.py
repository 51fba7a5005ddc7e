"""``ruimte layers``: import, export, list, show and delete kaartlagen; ``ruimte demo-data``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from app.cli.common import CliError, check_output_file, engine, err, out, stage_progress
from app.settings import get_import_settings, import_policy
from layers.formats import EXPORT_FORMATS

app = typer.Typer(help="Import, export, list, show and delete kaartlagen.", no_args_is_help=True)


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise CliError(f"{option} takes FIELD=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        pairs[key.strip()] = value.strip()
    return pairs


@app.command("import")
def import_cmd(
    path: Annotated[
        Path,
        typer.Argument(help="GeoPackage, GeoJSON, Shapefile (.shp or .zip), FlatGeobuf or CSV."),
    ],
    name: Annotated[str, typer.Option(help="Layer name (slug: a-z, 0-9, _ and -).")],
    kind: Annotated[
        str | None,
        typer.Option(help="Kind of layer; see `ruimte layers kinds` (default: the profile's)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Import profile: a shipped one (ibis, vng-woongebieden, omgevingsplan; see "
            "`ruimte layers profiles`) or a YAML file, mapping the source's field names and "
            "values onto the kind (default: none)."
        ),
    ] = None,
    map_value: Annotated[
        list[str] | None,
        typer.Option(
            "--map-value",
            help="FIELD:SOURCE=TARGET: store source value SOURCE of kind field FIELD as TARGET "
            "(any case; over the profile's). Repeatable (default: none).",
        ),
    ] = None,
    source_layer: Annotated[
        str | None,
        typer.Option(help="Layer inside the file, where it has several (default: its only layer)."),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="FIELD=SOURCE: take kind field FIELD from source column SOURCE. Repeatable "
            "(default: matched by name and alias).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="FIELD=VALUE: give kind field FIELD this value for every feature. Repeatable "
            "(default: none).",
        ),
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(
            help="CRS of the coordinates when the file has none (or to override it), e.g. 28992 "
            "(default: the file's own)."
        ),
    ] = None,
    repair: Annotated[
        bool, typer.Option(help="Repair invalid geometries and report each repair.")
    ] = False,
    drop_empty: Annotated[
        bool, typer.Option(help="Skip features without geometry instead of refusing the file.")
    ] = False,
    new_version: Annotated[
        bool, typer.Option(help="If the layer exists, store these features as its next version.")
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Refuse source fields that the kind does not define.")
    ] = False,
    drop_extra: Annotated[
        bool, typer.Option(help="Drop source fields that the kind does not define.")
    ] = False,
    title: Annotated[
        str | None, typer.Option(help="Title shown in maps and lists (default: the name).")
    ] = None,
    description: Annotated[
        str | None, typer.Option(help="Description of the layer (default: none).")
    ] = None,
    licence: Annotated[
        str | None, typer.Option(help="Licence of the data, e.g. 'CC BY 4.0' (default: none).")
    ] = None,
    attribution: Annotated[
        str | None,
        typer.Option(help="Attribution, e.g. 'CBS / Kadaster, via PDOK' (default: none)."),
    ] = None,
    source_date: Annotated[
        str | None, typer.Option(help="Date of the source data, YYYY-MM-DD (default: none).")
    ] = None,
    synthetic: Annotated[
        bool, typer.Option(help="Mark the data as synthetic (generated, not real).")
    ] = False,
) -> None:
    """Import a vector file as a layer: all features pass every check, or nothing is stored."""
    from layers.importer import ImportRequest, PrepareOptions, import_file
    from layers.kinds import load_kinds
    from layers.profiles import load_profile, parse_map_values, source_rules

    try:
        sdate = date.fromisoformat(source_date) if source_date else None
    except ValueError as exc:
        raise CliError(f"--source-date {source_date!r} is not YYYY-MM-DD") from exc
    if strict and drop_extra:
        raise CliError("--strict and --drop-extra exclude each other")
    chosen = load_profile(profile) if profile else None
    if kind is None:
        if chosen is None:
            raise CliError("give the kind of layer with --kind (or a --profile that names one)")
        kind = chosen.kind
    kind_spec = load_kinds()[kind]  # unknown kind: fail before touching the database
    try:
        value_maps = parse_map_values(map_value or [])
    except ValueError as exc:
        raise CliError(f"--map-value {exc}") from exc
    rules = source_rules(kind_spec, chosen, value_maps)
    request = ImportRequest(
        path=path,
        kind=kind,
        name=name,
        source_layer=source_layer,
        options=PrepareOptions(
            crs=crs,
            repair=repair,
            drop_empty=drop_empty,
            field_map=_pairs(map_, "--map"),
            set_values=_pairs(set_, "--set"),
            keep_extra=not drop_extra,
            allow_extra=not strict,
            rules=rules,
        ),
        title=title,
        description=description,
        licence=licence,
        attribution=attribution,
        source_date=sdate,
        synthetic=synthetic,
        new_version=new_version,
    )
    eng = engine()
    with stage_progress(threshold=get_import_settings().progress_threshold) as progress:
        report = import_file(eng, request, import_policy(), progress=progress)
    info = report.layer
    for line in report.repairs:
        err.print(f"[yellow]repaired:[/] {line}", highlight=False)
    for line in report.notes:
        err.print(f"[cyan]note:[/] {line}", highlight=False)
    for mapped in report.mapped:
        err.print(f"[cyan]mapped:[/] {escape(mapped.describe())}", highlight=False)
    out.print(
        f"imported {info.feature_count} feature(s) into layer [bold]{info.name}[/] "
        f"(kind {info.kind}, version {info.version}, {info.geometry_type}, EPSG:28992; "
        f"source CRS {info.provenance.source_crs})",
        highlight=False,
    )
    print_quality(report.quality)


def print_quality(report: dict | None) -> None:
    """The data-quality report of a version, as lines (nothing when there is nothing to say)."""
    from layers.quality import summary_lines

    lines = summary_lines(report) if report else []
    if lines:
        out.print("data quality (stored with the version; `ruimte layers show --json`):")
    for line in lines:
        out.print(f"  {escape(line)}", highlight=False)


@app.command("export")
def export_cmd(
    name: Annotated[str, typer.Argument(help="Layer name.")],
    format_: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (shp: a .zip).")],
    crs: Annotated[
        str | None,
        typer.Option(help="Output CRS (default: EPSG:28992; GeoJSON: WGS84 per RFC 7946)."),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(help="Export an earlier version of the layer (default: the current one)."),
    ] = None,
) -> None:
    """Export a layer to GeoPackage, GeoJSON, Shapefile (zip), FlatGeobuf or CSV (WKT)."""
    from layers.exporter import export_layer
    from spatial.crs import CRSProblem, parse_crs

    fmt = format_.lower()
    if fmt not in EXPORT_FORMATS:
        raise CliError(f"--format {format_!r} is not one of {', '.join(EXPORT_FORMATS)}")
    if crs is not None:
        try:
            parse_crs(crs)
        except CRSProblem as exc:
            raise CliError(
                f"--crs {crs!r} is not a CRS that can be used (e.g. 28992, 4326, 4258, CRS84): "
                f"{str(exc).splitlines()[0]}"
            ) from exc
    check_output_file(output)
    if fmt == "shp" and output.suffix.lower() != ".zip":
        output = output.with_suffix(".zip")
        err.print(
            f"[cyan]note:[/] a Shapefile export is a zip archive: writing {output}", highlight=False
        )
    with engine().connect() as conn:
        result = export_layer(conn, name, fmt, output, crs=crs, version=version)
    out.print(
        f"wrote {result.feature_count} feature(s) of {name} to {result.path} ({fmt}, {result.crs})",
        highlight=False,
    )


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the layers with kind, version, feature count and provenance."""
    from layers.catalogue import list_catalogue

    with engine().connect() as conn:
        layers = list_catalogue(conn)
    if as_json:
        print(json.dumps([lyr.as_dict() for lyr in layers], indent=2, ensure_ascii=False))
        return
    if not layers:
        out.print("no layers yet: `ruimte layers import` or `ruimte demo-data`")
        return
    table = Table(
        "name", "kind", "version", "features", "geometry", "synthetic", "source", "updated"
    )
    for lyr in layers:
        table.add_row(
            lyr.name,
            lyr.kind,
            str(lyr.version),
            str(lyr.feature_count),
            lyr.geometry_type,
            "yes" if lyr.provenance.synthetic else "no",
            lyr.provenance.source or "",
            lyr.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


@app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="Layer name.")],
    version: Annotated[
        int | None, typer.Option(help="Show an earlier version (default: the current one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a layer's metadata, provenance, fields and versions."""
    from layers.kinds import load_kinds
    from layers.store import get_layer

    with engine().connect() as conn:
        info = get_layer(conn, name, version)
    data = info.as_dict()
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    kind = load_kinds()[info.kind]
    out.print(f"[bold]{info.name}[/] — {info.title}", highlight=False)
    if info.description:
        out.print(info.description, highlight=False)
    rows = [
        ("kind", f"{info.kind} ({kind.title})"),
        ("geometry", f"{info.geometry_type}, EPSG:28992"),
        ("version", f"{info.version} of {info.current_version}"),
        ("features", str(info.feature_count)),
        ("extent (RD)", ", ".join(f"{v:.0f}" for v in info.bbox) if info.bbox else "-"),
    ]
    for key, value in data["provenance"].items():
        rows.append((key.replace("_", " "), "" if value is None else str(value)))
    rows.append(
        (
            "fields",
            ", ".join(kind.fields)
            + (" + " + ", ".join(info.extra_fields) if info.extra_fields else ""),
        )
    )
    for key, value in rows:
        out.print(f"  {key:14} {value}", highlight=False)
    print_quality(info.quality)
    table = Table("version", "created", "change", "features", "source")
    for v in info.versions:
        table.add_row(
            str(v["version"]),
            v["created_at"][:19],
            v["change"],
            str(v["feature_count"]),
            v["source"] or "",
        )
    out.print(table)


@app.command("delete")
def delete_cmd(
    name: Annotated[str, typer.Argument(help="Layer name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a layer with all its versions and features."""
    from layers.store import delete_layer, get_layer

    eng = engine()
    with eng.connect() as conn:
        info = get_layer(conn, name)
    if not yes and not typer.confirm(
        f"Delete layer {name!r} ({info.feature_count} features, {len(info.versions)} version(s))?"
    ):
        raise typer.Exit(1)
    with eng.begin() as conn:
        delete_layer(conn, name)
    out.print(f"deleted layer {name}")


@app.command("publish")
def publish_cmd(
    name: Annotated[str, typer.Argument(help="Layer name.")],
    unpublish: Annotated[
        bool, typer.Option("--unpublish", help="Hide it from the public instead.")
    ] = False,
) -> None:
    """Publish a layer (everyone sees it) or, with --unpublish, show it to the province only."""
    from layers.store import set_layer_meta

    with engine().begin() as conn:
        info = set_layer_meta(conn, name, published=not unpublish)
    out.print(
        f"layer {info.name} is {'published' if info.published else 'unpublished (province only)'}"
    )


@app.command("kinds")
def kinds_cmd(
    kind: Annotated[str | None, typer.Argument(help="Show one kind in full.")] = None,
) -> None:
    """List the layer kinds and their fields."""
    from layers.kinds import load_kinds

    registry = load_kinds()
    for k in [registry[kind]] if kind else registry.values():
        out.print(f"[bold]{k.name}[/] — {k.title} (geometry: {k.geometry})", highlight=False)
        for f in k.fields.values():
            flags = ", ".join(
                x
                for x in (
                    f.type,
                    "required" if f.required else "",
                    f"default {f.default!r}" if f.default is not None else "",
                    f"values: {', '.join(f.values)}" if f.values and kind else "",
                )
                if x
            )
            out.print(f"    {f.name:30} {flags}", highlight=False)


@app.command("profiles")
def profiles_cmd(
    profile: Annotated[
        str | None, typer.Argument(help="Show one profile (name or YAML file) in full.")
    ] = None,
) -> None:
    """List the shipped import profiles (or show one): field names and value maps per kind."""
    from layers.profiles import load_profile, shipped_profiles

    for name in [profile] if profile else shipped_profiles():
        p = load_profile(name)
        out.print(f"[bold]{p.name}[/] — {p.title} (kind: {p.kind})", highlight=False)
        if not profile:
            continue
        for fname, columns in p.fields.items():
            out.print(f"    {fname:30} columns: {', '.join(columns)}", highlight=False)
        for fname, mapping in p.values.items():
            for src, tgt in mapping.items():
                out.print(f"    {fname:30} {src!r} → {tgt!r}", highlight=False)
        for fname, value in p.defaults.items():
            out.print(f"    {fname:30} default {value!r} when missing", highlight=False)


def register_demo_data(cli: typer.Typer) -> None:
    """Add ``ruimte demo-data`` to the top-level app."""

    @cli.command("demo-data")
    def demo_data_cmd(
        seed: Annotated[
            int, typer.Option(help="Random seed; the same seed gives the same data.")
        ] = 2025,
        gemeenten: Annotated[
            Path | None,
            typer.Option(
                help="File with other real gemeente boundaries (statcode, naam); default: the CBS "
                "2025 boundaries shipped with the package."
            ),
        ] = None,
        gemeenten_layer: Annotated[
            str | None, typer.Option(help="Layer inside --gemeenten (default: its only layer).")
        ] = None,
        offline: Annotated[
            bool,
            typer.Option(
                help="Accepted for old scripts; the demo never needs the network (the boundaries "
                "ship with the package)."
            ),
        ] = False,
        replace: Annotated[
            bool, typer.Option(help="Store as new versions where demo layers exist.")
        ] = False,
        work_area: Annotated[
            str | None,
            typer.Option(
                help="A province (CBS code PV20…PV31 or name) or NL for the whole country; "
                "default: RUIMTE_WORK_AREA (PV26)."
            ),
        ] = None,
    ) -> None:
        """Store the demo layers: real CBS 2025 gemeenten, synthetic layers on them (seeded)."""
        from app.settings import get_work_area, work_area_named
        from layers.demo import DemoOptions, load_demo_data

        area = work_area_named(work_area)
        eng = engine()
        options = DemoOptions(
            seed=seed,
            gemeenten_path=gemeenten,
            gemeenten_layer=gemeenten_layer,
            online=not offline,
            replace=replace,
            province=area.statcode,
        )
        with stage_progress(threshold=0) as progress:
            summary = load_demo_data(eng, options, import_policy(area), progress=progress)
        for line in summary:
            out.print(line, highlight=False)
        current = get_work_area()
        if current.statcode != area.statcode:
            out.print(
                f"note: RUIMTE_WORK_AREA is {current.statcode} ({current.title}); set "
                f"RUIMTE_WORK_AREA={area.statcode} so that pages, imports and runs follow "
                f"{area.title}",
                highlight=False,
            )
