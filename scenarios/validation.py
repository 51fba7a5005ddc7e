"""Validate a scenario spec completely: every problem at once, then raise one SpecError.

Three layers of checks, all run whatever the others find:

1. the models (:mod:`scenarios.spec`): types, ranges (cell size > 0, weights ≥ 0), unknown keys;
2. checks across fields on the raw mapping: horizon after base year, milieucategorieën in
   the VNG table, known criterion types, unique names, regions and the names used in
   overrides and claims, attribute values against the kinds;
3. with a database connection: every layer exists (at the pinned version) and has the
   kind its role needs, ``where`` fields exist, statcodes are gemeenten of the gemeenten layer.

A spec may build on a preset with ``base: NAME``: the preset is read, the spec's own keys
replace the preset's (mappings merge key by key, lists are replaced whole).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, select

from layers.errors import LayerNotFound, did_you_mean
from layers.kinds import load_kinds
from layers.milieucategorie import MilieucategorieTable, load_table
from layers.models import Feature, Layer
from layers.store import get_layer, version_filter
from scenarios.criteria import CRITERIA
from scenarios.ensemble import extract_distributions
from scenarios.errors import SpecError
from scenarios.indicators import location_statuses
from scenarios.presets import preset_data, preset_names
from scenarios.spec import ScenarioSpec

Problem = dict[str, Any]
STATCODE_RE = re.compile(r"^GM\d{4}$")
#: The kind each fixed layer role must have.
ROLE_KINDS = {
    "gemeenten": "gemeenten",
    "bedrijventerreinen": "bedrijventerreinen",
    "reserveringen": "reserveringen",
    "strategische_locaties": "strategische_locaties",
    "vestigingen": "vestigingen",
    "landgebruik": "landgebruik",
}
#: Selection fields of a demand category and the bedrijventerreinen field they test.
SELECTION_FIELDS = ("type_werklocatie", "terreintype", "planstatus")


def validate_spec(
    data: Mapping[str, Any] | ScenarioSpec,
    conn: Connection | None = None,
    *,
    categories: MilieucategorieTable | None = None,
) -> ScenarioSpec:
    """Check a spec and return it as a :class:`ScenarioSpec`; raise listing every problem.

    Parameters
    ----------
    data
        The spec as a mapping (parsed YAML/JSON) or a model; ``base: NAME`` builds on a preset.
    conn
        With a connection, the layers, versions, kinds and statcodes are checked too.
    categories
        The milieucategorie table (default: VNG 2009, shipped).

    Returns
    -------
    ScenarioSpec
        The validated spec (with the preset merged in).

    Raises
    ------
    SpecError
        With ``problems``: every problem as ``{"loc": [...], "msg": "..."}``.

    Examples
    --------
    >>> validate_spec({"name": "x", "base_year": 2030, "horizon_year": 2025,
    ...                "demand": {"categories": []}})
    Traceback (most recent call last):
    ...
    scenarios.errors.SpecError: invalid scenario spec: 2 problem(s); nothing was stored
      - demand.categories: List should have at least 1 item after validation, not 0
      - horizon_year: the horizon year (2025) must be after the base year (2030)
    """
    raw = data.as_dict() if isinstance(data, ScenarioSpec) else data
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        raise SpecError(
            [{"loc": [], "msg": "a scenario spec must be a mapping (YAML or JSON object)"}]
        )
    raw = extract_distributions(resolve_base(raw, problems), problems)
    spec: ScenarioSpec | None = None
    named = {tuple(p["loc"]) for p in problems}  # a distribution's problem says it already
    try:
        spec = ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            if tuple(err["loc"]) not in named:
                problems.append({"loc": list(err["loc"]), "msg": _message(err)})
    problems.extend(cross_checks(raw, categories or load_table()))
    if conn is not None:
        problems.extend(database_checks(raw, conn))
    if problems or spec is None:
        raise SpecError(_unique(problems))
    return spec


def resolve_base(raw: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Merge the preset named in ``base`` (if any) under the spec's own keys."""
    own = dict(raw)
    base = own.pop("base", None)
    if base is None:
        return own
    preset = preset_data(str(base)) if isinstance(base, str) else None
    if preset is None:
        problems.append(
            {
                "loc": ["base"],
                "msg": f"unknown preset {base!r}{did_you_mean(base, preset_names())}; "
                f"known presets: {', '.join(preset_names())}",
            }
        )
        return own
    return _merge(copy.deepcopy(preset), own)


def _merge(base: dict[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in own.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "extra_forbidden":
        return "unknown field (a typo?)"
    if "input" in err and err.get("type") not in {"missing", "model_type", "dict_type"}:
        value = err["input"]
        if isinstance(value, (int, float, str, bool)) or value is None:
            msg += f", not {value!r}"
    return msg


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (tuple(p["loc"]), p["msg"])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# -- raw access ---------------------------------------------------------------------


def _get(raw: Any, *path: str | int) -> Any:
    """``raw[path...]`` or None when any step is missing or of the wrong type."""
    cur = raw
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                return None
        elif not isinstance(cur, Mapping) or step not in cur:
            return None
        cur = cur[step]
    return cur


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _ref(value: Any) -> dict[str, Any] | None:
    """A layer reference in any of its written forms, as a mapping (None if unreadable)."""
    if isinstance(value, str):
        m = re.match(r"^(?P<name>[^@]+)@(?P<version>\d+)$", value)
        return {"layer": m["name"], "version": int(m["version"])} if m else {"layer": value}
    if isinstance(value, Mapping) and isinstance(value.get("layer"), str):
        return dict(value)
    return None


def layer_refs(
    raw: Mapping[str, Any],
) -> Iterator[tuple[list[str | int], str | None, dict[str, Any]]]:
    """Every layer reference in a raw spec: (location, role or None, reference)."""
    layers = _get(raw, "layers")
    for role in ROLE_KINDS:
        ref = _ref(_get(layers, role)) if isinstance(layers, Mapping) and role in layers else None
        if isinstance(layers, Mapping) and role in layers:
            if ref is not None:
                yield ["layers", role], role, ref
        elif role in ("gemeenten", "bedrijventerreinen"):
            yield ["layers", role], role, {"layer": role}
    for i, rule in enumerate(_list(_get(raw, "constraints", "exclude"))):
        if (ref := _ref(rule)) is not None:
            yield ["constraints", "exclude", i], None, ref
    for i, rule in enumerate(_list(_get(raw, "constraints", "hmc_richtafstand", "layers"))):
        if (ref := _ref(rule)) is not None:
            yield ["constraints", "hmc_richtafstand", "layers", i], None, ref
    for i, crit in enumerate(_list(_get(raw, "allocation", "criteria"))):
        for j, lyr in enumerate(_list(_get(crit, "layers"))):
            if (ref := _ref(lyr)) is not None:
                yield ["allocation", "criteria", i, "layers", j], None, ref
    for i, rule in enumerate(_list(_get(raw, "milieuzonering", "conflict_layers"))):
        if (ref := _ref(rule)) is not None:
            yield ["milieuzonering", "conflict_layers", i], None, ref
    coverage = _get(raw, "coverage")
    if isinstance(coverage, Mapping):
        layer = coverage.get("layer", "strategische_locaties")
        if (ref := _ref(layer)) is not None:
            yield ["coverage", "layer"], None, ref
        if (ref := _ref(coverage.get("population"))) is not None:
            yield ["coverage", "population"], None, ref


# -- checks across fields -------------------------------------------------------------


def cross_checks(raw: Mapping[str, Any], table: MilieucategorieTable) -> list[Problem]:
    """Checks that need more than one field (run on the raw mapping, whatever else fails)."""
    problems: list[Problem] = []
    base, horizon = _get(raw, "base_year"), _get(raw, "horizon_year")
    if isinstance(base, int) and isinstance(horizon, int) and horizon <= base:
        problems.append(
            {
                "loc": ["horizon_year"],
                "msg": f"the horizon year ({horizon}) must be after the base year ({base})",
            }
        )
    for loc, value in (
        (["hmc_threshold"], _get(raw, "hmc_threshold")),
        (
            ["constraints", "hmc_richtafstand", "category"],
            _get(raw, "constraints", "hmc_richtafstand", "category"),
        ),
    ):
        if value is not None and table.normalise(value) is None:
            problems.append(
                {
                    "loc": loc,
                    "msg": f"{value!r} is not a milieucategorie; allowed: {', '.join(table.codes)}",
                }
            )
    statuses = _get(raw, "indicators", "strategische_locaties", "available_statuses")
    if isinstance(statuses, list):
        known = location_statuses()
        for i, value in enumerate(statuses):
            if value not in known:
                problems.append(
                    {
                        "loc": ["indicators", "strategische_locaties", "available_statuses", i],
                        "msg": f"{value!r} is not a status of strategische locaties"
                        f"{did_you_mean(str(value), known)}; known: {', '.join(known)}",
                    }
                )
    problems.extend(coverage_checks(raw))
    problems.extend(phasing_checks(raw))
    problems.extend(_check_names(raw))
    problems.extend(_check_regions(raw))
    problems.extend(_check_selections(raw))
    problems.extend(_check_unknown_values(raw))
    return problems


def _check_unknown_values(raw: Mapping[str, Any]) -> list[Problem]:
    """``unknown_values`` names layers the spec reads (values are checked against the kinds)."""
    entries = _get(raw, "unknown_values")
    if not isinstance(entries, Mapping):
        return []
    used = {ref.get("layer") for _, _, ref in layer_refs(raw)}
    return [
        {
            "loc": ["unknown_values", name],
            "msg": f"layer {name!r} is not read by this spec; it reads: "
            f"{', '.join(sorted(str(u) for u in used))}",
        }
        for name in entries
        if name not in used
    ]


def _check_names(raw: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for path, what in (
        (("demand", "categories"), "demand category"),
        (("allocation", "criteria"), "criterion"),
    ):
        seen: set[str] = set()
        for i, item in enumerate(_list(_get(raw, *path))):
            name = _get(item, "name")
            if isinstance(name, str):
                if name in seen:
                    problems.append(
                        {"loc": [*path, i, "name"], "msg": f"{what} name {name!r} is used twice"}
                    )
                seen.add(name)
    for i, crit in enumerate(_list(_get(raw, "allocation", "criteria"))):
        typ = _get(crit, "type")
        if isinstance(typ, str) and typ not in CRITERIA:
            problems.append(
                {
                    "loc": ["allocation", "criteria", i, "type"],
                    "msg": f"unknown criterion type {typ!r}; known: {', '.join(CRITERIA)}",
                }
            )
    criteria = _list(_get(raw, "allocation", "criteria"))
    weights = [_get(c, "weight") for c in criteria]
    if criteria and all(isinstance(w, (int, float)) and w == 0 for w in weights):
        problems.append(
            {
                "loc": ["allocation", "criteria"],
                "msg": "at least one criterion needs a weight above 0",
            }
        )
    return problems


def _check_regions(raw: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    regions = _get(raw, "regions")
    regions = regions if isinstance(regions, Mapping) else {}
    owner: dict[str, str] = {}
    for name, codes in regions.items():
        for i, code in enumerate(_list(codes)):
            if not isinstance(code, str) or not STATCODE_RE.match(code):
                problems.append(
                    {
                        "loc": ["regions", name, i],
                        "msg": f"{code!r} is not a CBS gemeente code (GM0344)",
                    }
                )
            elif code in owner:
                problems.append(
                    {
                        "loc": ["regions", name, i],
                        "msg": f"{code} is already in region {owner[code]!r}",
                    }
                )
            else:
                owner[code] = name
    if _get(raw, "allocation", "unit") == "region" and not regions:
        problems.append(
            {"loc": ["allocation", "unit"], "msg": "allocation per region needs `regions`"}
        )
    for i, cat in enumerate(_list(_get(raw, "demand", "categories"))):
        overrides = _get(cat, "overrides")
        for key in overrides if isinstance(overrides, Mapping) else {}:
            if not (STATCODE_RE.match(str(key)) or key in regions):
                problems.append(
                    {
                        "loc": ["demand", "categories", i, "overrides", key],
                        "msg": f"{key!r} is neither a gemeente code (GM0344) "
                        "nor a region of `regions`",
                    }
                )
    for i, claim in enumerate(_list(_get(raw, "demand", "claims"))):
        region, gemeente = _get(claim, "region"), _get(claim, "gemeente")
        if isinstance(region, str) and region not in regions:
            problems.append(
                {
                    "loc": ["demand", "claims", i, "region"],
                    "msg": f"unknown region {region!r}; define it in `regions`",
                }
            )
        if isinstance(gemeente, str) and not STATCODE_RE.match(gemeente):
            problems.append(
                {
                    "loc": ["demand", "claims", i, "gemeente"],
                    "msg": f"{gemeente!r} is not a CBS gemeente code (GM0344)",
                }
            )
    return problems


def _check_selections(raw: Mapping[str, Any]) -> list[Problem]:
    """Selection values of demand categories and supply lists against the kinds' vocabularies."""
    kinds = load_kinds()
    problems: list[Problem] = []
    terrein = kinds["bedrijventerreinen"]
    for i, cat in enumerate(_list(_get(raw, "demand", "categories"))):
        for field in SELECTION_FIELDS:
            problems.extend(
                _vocabulary(
                    _get(cat, "select", field),
                    terrein.fields[field].values,
                    ["demand", "categories", i, "select", field],
                )
            )
    sl = kinds["strategische_locaties"]
    for key, field in (("statuses", "status"), ("hmc_types", "type")):
        problems.extend(
            _vocabulary(
                _get(raw, "supply", "strategische_locaties", key),
                sl.fields[field].values,
                ["supply", "strategische_locaties", key],
            )
        )
    problems.extend(
        _vocabulary(
            _get(raw, "supply", "reserveringen", "hmc_functies"),
            kinds["reserveringen"].fields["functie"].values,
            ["supply", "reserveringen", "hmc_functies"],
        )
    )
    return problems


def _vocabulary(values: Any, allowed: Mapping[str, str] | None, loc: list) -> list[Problem]:
    if not isinstance(values, list) or not allowed:
        return []
    return [
        {"loc": [*loc, j], "msg": f"{v!r} is not allowed; allowed: {', '.join(allowed)}"}
        for j, v in enumerate(values)
        if v not in allowed
    ]


def _year(value: Any) -> int | None:
    """A milestone year as written (an int, or its text as a JSON key), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def phasing_checks(raw: Mapping[str, Any]) -> list[Problem]:
    """Milestones after the base year and not after the horizon, demand-path keys equal to the
    milestones, lead times only for known planstatus values, and a lead time for every one."""
    from scenarios.phasing import default_lead_times, planstatus_values

    phasing = _get(raw, "phasing")
    if not isinstance(phasing, Mapping):
        return []
    problems: list[Problem] = []
    base, horizon = _get(raw, "base_year"), _get(raw, "horizon_year")
    milestones = phasing.get("milestones")
    years = [_year(m) for m in milestones] if isinstance(milestones, list) else []
    for i, year in enumerate(years):
        if year is None:
            continue
        if isinstance(base, int) and year <= base:
            problems.append(
                {
                    "loc": ["phasing", "milestones", i],
                    "msg": f"milestone {year} must be after the base year ({base})",
                }
            )
        if isinstance(horizon, int) and year > horizon:
            problems.append(
                {
                    "loc": ["phasing", "milestones", i],
                    "msg": f"milestone {year} must not be after the horizon year ({horizon})",
                }
            )
    path = phasing.get("demand_path")
    if isinstance(path, Mapping) and years and None not in years:
        keys = {_year(k) for k in path}
        missing = sorted(set(years) - keys)
        extra = sorted(str(k) for k in path if _year(k) not in set(years))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no share for milestone(s) {', '.join(map(str, missing))}")
            if extra:
                parts.append(f"{', '.join(extra)} not a milestone")
            problems.append(
                {
                    "loc": ["phasing", "demand_path"],
                    "msg": "the keys of demand_path must be the milestones "
                    f"({', '.join(map(str, years))}): {'; '.join(parts)}",
                }
            )
        if isinstance(horizon, int) and horizon in keys:
            share = next(v for k, v in path.items() if _year(k) == horizon)
            if isinstance(share, (int, float)) and share != 1:
                problems.append(
                    {
                        "loc": ["phasing", "demand_path", str(horizon)],
                        "msg": f"the share at the horizon year ({horizon}) must be 1, not {share}",
                    }
                )
    known = planstatus_values()
    leads = phasing.get("lead_time_years")
    given = leads if isinstance(leads, Mapping) else {}
    for name in given:
        if name not in known:
            problems.append(
                {
                    "loc": ["phasing", "lead_time_years", name],
                    "msg": f"{name!r} is not a planstatus{did_you_mean(str(name), known)}; "
                    f"known: {', '.join(known)}",
                }
            )
    defaults = default_lead_times()
    for name in known:
        if name not in given and name not in defaults:
            problems.append(
                {
                    "loc": ["phasing", "lead_time_years"],
                    "msg": f"planstatus {name!r} has no default lead time "
                    "(scenarios/phasing.yaml): give lead_time_years." + name,
                }
            )
    return problems


# -- checks against the database ------------------------------------------------------


def coverage_checks(raw: Mapping[str, Any]) -> list[Problem]:
    """Coverage types are values of the function field (where a kind gives it values) and
    each has a reach (its own, or the default of the type)."""
    from scenarios.coverage import default_reach_km

    coverage = _get(raw, "coverage")
    if not isinstance(coverage, Mapping) or not isinstance(coverage.get("types"), Mapping):
        return []
    field = coverage.get("function_field", "functie")
    # the circular functions (one vocabulary in every kind with a `functie` field); another
    # field's values are checked against the layer's kind with a database (_coverage_types)
    known = sorted(
        {
            value
            for kind in load_kinds().values()
            if field == "functie" and field in kind.fields and kind.fields[field].values
            for value in kind.fields[field].values
        }
    )
    problems: list[Problem] = []
    defaults = default_reach_km()
    for name, settings in coverage["types"].items():
        loc = ["coverage", "types", name]
        if known and name not in known:
            problems.append(_not_a_value(loc, name, field, known))
            continue
        reach = settings.get("reach_km") if isinstance(settings, Mapping) else None
        if reach is None and name not in defaults:
            problems.append(
                {"loc": [*loc, "reach_km"], "msg": f"{name!r} has no default reach: give reach_km"}
            )
    return problems


def _not_a_value(loc: list, name: Any, field: str, known: list[str]) -> Problem:
    return {
        "loc": loc,
        "msg": f"{name!r} is not a value of {field}{did_you_mean(str(name), known)}; "
        f"known: {', '.join(known)}",
    }


def _coverage_types(
    coverage: Mapping[str, Any], kind: Any, field: str, layer: str
) -> list[Problem]:
    """Coverage types of a field other than ``functie`` against the layer kind's values."""
    spec_field = kind.fields.get(field)
    if field == "functie" or spec_field is None or not spec_field.values:
        return []
    known = sorted(spec_field.values)
    types = coverage.get("types")
    return [
        _not_a_value(["coverage", "types", name], name, f"{layer}.{field}", known)
        for name in (types if isinstance(types, Mapping) else {})
        if name not in known
    ]


def database_checks(raw: Mapping[str, Any], conn: Connection) -> list[Problem]:
    """Layers exist at their versions with the right kind; where fields and statcodes are known."""
    problems: list[Problem] = []
    kinds = load_kinds()
    pinned: dict[str, tuple[int | None, list]] = {}
    for loc, role, ref in layer_refs(raw):
        name, version = ref.get("layer"), ref.get("version")
        if not isinstance(name, str):
            continue
        if name in pinned and version is not None and pinned[name][0] not in (None, version):
            problems.append(
                {
                    "loc": loc,
                    "msg": f"layer {name!r} is pinned at version {version} here and "
                    f"{pinned[name][0]} at {'.'.join(map(str, pinned[name][1]))}",
                }
            )
        pinned.setdefault(name, (version, loc))
        try:
            info = get_layer(conn, name, version if isinstance(version, int) else None)
        except LayerNotFound as exc:
            exists = conn.execute(select(Layer.id).where(Layer.name == name)).first() is not None
            if exists or ref.get("required", True) is not False:
                msg = str(exc) if exists else f"unknown layer {name!r}"
                problems.append({"loc": [*loc, "layer"] if role is None else loc, "msg": msg})
            continue
        if role is not None and info.kind != ROLE_KINDS[role]:
            problems.append(
                {
                    "loc": loc,
                    "msg": f"layer {name!r} is of kind {info.kind!r}; "
                    f"{role} needs kind {ROLE_KINDS[role]!r}",
                }
            )
        if loc and loc[0] == "coverage":
            coverage = _get(raw, "coverage")
            field = (
                coverage.get("function_field", "functie")
                if loc == ["coverage", "layer"]
                else ref.get("field")
            )
            fields = set(kinds[info.kind].fields) | set(info.extra_fields)
            if isinstance(field, str) and field not in fields:
                problems.append(
                    {
                        "loc": loc if loc[-1] == "population" else ["coverage", "function_field"],
                        "msg": f"layer {name!r} has no field {field!r}"
                        f"{did_you_mean(field, sorted(fields))}",
                    }
                )
            elif loc == ["coverage", "layer"] and isinstance(field, str):
                problems.extend(_coverage_types(coverage, kinds[info.kind], field, name))
        where = ref.get("where")
        if isinstance(where, Mapping):
            kind = kinds[info.kind]
            for field, values in where.items():
                if field not in kind.fields and field not in info.extra_fields:
                    problems.append(
                        {
                            "loc": [*loc, "where", field],
                            "msg": f"layer {name!r} (kind {info.kind}) has no field {field!r}",
                        }
                    )
                elif field in kind.fields:
                    problems.extend(
                        _vocabulary(values, kind.fields[field].values, [*loc, "where", field])
                    )
    problems.extend(_statcode_checks(raw, conn))
    problems.extend(_unknown_value_checks(raw, conn))
    return problems


def _unknown_value_checks(raw: Mapping[str, Any], conn: Connection) -> list[Problem]:
    """Each ``unknown_values`` entry names a field of its layer and a value allowed there."""
    entries = _get(raw, "unknown_values")
    if not isinstance(entries, Mapping):
        return []
    kinds, table = load_kinds(), load_table()
    problems: list[Problem] = []
    for name, fields in entries.items():
        if not isinstance(fields, Mapping):
            continue
        try:
            info = get_layer(conn, str(name), with_versions=False)
        except LayerNotFound:
            continue  # reported with the layer references (or the layer is optional)
        kind = kinds[info.kind]
        for field, value in fields.items():
            loc = ["unknown_values", name, field]
            spec_field = kind.fields.get(field)
            if spec_field is None and field not in info.extra_fields:
                problems.append(
                    {"loc": loc, "msg": f"layer {name!r} (kind {info.kind}) has no field {field!r}"}
                )
            elif spec_field is not None and spec_field.type == "milieucategorie":
                if table.normalise(value) is None:
                    problems.append(
                        {
                            "loc": loc,
                            "msg": f"{value!r} is not a milieucategorie; "
                            f"allowed: {', '.join(table.codes)}",
                        }
                    )
            elif spec_field is not None and spec_field.values:
                problems.extend(_vocabulary([value], spec_field.values, loc)[:1])
    return [
        {"loc": p["loc"][:3], "msg": p["msg"]} if p["loc"][:1] == ["unknown_values"] else p
        for p in problems
    ]


def _statcode_checks(raw: Mapping[str, Any], conn: Connection) -> list[Problem]:
    ref = _ref(_get(raw, "layers", "gemeenten")) or {"layer": "gemeenten"}
    try:
        info = get_layer(
            conn, ref["layer"], ref.get("version") if isinstance(ref.get("version"), int) else None
        )
    except LayerNotFound:
        return []
    if info.kind != "gemeenten":
        return []
    known = set(
        conn.execute(
            select(Feature.gemeente).where(
                Feature.layer_id == info.id, version_filter(ref.get("version"))
            )
        ).scalars()
    )
    problems: list[Problem] = []
    regions = _get(raw, "regions") if isinstance(_get(raw, "regions"), Mapping) else {}
    for name, codes in regions.items():
        for i, code in enumerate(_list(codes)):
            if isinstance(code, str) and STATCODE_RE.match(code) and code not in known:
                problems.append(
                    {
                        "loc": ["regions", name, i],
                        "msg": f"{code} is not a gemeente of layer {info.name!r}",
                    }
                )
    if _get(raw, "allocation", "unit") == "region" and regions:
        covered = {c for codes in regions.values() for c in _list(codes)}
        missing = sorted(known - covered)
        if missing:
            problems.append(
                {
                    "loc": ["regions"],
                    "msg": f"allocation per region: gemeenten in no region: {', '.join(missing)}",
                }
            )
    for i, cat in enumerate(_list(_get(raw, "demand", "categories"))):
        overrides = _get(cat, "overrides")
        for key in overrides if isinstance(overrides, Mapping) else {}:
            if STATCODE_RE.match(str(key)) and key not in known:
                problems.append(
                    {
                        "loc": ["demand", "categories", i, "overrides", key],
                        "msg": f"{key} is not a gemeente of layer {info.name!r}",
                    }
                )
    for i, claim in enumerate(_list(_get(raw, "demand", "claims"))):
        code = _get(claim, "gemeente")
        if isinstance(code, str) and STATCODE_RE.match(code) and code not in known:
            problems.append(
                {
                    "loc": ["demand", "claims", i, "gemeente"],
                    "msg": f"{code} is not a gemeente of layer {info.name!r}",
                }
            )
    return problems
