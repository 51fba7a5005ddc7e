"""Bandwidths: a scenario whose numbers are distributions, run as an ensemble of variants.

The strategy calls its numbers estimates (+40% "is een schatting", industry +10% to 15%).
A spec may therefore give any number as a distribution::

    growth_pct: {min: 10, max: 15}            # uniform
    growth_pct: {min: 10, mode: 12, max: 15}  # triangular
    weight: [0.5, 1, 2]                       # one of these, each as likely

with ``ensemble: {samples: N, method: latin_hypercube, seed: S}``. Validation
(:func:`extract_distributions`) finds every distribution in a place where the spec's schema
wants a number, moves it to ``ensemble.distributions`` under its path and puts its central
value in its place (the middle of a range, the mode, the median of a list): the spec of the
*base run*, whose figures are the run's plain figures. :func:`run_ensemble` then draws N
variants (a Latin hypercube of ``scipy.stats.qmc``, seeded, mapped through each
distribution's inverse CDF), computes each as a plain run (on the Dask cluster when one is
configured, else one after another here), and summarises per gemeente and for the work area:
p10/p50/p90 of demand, supply, balance, uncovered and unmet; the probability of a shortage;
the rank correlation of each input with the balance; and how often each cell is allocated.
Every variant is a pure function of its values, so the same seed gives the same figures and
the same raster bytes on any scheduler.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from scenarios.errors import SpecError
from scenarios.spec import Choice, Distribution, Ensemble, Range, ScenarioSpec, Triangular

Loc = tuple[str | int, ...]
Problem = dict[str, Any]
PROBE = "__distribution_probe__"
NUMBER_ERRORS = {"float_parsing", "float_type"}
#: Numbers that may not vary between variants, and why.
FIXED = {
    ("allocation", "cell_size_m"): "every variant must share one grid (for the frequency raster)",
}
#: Parts of a spec computed for the base run only, so a distribution there would change nothing.
BASE_ONLY = {
    "phasing": "milestones are computed for the base run only",
    "coverage": "coverage is computed for the base run only",
}
FIGURES = ("demand_ha", "supply_ha", "balance_ha", "uncovered_ha", "unmet_ha")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_of(loc: Loc) -> str:
    """``("demand", "categories", 0, "growth_pct")`` as ``demand.categories[0].growth_pct``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def loc_of(path: str) -> Loc:
    """The inverse of :func:`path_of`."""
    return tuple(int(i) if i else name for name, i in _PART.findall(path))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_distribution(value: Any) -> Any:
    """The mapping a distribution is validated from, or None if ``value`` looks like none."""
    if isinstance(value, Mapping) and {"min", "max"} <= set(value) <= {"min", "mode", "max"}:
        return dict(value)
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        return {"values": list(value)}
    return None


def _candidates(value: Any, loc: Loc = ()) -> Iterator[tuple[Loc, Any]]:
    """Every place holding something shaped like a distribution (outside ``ensemble``)."""
    if loc == ("ensemble",):
        return
    if _as_distribution(value) is not None:
        yield loc, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _candidates(item, (*loc, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _candidates(item, (*loc, i))


def _get(raw: Any, loc: Loc) -> Any:
    for part in loc:
        raw = raw[part]
    return raw


def _set(raw: Any, loc: Loc, value: Any) -> None:
    _get(raw, loc[:-1])[loc[-1]] = value


def _has(raw: Any, loc: Loc) -> bool:
    try:
        _get(raw, loc)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _wants_number(raw: dict[str, Any], loc: Loc) -> bool:
    """Whether the spec's schema wants a number at ``loc`` (asked of the schema itself: a
    text there gives a number-parsing error at exactly that place)."""
    probe = copy.deepcopy(raw)
    _set(probe, loc, PROBE)
    try:
        ScenarioSpec.model_validate(probe)
    except ValidationError as exc:
        return any(
            tuple(e["loc"]) == loc and e["type"] in NUMBER_ERRORS
            for e in exc.errors(include_url=False)
        )
    return False


def extract_distributions(raw: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """The spec with its distributions moved to ``ensemble.distributions`` (see the module).

    Problems (appended, with the path): a distribution that is not valid, one where a
    number may not vary, a distribution without ``ensemble``, a path in
    ``ensemble.distributions`` that names no number of the spec, and an end of a
    distribution outside the range of its field.
    """
    out = copy.deepcopy(raw)
    found: dict[str, Any] = {}
    for loc, value in list(_candidates(raw)):
        if not _wants_number(raw, loc):
            continue
        found[path_of(loc)] = _as_distribution(value)
    ensemble = out.get("ensemble")
    if not isinstance(ensemble, Mapping):
        if found and ensemble is None:
            first = next(iter(found))
            problems.append(
                {
                    "loc": list(loc_of(first)),
                    "msg": "a distribution needs an ensemble in the spec "
                    "(ensemble: {samples: N, seed: S}) to say how many variants to run",
                }
            )
        return out
    ensemble = dict(ensemble)
    given = dict(ensemble.get("distributions") or {})
    for path in set(found) & set(given):
        problems.append(
            {
                "loc": ["ensemble", "distributions", path],
                "msg": f"{path} is given as a distribution both in place and here",
            }
        )
    dists: dict[str, Distribution] = {}
    for path, value in {**given, **found}.items():
        loc = loc_of(path)
        where = list(loc) if path in found else ["ensemble", "distributions", path]
        if path not in found and not (_has(out, loc) and _wants_number(out, loc)):
            problems.append({"loc": where, "msg": f"{path} names no number of the spec"})
            continue
        if loc in FIXED:
            problems.append({"loc": where, "msg": f"{path} may not vary: {FIXED[loc]}"})
            continue
        if loc[0] in BASE_ONLY:
            problems.append({"loc": where, "msg": f"{path} may not vary: {BASE_ONLY[loc[0]]}"})
            continue
        try:
            dists[path] = distribution(value)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                msg = err["msg"].removeprefix("Value error, ")
                problems.append({"loc": where, "msg": f"distribution {msg}"})
            continue
        _set(out, loc, dists[path].central())
    for path, dist in dists.items():
        _check_ends(out, path, dist, problems)
    ensemble["distributions"] = {p: d.model_dump() for p, d in dists.items()}
    out["ensemble"] = ensemble
    return out


def distribution(value: Any) -> Distribution:
    """The distribution a mapping describes, chosen by its keys (so that errors are those of
    the kind meant: ``values`` a list, ``mode`` triangular, else a range)."""
    if isinstance(value, Mapping) and "values" in value:
        return Choice.model_validate(value)
    if isinstance(value, Mapping) and "mode" in value:
        return Triangular.model_validate(value)
    return Range.model_validate(value)


def _check_ends(raw: dict[str, Any], path: str, dist: Distribution, problems: list) -> None:
    """Both ends of ``dist`` must be valid values of its field (its range applies)."""
    loc = loc_of(path)
    for end in dict.fromkeys(dist.ends()):
        probe = copy.deepcopy(raw)
        _set(probe, loc, end)
        try:
            ScenarioSpec.model_validate(probe)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                if tuple(err["loc"]) == loc:
                    problems.append(
                        {"loc": list(loc), "msg": f"distribution value {end:g}: {err['msg']}"}
                    )


LABELS_FILE = Path(__file__).with_name("ensemble_labels.yaml")


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    import yaml

    return yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))


def input_label(raw: Mapping[str, Any], path: str) -> str:
    """A Dutch label of the number at ``path`` (``groei bedrijventerreinen (%)``)."""
    loc = loc_of(path)
    templates = _labels()
    field, key = loc[-1], ""
    if len(loc) >= 2 and loc[-2] == "overrides":
        field, key, loc = "overrides", str(loc[-1]), loc[:-1]
    template = templates.get(str(field))
    if template is None:
        return path
    owner = ""
    for i in range(len(loc) - 1, 0, -1):
        holder = _get(raw, loc[:i]) if _has(raw, loc[:i]) else None
        if isinstance(holder, Mapping) and "name" in holder:
            owner = str(holder["name"])
            break
    return " ".join(template.format(owner=owner, key=key).split())


# --- drawing the variants -------------------------------------------------------------


def draws(ensemble: Ensemble) -> np.ndarray:
    """Uniform draws in [0, 1), one row a variant and one column a distribution (seeded)."""
    n, d = ensemble.samples, len(ensemble.distributions)
    if d == 0:
        return np.zeros((n, 0))
    if ensemble.method == "latin_hypercube":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=ensemble.seed).random(n)
    return np.random.default_rng(ensemble.seed).random((n, d))


def inverse_cdf(dist: Distribution, u: np.ndarray) -> np.ndarray:
    """The values of ``dist`` at the quantiles ``u``."""
    if isinstance(dist, Choice):
        values = np.asarray(dist.values, dtype=float)
        return values[np.minimum((u * len(values)).astype(int), len(values) - 1)]
    if dist.max == dist.min:
        return np.full(len(u), dist.min)
    if isinstance(dist, Triangular):
        from scipy.stats import triang

        c = (dist.mode - dist.min) / (dist.max - dist.min)
        return triang.ppf(u, c, loc=dist.min, scale=dist.max - dist.min)
    assert isinstance(dist, Range)
    return dist.min + u * (dist.max - dist.min)


def sample_values(ensemble: Ensemble) -> np.ndarray:
    """The input values of every variant: (samples, distributions), in the spec's order."""
    u = draws(ensemble)
    columns = [inverse_cdf(d, u[:, j]) for j, d in enumerate(ensemble.distributions.values())]
    return np.column_stack(columns) if columns else np.zeros((ensemble.samples, 0))


def variant_spec(spec: ScenarioSpec, values: np.ndarray) -> ScenarioSpec:
    """The spec of one variant: each distribution's number set to its value, no ensemble."""
    raw = spec.as_dict()
    assert spec.ensemble is not None
    for path, value in zip(spec.ensemble.distributions, values, strict=True):
        _set(raw, loc_of(path), float(value))
    raw["ensemble"] = None
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(
            [
                {
                    "loc": ["ensemble", *err["loc"]],
                    "msg": f"a variant ({', '.join(f'{v:g}' for v in values)}): {err['msg']}",
                }
                for err in exc.errors(include_url=False)
            ]
        ) from None


# --- summarising ----------------------------------------------------------------------


def percentile_band(values: np.ndarray) -> dict[str, float]:
    """p10, p50 and p90 (numpy's default, linear interpolation between order statistics)."""
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}


def rank_correlations(inputs: np.ndarray, outcome: np.ndarray) -> list[float | None]:
    """Spearman's rank correlation of each input column with ``outcome`` (None: constant)."""
    from scipy.stats import spearmanr

    out: list[float | None] = []
    for j in range(inputs.shape[1]):
        x = inputs[:, j]
        if len(x) < 3 or np.all(x == x[0]) or np.all(outcome == outcome[0]):
            out.append(None)
            continue
        rho = float(spearmanr(x, outcome).statistic)
        out.append(None if not np.isfinite(rho) else round(rho, 4))
    return out


def summarise(
    paths: list[str],
    values: np.ndarray,
    figures: np.ndarray,
    *,
    shortage_tol: float = 1e-9,
) -> dict[str, Any]:
    """Bands, shortage probability and rank correlations of one row (gemeente or total).

    ``figures`` is (samples, len(FIGURES)). A variant runs short when its uncovered demand
    (demand the supply cannot meet, HMC supply kept for HMC demand) is above zero.
    """
    bands = {name: percentile_band(figures[:, k]) for k, name in enumerate(FIGURES)}
    balance = figures[:, FIGURES.index("balance_ha")]
    uncovered = figures[:, FIGURES.index("uncovered_ha")]
    rhos = rank_correlations(values, balance)
    ranked = [(abs(r), p, r) for p, r in zip(paths, rhos, strict=True) if r is not None]
    top = max(ranked, default=None)
    return {
        **bands,
        "p_shortage": float(np.mean(uncovered > shortage_tol)),
        "rank_correlation": dict(zip(paths, rhos, strict=True)),
        "most_important": None if top is None else {"input": top[1], "rho": top[2]},
    }


def _row_figures(row: Any) -> list[float]:
    return [float(row.figure(name) or 0.0) for name in FIGURES]


def variant_summary(comp: Any) -> dict[str, Any]:
    """What the ensemble keeps of one variant: figures per gemeente and in total, and the
    allocated cells (small; the variant's rasters are not kept)."""
    result = comp.result
    allocation = comp.allocation
    return {
        "gemeenten": np.array([_row_figures(r) for r in result.per_gemeente]),
        "totals": np.array(_row_figures(result.totals)),
        "cells": allocation.cells.astype(np.int64),
        "gemeente": allocation.gemeente.astype(np.int32),
    }


#: The parts of a spec a variant may vary and still share the base run's suitability surface
#: (nothing under them feeds :func:`scenarios.suitability.build_surface`).
SHARED_PARTS = frozenset({"demand", "supply", "indicators"})
#: (inputs, surface key, engine) of the last ensemble in this process (a Dask worker keeps
#: its own): the inputs are held so that a key can only match the same objects.
_SHARED: list[tuple[Any, Any, str, Any]] = []


def shares_surface(ens: Ensemble) -> bool:
    """Whether every distribution is in a part that leaves the suitability surface alone."""
    return all(loc_of(p)[0] in SHARED_PARTS for p in ens.distributions)


def _surface_key(spec: ScenarioSpec) -> str:
    """The spec without the parts variants may vary: equal keys, equal surfaces."""
    import json

    data = spec.model_dump(mode="json", exclude=set(SHARED_PARTS) | {"ensemble", "name"})
    return json.dumps(data, sort_keys=True)


def _shared_engine(spec: ScenarioSpec, inputs: Any, table: Any) -> Any:
    from scenarios.engine import SharedSurface

    key = _surface_key(spec)
    for held_inputs, held_table, held_key, engine in _SHARED:
        if held_inputs is inputs and held_table is table and held_key == key:
            return engine
    engine = SharedSurface()
    _SHARED[:] = [(inputs, table, key, engine)]
    return engine


def run_variant(
    spec: ScenarioSpec,
    inputs: Any,
    table: Any,
    province: tuple[str, str],
    defaults: Any,
    share_surface: bool = False,
) -> dict[str, Any]:
    """Compute one variant in memory and keep its summary (a task on a Dask worker).

    ``share_surface``: reuse the suitability surface of the previous variant of the same
    ensemble in this process (only when :func:`shares_surface`; the figures and cells are
    those of a fresh in-memory run).
    """
    from scenarios.compute import compute
    from scenarios.engine import InMemory

    # a variant's summary has no milestones and no coverage: they are the base run's only
    spec = spec.model_copy(update={"phasing": None, "coverage": None})
    engine = _shared_engine(spec, inputs, table) if share_surface else InMemory()
    comp = compute(spec, inputs, table, province=province, defaults=defaults, engine=engine)
    return variant_summary(comp)


def release_shared() -> None:
    """Forget the shared surface of this process (the end of an ensemble)."""
    _SHARED.clear()


def run_ensemble(
    spec: ScenarioSpec,
    inputs: Any,
    table: Any,
    base: Any,
    *,
    province: tuple[str, str],
    defaults: Any,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    share_surface: bool = True,
) -> tuple[dict[str, Any], dict[str, tuple[bytes, str]], dict[str, Any]]:
    """Run the variants of ``spec`` and summarise them.

    Parameters
    ----------
    base
        The :class:`~scenarios.compute.Computation` of the base run (its grid and allocation
        raster give the frequency raster its grid and nodata).
    scheduler
        A Dask ``distributed`` scheduler: the variants run there, one task each (the inputs
        sent once); None: one after another in this process.
    progress
        Called with (variants done, variants in all).
    share_surface
        Compute the suitability surface once (per process) when no distribution is in a
        part that feeds it (:func:`shares_surface`); False: every variant computes its own.

    Returns
    -------
    (dict, dict, dict)
        The ``ensemble`` part of the result (:class:`scenarios.result.EnsembleResult` as a
        mapping), the frequency raster ``{"frequentie": (GeoTIFF bytes, description)}`` and
        the derived layer ``{"frequentie": DerivedLayer}`` (cells per gemeente and class:
        robuust, vaak, soms).
    """
    assert spec.ensemble is not None
    ens = spec.ensemble
    values = sample_values(ens)
    specs = [variant_spec(spec, row) for row in values]
    n = len(specs)
    share = share_surface and shares_surface(ens)
    summaries: list[dict[str, Any]] = []
    if scheduler:
        from scenarios.chunked import cluster_client

        client = cluster_client(scheduler)
        # scattered once: each worker holds one copy, the same objects for all its tasks
        shared, shared_table = client.scatter([inputs, table], broadcast=True)
        futures = client.map(
            run_variant,
            specs,
            inputs=shared,
            table=shared_table,
            province=province,
            defaults=defaults,
            share_surface=share,
            pure=False,
        )
        try:
            for i, future in enumerate(futures):  # in order: the same figures on any cluster
                summaries.append(future.result())
                if progress:
                    progress(i + 1, n)
        finally:
            if share:
                client.run(release_shared)
    else:
        try:
            for i, variant in enumerate(specs):
                summaries.append(run_variant(variant, inputs, table, province, defaults, share))
                if progress:
                    progress(i + 1, n)
        finally:
            release_shared()
    paths = list(ens.distributions)
    grid = base.result.allocation.grid
    counts = np.zeros(grid.rows * grid.cols, dtype=np.uint32)
    gemeente_of: dict[int, int] = {}
    for s in summaries:
        counts[s["cells"]] += 1
        gemeente_of.update(zip(s["cells"].tolist(), s["gemeente"].tolist(), strict=True))
    rows = base.result.per_gemeente
    per_gemeente = []
    robust_cells = np.flatnonzero(counts >= ens.robust_share * n - 1e-9)
    robust_gem = np.array([gemeente_of[int(c)] for c in robust_cells], dtype=np.int64)
    robust_n = np.bincount(robust_gem, minlength=len(rows)) if len(robust_gem) else None
    for g, row in enumerate(rows):
        figures = np.array([s["gemeenten"][g] for s in summaries])
        per_gemeente.append(
            {
                "statcode": row.statcode,
                "naam": row.naam,
                **summarise(paths, values, figures),
                "robust_ha": round(
                    float(robust_n[g] if robust_n is not None else 0) * grid.cell_ha, 4
                ),
            }
        )
    totals = summarise(paths, values, np.array([s["totals"] for s in summaries]))
    totals["robust_ha"] = round(len(robust_cells) * grid.cell_ha, 4)
    part = {
        "samples": n,
        "method": ens.method,
        "seed": ens.seed,
        "robust_share": ens.robust_share,
        "inputs": [
            {
                "input": p,
                "label": input_label(spec.as_dict(), p),
                "distribution": d.model_dump(),
                "kind": _kind(d),
                "values": [float(v) for v in values[:, j]],
            }
            for j, (p, d) in enumerate(ens.distributions.items())
        ],
        "per_gemeente": per_gemeente,
        "totals": totals,
        "robust_cells": int(len(robust_cells)),
        "shortage_rule": "a variant runs short where uncovered_ha > 0",
        "percentiles": "numpy.percentile, linear interpolation",
    }
    rasters = {"frequentie": (_frequency_tiff(base, counts, n), FREQUENCY_DESCRIPTION)}
    return part, rasters, {"frequentie": _frequency_layer(spec, base, counts, n, gemeente_of)}


#: Classes of the frequency layer: (klasse, lowest share) from the top; ``robuust`` starts at
#: the spec's ``robust_share``.
FREQUENCY_CLASSES = (("robuust", None), ("vaak", 0.5), ("soms", 0.0))


def frequency_class(share: np.ndarray, robust_share: float) -> np.ndarray:
    """1 robuust (≥ ``robust_share``), 2 vaak (≥ 0.5), 3 soms (> 0) per share."""
    out = np.full(share.shape, 3, dtype=np.uint8)
    out[share >= min(0.5, robust_share)] = 2
    out[share >= robust_share - 1e-9] = 1
    return out


def _frequency_layer(
    spec: ScenarioSpec, base: Any, counts: np.ndarray, n: int, gemeente_of: dict[int, int]
) -> Any:
    """The cells allocated in any variant as polygons per gemeente and frequency class."""
    import pandas as pd

    from scenarios import allocation as alloc
    from scenarios.compute import DerivedLayer
    from spatial.grid import Grid

    assert spec.ensemble is not None
    g = base.result.allocation.grid
    grid = Grid(
        minx=g.origin[0], maxy=g.origin[1], cell_size=g.cell_size_m, rows=g.rows, cols=g.cols
    )
    cells = np.flatnonzero(counts)
    share = counts[cells] / n
    classes = frequency_class(share, spec.ensemble.robust_share)
    cells_alloc = alloc.Allocation(
        cells=cells.astype(np.int64),
        classes=classes,
        gemeente=np.array([gemeente_of[int(c)] for c in cells], dtype=np.int32),
        suit=share.astype(np.float32),
        hmc_cells=np.zeros(0, dtype=np.int64),
        other_cells=np.zeros(0, dtype=np.int64),
    )
    polygons = alloc.allocation_polygons(cells_alloc, grid)
    statcodes = [r.statcode for r in base.result.per_gemeente]
    names = [name for name, _ in FREQUENCY_CLASSES]
    frame = pd.DataFrame(
        {
            "scenario": spec.name,
            "gemeente": [statcodes[gem] for gem, *_ in polygons],
            "klasse": [names[c - 1] for _, c, *_ in polygons],
            "cellen": [cells for *_, cells, _ in polygons],
            "ha": [cells * grid.cell_ha for *_, cells, _ in polygons],
            "aandeel": [round(s, 4) for *_, s in polygons],
        }
    )
    return DerivedLayer(
        "frequentie",
        frame,
        np.array([geom for _, _, geom, *_ in polygons], dtype=object),
        f"Robuuste locaties: aandeel van {n} varianten ({spec.name})",
    )


FREQUENCY_DESCRIPTION = (
    "Aandeel varianten waarin de cel nieuwe ruimte krijgt (0-1); 1 = in elke variant"
)


def _kind(dist: Distribution) -> str:
    if isinstance(dist, Choice):
        return "keuze"
    return "driehoek" if isinstance(dist, Triangular) else "bereik"


def _frequency_tiff(base: Any, counts: np.ndarray, n: int) -> bytes:
    """The share of variants allocating each cell, on the base run's grid (nodata outside
    the gemeenten, like the allocation raster)."""
    from rasterio.enums import Resampling
    from rasterio.io import MemoryFile

    from spatial.grid import Grid
    from spatial.raster import GeoTiffWriter

    g = base.result.allocation.grid
    grid = Grid(
        minx=g.origin[0], maxy=g.origin[1], cell_size=g.cell_size_m, rows=g.rows, cols=g.cols
    )
    with MemoryFile(base.rasters["allocation"][0]) as mem, mem.open() as src:
        outside = src.read(1) == src.nodata
    share = (counts.reshape(g.rows, g.cols) / n).astype(np.float32)
    share[outside] = -1.0
    writer = GeoTiffWriter(
        grid,
        dtype=np.dtype(np.float32),
        nodata=-1.0,
        description="aandeel varianten (0-1)",
        resampling=Resampling.average,
        tags={"values": "aandeel varianten 0-1 waarin de cel is toegewezen; nodata buiten"},
    )
    writer.write(share)
    return writer.close()
