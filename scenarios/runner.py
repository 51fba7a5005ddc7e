"""Running a scenario against the database: the edges around :func:`scenarios.compute.compute`.

A run:

1. validates the spec against the database (every problem at once; nothing stored on error);
2. saves the spec (a new version only when its content changed) and records the run as
   ``running``, so that others can see it;
3. reads every layer the spec names at one version each (the pinned one, else the
   current one, which is then recorded) in one REPEATABLE READ snapshot;
4. computes (pure, timed per step);
5. stores, in one transaction, the derived layers (``run-<id>-allocatie``, ``-milieuzones``,
   ``-conflicten``), the GeoTIFFs and the JSON result, and marks the run ``done``.
   On any error the run is marked ``failed`` with the message, and nothing else is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from layers.access import NO_DRAFTS
from layers.errors import InvalidFeatures, LayerError, LayerNotFound, did_you_mean
from layers.importer import ImportPolicy, PrepareOptions, frame_source, prepare
from layers.kinds import load_kinds
from layers.milieucategorie import MilieucategorieTable
from layers.store import NewFeatures, Provenance, read_features, store_layer
from scenarios import store
from scenarios.compute import STEPS, Computation, DerivedLayer, compute, compute_figures
from scenarios.current import FigureDefaults
from scenarios.engine import Engine as RasterEngine
from scenarios.errors import ScenarioError, SpecError, SpecNotFound
from scenarios.inputs import Inputs, LayerData
from scenarios.presets import preset_data, preset_names
from scenarios.result import RunInfo, SpecRef
from scenarios.spec import ScenarioSpec, spec_layer_refs
from scenarios.validation import validate_spec
from spatial.crs import RD_NEW

Progress = Callable[[str, int, int], None]
RUN_STEPS = ("validate", "load", *STEPS, "store")
DEFAULT_INDICATOR_PRESET = "pbl-2023-bedrijventerreinen-40"
SpecInput = ScenarioSpec | Mapping[str, Any] | str


def software_version() -> str:
    """The installed version of ruimte-circulair."""
    try:
        return version("ruimte-circulair")
    except PackageNotFoundError:  # pragma: no cover - running from a tree without install
        return "unknown"


@dataclass(frozen=True)
class RunContext:
    """What a run takes from its caller's settings (the app reads them; nothing here does).

    Attributes
    ----------
    province
        (code, name) of the work area, e.g. ``("PV26", "Provincie Utrecht")`` or
        ``("NL", "Nederland")``: the totals row of every result.
    table
        The milieucategorie table (``RUIMTE_PLANNING_MILIEUCATEGORIE_TABLE``, else the
        shipped VNG table): specs are validated, and runs computed, against it.
    figures
        Bruto source and attribution where a spec names none, and the tolerance of the
        data-quality report (the planning settings).
    engine
        Where the grid is computed: :class:`scenarios.engine.InMemory` or
        :class:`scenarios.chunked.Chunked` (same results).
    """

    province: tuple[str, str]
    table: MilieucategorieTable
    figures: FigureDefaults
    engine: RasterEngine


def add_ensemble(
    spec: ScenarioSpec,
    inputs: Inputs,
    context: RunContext,
    comp: Computation,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Run the spec's ensemble (on the context engine's Dask scheduler, if any) and add its
    bands to ``comp``'s result and its frequency raster to ``comp``'s rasters."""
    from scenarios.ensemble import run_ensemble
    from scenarios.result import EnsembleResult

    part, rasters, layers = run_ensemble(
        spec,
        inputs,
        context.table,
        comp,
        province=context.province,
        defaults=context.figures,
        scheduler=getattr(context.engine, "scheduler", None),
        progress=progress,
    )
    comp.result = comp.result.model_copy(update={"ensemble": EnsembleResult.model_validate(part)})
    comp.rasters.update(rasters)
    comp.layers.update(layers)


def resolve_spec(
    conn: Connection, spec: SpecInput, table: MilieucategorieTable | None = None
) -> ScenarioSpec:
    """A validated spec from a model, a mapping, a preset name or a saved spec (``name[@version]``).

    A name is looked up among the presets first (a preset always means the shipped one),
    then among the saved specs. Milieucategorieën are checked against ``table`` (default:
    the shipped table).
    """
    if isinstance(spec, str):
        data = preset_data(spec)
        if data is None:
            name, _, ver = spec.partition("@")
            try:
                data = store.get_spec(conn, name, int(ver) if ver.isdigit() else None).spec
            except SpecNotFound:
                raise SpecError(
                    [
                        {
                            "loc": ["preset"],
                            "msg": f"unknown preset or saved spec {spec!r}"
                            + did_you_mean(
                                spec, [*preset_names(), *(r.name for r in store.list_specs(conn))]
                            )
                            + f"; presets: {', '.join(preset_names())}",
                        }
                    ]
                ) from None
        spec = data
    return validate_spec(spec, conn, categories=table)


def read_inputs(conn: Connection, spec: ScenarioSpec) -> Inputs:
    """Read every layer of the spec once, at its pinned (or current) version, without drafts."""
    layers: dict[str, LayerData] = {}
    notes: list[str] = []
    for where, ref in spec_layer_refs(spec):
        if ref.layer in layers:
            continue
        try:
            frame = read_features(conn, ref.layer, ref.version, NO_DRAFTS)
        except LayerNotFound:
            if ref.required:
                raise
            note = f"layer {ref.layer!r} ({where}) does not exist: skipped"
            if note not in notes:
                notes.append(note)
            continue
        layers[ref.layer] = LayerData(
            name=ref.layer,
            kind=frame.info.kind,
            version=frame.info.version,
            geometries=frame.geometries,
            properties=frame.properties,
            fids=frame.fids,
            synthetic=frame.info.provenance.synthetic,
            quality=frame.info.quality,
        )
    role = {
        r: getattr(spec.layers, r).layer if getattr(spec.layers, r) is not None else None
        for r in ("reserveringen", "strategische_locaties", "vestigingen", "landgebruik")
    }
    return Inputs(
        layers=layers,
        gemeenten=spec.layers.gemeenten.layer,
        bedrijventerreinen=spec.layers.bedrijventerreinen.layer,
        reserveringen=role["reserveringen"] if role["reserveringen"] in layers else None,
        strategische_locaties=role["strategische_locaties"]
        if role["strategische_locaties"] in layers
        else None,
        vestigingen=role["vestigingen"] if role["vestigingen"] in layers else None,
        landgebruik=role["landgebruik"] if role["landgebruik"] in layers else None,
        notes=notes,
    )


def run_scenario(
    engine: Engine,
    spec: SpecInput,
    context: RunContext,
    *,
    progress: Progress | None = None,
    created_by: str | None = None,
) -> store.RunRecord:
    """Validate, run and store a scenario; return the run record with its JSON result.

    Parameters
    ----------
    engine
        The database.
    spec
        A spec (model or mapping), a preset name, or a saved spec's name (``name@version``).
    context
        Work area, milieucategorie table and figure defaults (from the app's settings);
        the result records which figure defaults applied.
    progress
        Called with (step, done, total) after each step (see :data:`RUN_STEPS`).
    created_by
        Who asked (recorded with the spec version and the run).

    Returns
    -------
    RunRecord
        The stored run (status ``done``) with ``result``.

    Raises
    ------
    SpecError
        An invalid spec (every problem listed); nothing was stored.
    UnknownValues
        A layer holds a classifying value the run does not know: the run is stored as
        failed with the message (layer, feature, value), nothing else is stored.
    """
    timing: dict[str, float] = {}

    def tick(step: str, started: float) -> None:
        timing[step] = round(time.perf_counter() - started, 4)
        if progress:
            progress(step, RUN_STEPS.index(step) + 1, len(RUN_STEPS))

    t0 = time.perf_counter()
    with engine.begin() as conn:
        checked = resolve_spec(conn, spec, context.table)
        record = store.save_spec(conn, checked, created_by)
        run_id = store.create_run(conn, record, software_version(), created_by)
    tick("validate", t0)
    try:
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                inputs = read_inputs(conn, checked)
        tick("load", t0)
        offset = RUN_STEPS.index(STEPS[0])

        def inner(step: str, done: int, _total: int) -> None:
            if progress:
                progress(step, offset + done, len(RUN_STEPS))

        comp = compute(
            checked,
            inputs,
            context.table,
            province=context.province,
            progress=inner,
            defaults=context.figures,
            engine=context.engine,
        )
        timing.update(comp.timing)
        if checked.ensemble is not None:
            t0 = time.perf_counter()
            add_ensemble(checked, inputs, context, comp)
            timing["ensemble"] = round(time.perf_counter() - t0, 4)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            outputs = store_outputs(conn, run_id, record, comp, inputs)
            timing["store"] = round(time.perf_counter() - t0, 4)
            timing["total"] = round(sum(v for k, v in timing.items() if k != "total"), 4)
            result = comp.result.model_copy(
                update={
                    "spec": SpecRef(name=record.name, version=record.version, title=record.title),
                    "software_version": software_version(),
                    "run": RunInfo(
                        id=run_id, timing=timing, layers=outputs, rasters=sorted(comp.rasters)
                    ),
                }
            )
            store.finish_run(
                conn,
                run_id,
                result=result,
                timing=timing,
                layer_versions=inputs.versions,
                output_layers=outputs,
            )
        if progress:
            progress("store", len(RUN_STEPS), len(RUN_STEPS))
    except Exception as exc:
        with engine.begin() as conn:
            store.fail_run(conn, run_id, _safe_message(exc), timing)
        raise
    with engine.connect() as conn:
        return store.get_run(conn, run_id)


def _safe_message(exc: Exception) -> str:
    if isinstance(exc, (ScenarioError, LayerError)):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def store_outputs(
    conn: Connection, run_id: int, spec: store.SpecRecord, comp: Computation, inputs: Inputs
) -> dict[str, str]:
    """Store the rasters and the derived layers of a run; return {role: layer name}."""
    for name, (content, description) in sorted(comp.rasters.items()):
        store.put_raster(conn, run_id, name, content, description)
    names = {}
    source = f"ruimte scenario run {run_id} ({spec.name} v{spec.version})"
    read = ", ".join(f"{k}@{v}" for k, v in inputs.versions.items())
    for role, layer in comp.layers.items():
        name = f"run-{run_id}-{role}"
        frame = layer.frame.copy()
        frame.insert(0, "run_id", run_id)
        store_derived_layer(
            conn,
            name=name,
            layer=layer,
            frame=frame,
            provenance=Provenance(
                source=source,
                source_format="derived",
                source_crs="EPSG:28992",
                licence="derived data; the licences of the input layers apply",
                attribution="Ruimte Circulair scenario run",
                synthetic=inputs.synthetic,
                note=f"derived: computed by {source} with ruimte-circulair {software_version()} "
                f"from layers {read}",
            ),
            description=(
                f"Afgeleide laag van scenariorun {run_id} ({spec.name} versie {spec.version})."
            ),
        )
        names[role] = name
    return names


def store_derived_layer(
    conn: Connection,
    *,
    name: str,
    layer: DerivedLayer,
    frame: pd.DataFrame,
    provenance: Provenance,
    description: str,
) -> None:
    """Check the features like an import (:func:`layers.importer.prepare`) and store them."""
    kind = load_kinds()[layer.kind]
    keep = np.array([g is not None for g in layer.geometries], dtype=bool)
    frame = frame[keep].reset_index(drop=True)
    geoms = layer.geometries[keep]
    if len(geoms) == 0:
        features = NewFeatures(
            geometries=np.array([], dtype=object),
            attributes=frame,
            gemeente=np.array([], dtype=object),
        )
        geometry_type, extra = "MultiPolygon", {}
    else:
        try:
            prepared = prepare(
                frame_source(frame, geoms, RD_NEW, "derived"),
                kind,
                PrepareOptions(keep_extra=False, allow_extra=False),
                ImportPolicy(),
                what=f"derived layer {name} refused",
            )
        except InvalidFeatures as exc:  # a bug in the computation, not in the user's input
            raise LayerError(f"{exc.message}: {'; '.join(exc.lines[:5])}") from exc
        features, geometry_type, extra = (
            prepared.features,
            prepared.geometry_type,
            prepared.extra_fields,
        )
    store_layer(
        conn,
        name=name,
        kind=kind.name,
        title=layer.title,
        description=description,
        geometry_type=geometry_type,
        features=features,
        provenance=provenance,
        extra_fields=extra,
    )


def compute_indicators(
    conn: Connection, context: RunContext, spec: SpecInput | None = None
) -> dict[str, Any]:
    """The Ruimte indicators now: landgebruik, HMC-benutting, ruimtevraag per gemeente.

    The ruimtevraag uses a spec (default: the preset ``pbl-2023-bedrijventerreinen-40``)
    without allocation. Nothing is stored.
    """
    checked = resolve_spec(conn, spec or DEFAULT_INDICATOR_PRESET, context.table)
    inputs = read_inputs(conn, checked)
    comp = compute_figures(
        checked, inputs, context.table, province=context.province, defaults=context.figures
    )
    out = comp.result.indicators.as_json()
    out["spec"] = checked.name
    out["layers"] = inputs.versions
    out["synthetic"] = inputs.synthetic
    out["notes"] = inputs.notes
    totals = comp.result.totals
    out["totals"] = {
        k: totals.figure(k)
        for k in ("demand_ha", "supply_ha", "uncovered_ha", "coverage", "status")
    }
    return out
