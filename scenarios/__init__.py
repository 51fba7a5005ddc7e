"""Ruimtebeslag scenarios: the public Python API (used by the CLI and the web service).

Everything here takes an SQLAlchemy ``Engine`` or ``Connection`` explicitly; there is no
global state. Errors are :class:`ScenarioError` subclasses with an HTTP ``status``;
:class:`SpecError` carries ``problems``, a list of ``{"loc": [...], "msg": "..."}``.

Specs::

    validate_spec(data, conn=None) -> ScenarioSpec     every problem at once (SpecError)
    save_spec(conn, data) -> SpecRecord                new version when the name exists
    list_specs(conn) -> list[SpecRecord]               newest version of each
    get_spec(conn, name, version=None) -> SpecRecord
    list_presets() -> list[dict]                       name, title, description
    load_preset(name) -> ScenarioSpec

Runs::

    run_scenario(engine, spec, context, progress=None) -> RunRecord   context: RunContext
    list_runs(conn, spec_name=None, limit=None) -> list[RunRecord]
    get_run(conn, run_id) -> RunRecord                          .result is the JSON result
    run_table_csv(conn, run_id) -> str
    compare_runs(conn, a, b) -> dict                            per gemeente and totals, B − A
    get_run_raster(conn, run_id, name) -> bytes                 GeoTIFF; names in RASTERS

Indicators::

    compute_indicators(conn, context, spec=None) -> dict   landgebruik, HMC-benutting, ruimtevraag
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from layers.errors import did_you_mean as _did_you_mean
from scenarios.errors import RasterNotFound, RunNotFound, ScenarioError, SpecError, SpecNotFound
from scenarios.presets import preset_data as _preset_data
from scenarios.presets import preset_names as _preset_names

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from layers.milieucategorie import MilieucategorieTable
    from scenarios.result import RunResult
    from scenarios.runner import (
        RUN_STEPS,
        RunContext,
        compute_indicators,
        resolve_spec,
        run_scenario,
    )
    from scenarios.spec import ScenarioSpec
    from scenarios.store import RunRecord, SpecRecord, get_spec, list_runs, list_specs
    from scenarios.validation import validate_spec

#: Where the names of this API that need the computation (numpy, scipy, geopandas, the
#: database models) live. They are imported on first use (PEP 562), so that ``import
#: scenarios`` stays light and ``ruimte --help`` starts at once.
_LAZY = {
    "RUN_STEPS": "scenarios.runner",
    "RunContext": "scenarios.runner",
    "compute_indicators": "scenarios.runner",
    "resolve_spec": "scenarios.runner",
    "run_scenario": "scenarios.runner",
    "RunResult": "scenarios.result",
    "ScenarioSpec": "scenarios.spec",
    "RunRecord": "scenarios.store",
    "SpecRecord": "scenarios.store",
    "get_spec": "scenarios.store",
    "list_runs": "scenarios.store",
    "list_specs": "scenarios.store",
    "validate_spec": "scenarios.validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


#: Rasters every run stores (GeoTIFF, EPSG:28992).
RASTERS = ("allocation", "constraints", "suitability")

__all__ = [
    "RASTERS",
    "RUN_STEPS",
    "RasterNotFound",
    "RunContext",
    "RunResult",
    "RunNotFound",
    "RunRecord",
    "ScenarioError",
    "ScenarioSpec",
    "SpecError",
    "SpecNotFound",
    "SpecRecord",
    "compare_runs",
    "compute_indicators",
    "get_run",
    "get_run_raster",
    "get_spec",
    "list_presets",
    "list_runs",
    "list_specs",
    "resolve_spec",
    "load_preset",
    "run_scenario",
    "run_table_csv",
    "save_spec",
    "validate_spec",
]


def list_presets() -> list[dict[str, Any]]:
    """The shipped presets: name, title and description."""
    out = []
    for name in _preset_names():
        data = _preset_data(name) or {}
        out.append(
            {
                "name": name,
                "title": data.get("title", ""),
                "description": data.get("description", ""),
            }
        )
    return out


def load_preset(name: str) -> ScenarioSpec:
    """A shipped preset as a validated spec; :class:`SpecError` names the known ones."""
    data = _preset_data(name)
    if data is None:
        raise SpecError(
            [
                {
                    "loc": ["preset"],
                    "msg": f"unknown preset {name!r}{_did_you_mean(name, _preset_names())}; "
                    f"known presets: {', '.join(_preset_names())}",
                }
            ]
        )
    from scenarios.validation import validate_spec

    return validate_spec(data)


def save_spec(
    conn: Connection,
    data: Any,
    created_by: str | None = None,
    table: MilieucategorieTable | None = None,
) -> SpecRecord:
    """Validate (against the database and ``table``, default the shipped milieucategorie table)
    and store a spec; a new version if the name exists."""
    from scenarios import store as _store
    from scenarios.validation import validate_spec

    return _store.save_spec(conn, validate_spec(data, conn, categories=table), created_by)


def get_run(conn: Connection, run_id: int) -> RunRecord:
    """A run with its JSON result (:class:`RunNotFound` if there is none)."""
    from scenarios import store as _store

    return _store.get_run(conn, run_id)


def _result(conn: Connection, run_id: int) -> RunResult:
    from scenarios import store as _store

    run = _store.get_run(conn, run_id)
    if run.result is None:
        raise ScenarioError(f"run {run_id} has no result (status {run.status})")
    return run.result


def run_table_csv(conn: Connection, run_id: int) -> str:
    """The result table of a run (gemeenten, regions, totals) as CSV text."""
    from scenarios.tables import result_csv as _result_csv

    return _result_csv(_result(conn, run_id))


def compare_runs(conn: Connection, a: int, b: int) -> dict[str, Any]:
    """Differences B − A per gemeente and for the totals."""
    from scenarios.tables import compare_results as _compare_results

    return _compare_results(_result(conn, a), _result(conn, b), a, b)


def get_run_raster(conn: Connection, run_id: int, name: str) -> bytes:
    """A GeoTIFF of a run (``suitability``, ``allocation`` or ``constraints``)."""
    from scenarios import store as _store

    return _store.get_raster(conn, run_id, name)
