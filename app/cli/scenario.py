"""``ruimte scenario``: run, list, show, compare ruimtebeslag scenarios; ``ruimte indicators``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import scenarios
from app.cli.common import CliError, check_output_file, engine, err, out
from app.runs import raster_engine, run_context
from scenarios.errors import ScenarioError, SpecError

app = typer.Typer(
    help=(
        "Ruimtebeslag scenarios: demand, supply, allocation, milieuzonering "
        "(see docs/methode-ruimtebeslag.md)."
    ),
    no_args_is_help=True,
)
F = TypeVar("F", bound=Callable[..., Any])
STEP_LABELS = {
    "validate": "checking spec",
    "load": "reading layers",
    "current": "current ha",
    "demand": "demand",
    "supply": "supply",
    "balance": "balance",
    "suitability": "suitability",
    "allocation": "allocation",
    "milieuzonering": "milieuzonering",
    "indicators": "indicators",
    "outputs": "rasters/layers",
    "store": "storing",
}


def scenario_errors(func: F) -> F:
    """Print a scenario error (every problem of a spec) and exit 1, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpecError as exc:
            err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            for line in exc.lines:
                err.print(f"  - {line}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except ScenarioError as exc:
            raise CliError(exc.message) from None

    return wrapper  # type: ignore[return-value]


def read_spec_file(path: Path) -> dict[str, Any]:
    """A spec from a YAML or JSON file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CliError(f"{path} is not valid YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CliError(f"{path}: a scenario spec must be a mapping (YAML or JSON object)")
    return data


@contextmanager
def step_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar over the steps of a run (on stderr)."""
    progress = Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    task = progress.add_task("scenario", total=len(scenarios.RUN_STEPS))

    def callback(step: str, done: int, total: int) -> None:
        progress.update(task, completed=done, total=total, description=STEP_LABELS.get(step, step))

    with progress:
        yield callback


def _print_ensemble(out: Any, ens: Any) -> None:
    """The bands of an ensemble: the work area, then the gemeenten most likely to run short."""

    def band(b: Any) -> str:
        return f"{_ha(b.p10)} / {_ha(b.p50)} / {_ha(b.p90)}"

    t = ens.totals
    top = t.most_important
    out.print(
        f"ensemble of {ens.samples} variants ({ens.method}, seed {ens.seed}), p10 / p50 / p90: "
        f"demand {band(t.demand_ha)} ha, balance {band(t.balance_ha)} ha, unmet "
        f"{band(t.unmet_ha)} ha; shortage in {t.p_shortage:.0%} of the variants; "
        + (f"most important input {top['input']} (rho {top['rho']:+.2f}); " if top else "")
        + f"robust locations {_ha(t.robust_ha)} ha (allocated in ≥ {ens.robust_share:.0%})",
        highlight=False,
    )
    short = [r for r in ens.per_gemeente if r.p_shortage > 0]
    short.sort(key=lambda r: -r.p_shortage)
    if short:
        out.print(
            "shortage probability: "
            + ", ".join(f"{r.naam} {r.p_shortage:.0%}" for r in short[:10])
            + (f" and {len(short) - 10} more" if len(short) > 10 else ""),
            highlight=False,
        )


def _print_coverage(out: Any, cov: Any) -> None:
    """Coverage of regional circular functions: per type the gemeenten out of reach."""
    for t in cov.types:
        share = t.share_uncovered
        pop = share.get("population")
        out.print(
            f"coverage {t.type} (reach {t.reach_km:g} km, {t.locations} locations): "
            f"{len(t.uncovered)} of {len(t.per_gemeente)} gemeenten not covered "
            f"({share['area']:.0%} of the area"
            + (f", {pop:.0%} of the population" if pop is not None else "")
            + ")"
            + (f": {', '.join(t.uncovered)}" if t.uncovered else ""),
            highlight=False,
        )
        for n, site in enumerate(t.suggestions, start=1):
            out.print(
                f"  suggested site {n}: RD {site.x:,.0f} {site.y:,.0f} in {site.gemeente or '-'} "
                f"(suitability {site.suitability:.2f}) covers {', '.join(site.covers)}",
                highlight=False,
            )


def phasing_table(phasing: Any) -> Table:
    """Rich table of a phased run: per gemeente the first shortage and the balance at each
    milestone, the ha allocated by each (staged), then the province."""
    table = Table(title="Fasering: balans aanbod − vraag per mijlpaal (ha)")
    table.add_column("code", no_wrap=True)
    table.add_column("gemeente", no_wrap=True)
    table.add_column("Eerste tekort", justify="right")
    for year in phasing.milestones:
        table.add_column(f"balans {year}", justify="right")
    if phasing.staged:
        for year in phasing.milestones:
            table.add_column(f"toegewezen t/m {year}", justify="right")

    def cells(place: Any) -> list[str]:
        out = [str(place.first_shortage) if place.first_shortage is not None else "geen"]
        for m in place.milestones:
            colour = "red" if m.balance_ha < 0 else "green"
            out.append(f"[{colour}]{_ha(m.balance_ha)}[/]")
        if phasing.staged:
            out += [_ha(m.allocated_ha) for m in place.milestones]
        return out

    for row in phasing.per_gemeente:
        table.add_row(row.statcode, row.naam, *cells(row))
    table.add_section()
    t = phasing.totals
    table.add_row(t.statcode, f"[bold]{t.naam}[/]", *cells(t))
    return table


def _ha(value: Any) -> str:
    return "" if value is None else f"{value:,.1f}"


def _status(value: str | None) -> str:
    colour = {"groen": "green", "oranje": "yellow", "rood": "red"}.get(value or "", "white")
    return f"[{colour}]{value}[/]" if value else ""


#: (header, figure) of the columns of the result table after code and name.
TABLE_FIGURES = (
    ("huidig", "current_ha"),
    ("vraag", "demand_ha"),
    ("aanbod", "supply_ha"),
    ("balans", "balance_ha"),
    ("toegewezen", "allocated_ha"),
    ("niet geplaatst", "unmet_ha"),
    ("HMC-vraag", "hmc_demand_ha"),
    ("HMC toegewezen", "hmc_allocated_ha"),
)


def _figure_cells(row: Any) -> list[str]:
    return [_ha(row.figure(name)) for _, name in TABLE_FIGURES]


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def result_table(result: scenarios.RunResult) -> Table:
    """Rich table: one row per gemeente, then regions and the totals."""
    spec = result.spec
    table = Table(
        title=f"{spec.name} (v{spec.version if spec.version is not None else '?'}): "
        f"{result.base_year}–{result.horizon_year}, ha {result.basis}",
    )
    table.add_column("code", no_wrap=True)
    table.add_column("gemeente", no_wrap=True)
    for header in (*(h for h, _ in TABLE_FIGURES), "conflicten"):
        table.add_column(header, justify="right")
    table.add_column("status")
    for row in result.per_gemeente:
        table.add_row(
            row.statcode,
            row.naam,
            *_figure_cells(row),
            _count(row.conflicts),
            _status(row.status),
        )
    for region in result.regions:
        table.add_row(
            "",
            f"[italic]regio {region.region}[/]",
            *_figure_cells(region),
            "",
            _status(region.status),
            end_section=False,
        )
    t = result.totals
    table.add_section()
    table.add_row(
        t.statcode,
        f"[bold]{t.naam}[/]",
        *_figure_cells(t),
        _count(t.conflicts),
        _status(t.status),
    )
    return table


def print_run(run: scenarios.RunRecord) -> None:
    """The table of a run and a few lines about it."""
    result = run.result
    if result is None:
        raise CliError(f"run {run.id} has no result (status {run.status})")
    out.print(result_table(result))
    t = result.totals
    out.print(
        f"run {run.id}: demand {_ha(t.demand_ha)} ha, supply {_ha(t.supply_ha)} ha, "
        f"uncovered {_ha(t.uncovered_ha)} ha, allocated {_ha(t.allocated_ha)} ha, "
        f"unmet {_ha(t.unmet_ha)} ha (basis {result.basis}); "
        f"{t.conflicts or 0} milieuzonering conflicts, "
        f"{_ha(t.conflicts_overlap_ha)} ha",
        highlight=False,
    )
    benutting = result.indicators.hmc_benutting if result.indicators else None
    if benutting is not None and benutting.pct is not None:
        out.print(
            f"HMC-benutting: {benutting.pct:.1f}% of {_ha(benutting.hmc_netto_ha)} ha netto HMC",
            highlight=False,
        )
    if result.ensemble is not None:
        _print_ensemble(out, result.ensemble)
    if result.coverage is not None:
        _print_coverage(out, result.coverage)
    if result.phasing is not None:
        out.print(phasing_table(result.phasing))
        short = [r for r in result.phasing.per_gemeente if r.first_shortage is not None]
        out.print(
            f"fasering: {len(short)} of {len(result.phasing.per_gemeente)} gemeenten run short "
            "by a milestone; the province first in "
            f"{result.phasing.totals.first_shortage or 'none of them'}",
            highlight=False,
        )
    quality = result.quality
    if quality:
        terreinen = quality.get("terreinen") or {}
        bruto = terreinen.get("bruto_area") or {}
        borders = terreinen.get("borders") or {}
        source = "bruto_ha (IBIS)" if quality["bruto_source"] == "attribute" else "polygons"
        out.print(
            f"bruto from {source} ({quality['bruto_source_from']}), attributed "
            f"{'by area share' if quality['attribution'] == 'area_share' else 'by gemeente code'}"
            f" ({quality['attribution_from']}); data quality: {bruto.get('count', 0)} terreinen "
            f"over the {bruto.get('tolerance_pct', 0):g}% bruto/area tolerance, "
            f"{borders.get('count', 0)} across gemeente borders, "
            f"{len(quality.get('not_counted') or [])} not counted, "
            f"{sum(u['features'] for u in quality.get('unknown_values') or [])} unknown values "
            "counted as the spec says",
            highlight=False,
        )
    if run.output_layers:
        out.print("layers: " + ", ".join(run.output_layers.values()), highlight=False)
    for note in result.inputs.notes if result.inputs else []:
        err.print(f"[cyan]note:[/] {note}", highlight=False)
    if result.inputs and result.inputs.synthetic:
        err.print(
            "[yellow]note:[/] some input layers are synthetic (demo data): not for real decisions",
            highlight=False,
        )
    steps = [*scenarios.RUN_STEPS, "phasing", "coverage", "ensemble"]
    timing = ", ".join(f"{k} {run.timing[k]:.2f}s" for k in steps if k in run.timing)
    out.print(f"timing: {timing}; total {run.timing.get('total', 0):.2f}s", highlight=False)


def write_outputs(
    conn: Any,
    run: scenarios.RunRecord,
    output: Path | None,
    rasters: Path | None,
    csv_path: Path | None,
) -> None:
    """Write the JSON result, the GeoTIFFs and the CSV table where asked."""
    if output:
        output.write_text(
            json.dumps(
                run.result.as_json() if run.result else None,
                indent=2,
                ensure_ascii=False,
                sort_keys=True,
            )
            + "\n",
            encoding="utf-8",
        )
        out.print(f"wrote {output}", highlight=False)
    if rasters:
        rasters.mkdir(parents=True, exist_ok=True)
        for name in run.rasters:
            path = rasters / f"run-{run.id}-{name}.tif"
            path.write_bytes(scenarios.get_run_raster(conn, run.id, name))
            out.print(f"wrote {path}", highlight=False)
    if csv_path:
        csv_path.write_text(scenarios.run_table_csv(conn, run.id), encoding="utf-8")
        out.print(f"wrote {csv_path}", highlight=False)


@app.command("run")
@scenario_errors
def run_cmd(
    spec_file: Annotated[
        Path | None, typer.Argument(help="Spec file (YAML or JSON); or use --preset.")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            help="Run a shipped preset or saved spec (see `ruimte scenario list`; default: none)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the JSON result here (default: not written)."),
    ] = None,
    rasters: Annotated[
        Path | None,
        typer.Option(
            help="Write the GeoTIFFs (suitability, allocation, constraints) into this directory "
            "(default: not written; they are stored with the run)."
        ),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Write the result table as CSV here (default: not written).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler for the raster steps, e.g. tcp://host:8786 (see `ruimte dask "
            "local`; default: RUIMTE_DASK_SCHEDULER, else the threaded scheduler here)."
        ),
    ] = None,
) -> None:
    """Run a scenario: print a table per gemeente and totals; store the run, layers and rasters."""
    if (spec_file is None) == (preset is None):
        raise CliError("give a SPEC_FILE or --preset NAME (one of them)")
    for path, option in ((output, "--output"), (csv, "--csv")):
        if path is not None:
            check_output_file(path, option)
    spec: Any = preset if preset is not None else read_spec_file(spec_file)
    eng = engine()
    try:
        context = run_context(engine=raster_engine(scheduler=scheduler))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if preset is not None:
        # An unknown name is an error before any progress line (with "did you mean").
        with eng.connect() as conn:
            scenarios.resolve_spec(conn, preset, context.table)
    with step_progress() as progress:
        run = scenarios.run_scenario(eng, spec, context, progress=progress)
    print_run(run)
    with eng.connect() as conn:
        write_outputs(conn, run, output, rasters, csv)


@app.command("validate")
@scenario_errors
def validate_cmd(
    spec_file: Annotated[Path, typer.Argument(help="Spec file (YAML or JSON).")],
) -> None:
    """Check a spec (against the database's layers too); list every problem."""
    with engine().connect() as conn:
        spec = scenarios.validate_spec(
            read_spec_file(spec_file), conn, categories=run_context().table
        )
    out.print(f"{spec_file}: scenario {spec.name!r} is valid", highlight=False)


@app.command("list")
@scenario_errors
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many runs.")] = 20,
) -> None:
    """List the presets, the saved specs and the latest runs."""
    with engine().connect() as conn:
        specs = scenarios.list_specs(conn)
        runs = scenarios.list_runs(conn, limit=limit)
    presets = scenarios.list_presets()
    if as_json:
        print(
            json.dumps(
                {
                    "presets": presets,
                    "specs": [{k: v for k, v in s.as_dict().items() if k != "spec"} for s in specs],
                    "runs": [r.as_dict(with_result=False) for r in runs],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    table = Table("preset", "title", title="presets")
    for p in presets:
        table.add_row(p["name"], p["title"])
    out.print(table)
    table = Table("spec", "version", "versions", "title", "saved", title="saved specs")
    for s in specs:
        table.add_row(
            s.name,
            str(s.version),
            str(s.versions),
            s.title,
            s.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)
    table = Table(
        "run", "spec", "status", "started", "seconds", "layers", title="runs (newest first)"
    )
    for r in runs:
        table.add_row(
            str(r.id),
            f"{r.spec_name} v{r.spec_version}",
            r.status,
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{r.timing.get('total', 0):.1f}" if r.timing else "",
            ", ".join(r.output_layers.values()),
        )
    out.print(table)


@app.command("show")
@scenario_errors
def show_cmd(
    run_id: Annotated[int, typer.Argument(help="Run id (see `ruimte scenario list`).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run with its JSON result.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the JSON result here (default: not written)."),
    ] = None,
    rasters: Annotated[
        Path | None,
        typer.Option(help="Write the run's GeoTIFFs into this directory (default: not written)."),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Write the result table as CSV here (default: not written).")
    ] = None,
) -> None:
    """Show a stored run: its table per gemeente, totals, layers and timing."""
    with engine().connect() as conn:
        run = scenarios.get_run(conn, run_id)
        if as_json:
            print(json.dumps(run.as_dict(), indent=2, ensure_ascii=False, sort_keys=True))
            return
        if run.result is None:
            raise CliError(f"run {run_id} has no result (status {run.status}): {run.error or ''}")
        print_run(run)
        write_outputs(conn, run, output, rasters, csv)


@app.command("compare")
@scenario_errors
def compare_cmd(
    a: Annotated[int, typer.Argument(help="Run id A.")],
    b: Annotated[int, typer.Argument(help="Run id B.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare two runs: B − A per gemeente and for the totals."""
    with engine().connect() as conn:
        diff = scenarios.compare_runs(conn, a, b)
    if as_json:
        print(json.dumps(diff, indent=2, ensure_ascii=False))
        return
    figures = ("demand_ha", "supply_ha", "balance_ha", "allocated_ha", "unmet_ha")
    table = Table(
        title=f"run {b} ({diff['b']['spec']['name']}) − run {a} ({diff['a']['spec']['name']})"
    )
    table.add_column("code", no_wrap=True)
    table.add_column("gemeente", no_wrap=True)
    for f in figures:
        table.add_column(f"Δ {f.removesuffix('_ha')} ha", justify="right")
    table.add_column("status A → B", no_wrap=True)
    extras = diff.get("extras", [])
    for name in extras:
        table.add_column(f"{COMPARE_EXTRAS[name]} A → B")
    for row in [*diff["per_gemeente"], diff["totals"]]:
        if row is diff["totals"]:
            table.add_section()
        table.add_row(
            row["statcode"],
            row["naam"],
            *(_ha(row[f"{f}_diff"]) if row[f"{f}_diff"] is not None else "" for f in figures),
            f"{row['status_a']} → {row['status_b']}",
            *(f"{_extra(row[f'{n}_a'])} → {_extra(row[f'{n}_b'])}" for n in extras),
        )
    out.print(table)


#: Headers of the parts a compared run may have (phasing, ensemble, coverage).
COMPARE_EXTRAS = {
    "first_shortage": "eerste tekort",
    "p_shortage": "kans op tekort",
    "not_covered": "niet gedekt",
}


def _extra(value: Any) -> str:
    """A compared extra: a year, a probability, a list of types; '-' where a run has none."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0%}"
    if isinstance(value, list):
        return ", ".join(value) or "alles"
    return str(value)


def register_indicators(cli: typer.Typer) -> None:
    """Add ``ruimte indicators`` to the top-level app."""

    @cli.command("indicators")
    @scenario_errors
    def indicators_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        preset: Annotated[
            str | None,
            typer.Option(
                help="Scenario for ruimtevraag vs aanbod (default: pbl-2023-bedrijventerreinen-40)."
            ),
        ] = None,
        spec_file: Annotated[
            Path | None,
            typer.Option("--spec", help="Spec file instead of a preset (default: none)."),
        ] = None,
    ) -> None:
        """The Ruimte indicators: landgebruik, HMC-benutting, ruimtevraag vs aanbod per gemeente."""
        spec: Any = read_spec_file(spec_file) if spec_file else preset
        with engine().connect() as conn:
            ind = scenarios.compute_indicators(conn, run_context(), spec)
        if as_json:
            print(json.dumps(ind, indent=2, ensure_ascii=False))
            return
        lg = ind.get("landgebruik")
        if lg:
            table = Table(
                "klasse", "duizend ha", "ha", title=f"Landgebruik in de provincie ({lg['layer']})"
            )
            for row in lg["per_klasse"]:
                table.add_row(row["klasse"], f"{row['duizend_ha']:.2f}", _ha(row["ha"]))
            table.add_section()
            table.add_row("[bold]totaal[/]", f"{lg['total_duizend_ha']:.2f}", _ha(lg["total_ha"]))
            out.print(table)
        hb = ind.get("hmc_benutting")
        if hb and hb.get("pct") is not None:
            out.print(
                f"HMC-benutting: [bold]{hb['pct']:.1f}%[/] ({_ha(hb['hmc_gebruikt_ha'])} of "
                f"{_ha(hb['hmc_netto_ha'])} ha netto on {hb['hmc_terreinen']} HMC terreinen "
                f"is used by firms of category ≥ {hb['threshold']}); "
                f"{hb['pct_vestigingen_hmc']:.1f}% of the vestigingen on HMC terreinen "
                "are HMC firms",
                highlight=False,
            )
        rv = ind["ruimtevraag"]
        table = Table(title=f"Ruimtevraag versus beschikbare ruimte ({ind['spec']})")
        table.add_column("code", no_wrap=True)
        table.add_column("gemeente", no_wrap=True)
        for header in ("vraag ha", "aanbod ha", "niet gedekt ha", "dekking"):
            table.add_column(header, justify="right")
        table.add_column("status")
        for row in rv["per_gemeente"]:
            table.add_row(
                row["statcode"],
                row["naam"],
                _ha(row["demand_ha"]),
                _ha(row["supply_ha"]),
                _ha(row["uncovered_ha"]),
                f"{row['coverage']:.0%}",
                _status(row["status"]),
            )
        out.print(table)
        counts = rv["status_counts"]
        out.print(
            f"status: {counts['groen']} groen, {counts['oranje']} oranje, {counts['rood']} rood "
            f"(groen ≥ {rv['thresholds']['groen_from']:.0%}, "
            f"oranje ≥ {rv['thresholds']['oranje_from']:.0%} dekking)",
            highlight=False,
        )
        for note in ind.get("notes", []):
            err.print(f"[cyan]note:[/] {note}", highlight=False)
