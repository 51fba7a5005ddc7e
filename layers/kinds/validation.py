"""Validation of a table of attributes against a kind, vectorised, listing every problem.

The same check serves file imports (thousands of rows) and single features written
through the API (one row): columns are matched (:mod:`layers.kinds.matching`), values
mapped (import profiles, value maps) and coerced (:mod:`layers.kinds.coercion`), then
checked against the field (required, min/max, unique) and the kind's rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from layers.kinds.coercion import (
    AttributeLimits,
    CoercionContext,
    GemeenteNames,
    coercer_for,
    infer_extra,
    is_null,
    scalar_text,
    show_value,
)
from layers.kinds.matching import match_columns, sanitize_field_name
from layers.kinds.schema import (
    FieldSpec,
    GeometryByValueRule,
    Kind,
    OrderRule,
    Problem,
    SumRule,
    fold_word,
)
from layers.milieucategorie import MilieucategorieTable, load_table

MISMATCH_SHARE = 0.5
"""A column matched by name that fails for more than this share of its values is checked
against the other columns, to name the one that would pass."""


@dataclass(frozen=True)
class ValueMapping:
    """One source value mapped to a kind value, and what asked for it."""

    target: Any
    via: str
    """E.g. ``profile ibis`` or ``value map``."""


@dataclass(frozen=True)
class SourceRules:
    """How to read a particular source: from an import profile and one-off value maps."""

    columns: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Kind field → source column names to try, in order (before the kind's own names)."""
    values: Mapping[str, Mapping[str, ValueMapping]] = field(default_factory=dict)
    """Kind field → folded source value → the kind value it stands for."""
    defaults: Mapping[str, ValueMapping] = field(default_factory=dict)
    """Kind field → value for features that have none (said explicitly by the profile)."""


@dataclass(frozen=True)
class MappedValue:
    """A source value that was stored as another value: field, source, target, count, why."""

    field: str
    source: str
    target: Any
    count: int
    via: str
    """``profile NAME``, ``value map``, ``synonym`` (in kinds.yaml) or ``gemeentenaam``
    (resolved through the stored gemeenten layer)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the data-quality report)."""
        return {
            "field": self.field,
            "source": self.source,
            "target": self.target,
            "count": self.count,
            "via": self.via,
        }

    def describe(self) -> str:
        """``planstatus 'gepland' → 'zachte_plancapaciteit' (3 features, synonym)``."""
        return (
            f"{self.field} {show_value(self.source)} → {show_value(self.target)} "
            f"({self.count} feature(s), {self.via})"
        )


@dataclass
class ValidatedAttributes:
    """Outcome of :func:`validate_attributes`."""

    frame: pd.DataFrame
    """Kind fields (coerced, defaults applied) followed by the kept extra fields."""
    problems: list[Problem]
    notes: list[str]
    extra_fields: dict[str, str]
    """Extra field name → type (``text``, ``integer``, ``number``, ``boolean``, ``date``)."""
    mapped: list[MappedValue] = field(default_factory=list)
    """Values stored as another value (profile, value maps, synonyms, gemeente names)."""


def validate_attributes(
    source: pd.DataFrame,
    kind: Kind,
    *,
    categories: MilieucategorieTable | None = None,
    field_map: Mapping[str, str] | None = None,
    set_values: Mapping[str, Any] | None = None,
    keep_extra: bool = True,
    allow_extra: bool = True,
    rules: SourceRules | None = None,
    limits: AttributeLimits | None = None,
    gemeenten: GemeenteNames | None = None,
) -> ValidatedAttributes:
    """Map, coerce and check the attributes of ``source`` against ``kind``.

    Parameters
    ----------
    source
        One row per feature, the source's columns (no geometry column).
    kind
        The kind to check against.
    categories
        The milieucategorie model (default: the shipped VNG table).
    field_map
        Kind field → source column (``--map``).
    set_values
        Kind field → constant for every feature (``--set``), overriding the source.
    keep_extra
        Keep source columns the kind does not define (sanitised names), else drop them.
    allow_extra
        When False, extra columns are a problem (the API refuses unknown fields).
    rules
        Column names, value maps and defaults of an import profile (and ``--map-value``).
    limits
        Limits on values (text length); None: no limits.
    gemeenten
        Gemeente names of the stored gemeenten layer, to read gemeente name columns.

    Returns
    -------
    ValidatedAttributes
        The clean frame, every problem found and the values that were mapped.
    """
    rules = rules or SourceRules()
    ctx = CoercionContext(
        categories=categories or load_table(),
        limits=limits or AttributeLimits(),
        gemeenten=gemeenten,
    )
    match = match_columns(source.columns, kind, field_map, rules.columns)
    mapping, problems = match.mapping, list(match.problems)
    notes: list[str] = []
    mapped: list[MappedValue] = []
    n = len(source)
    out = pd.DataFrame(index=source.index)
    set_values = dict(set_values or {})
    for target in set_values:
        if target not in kind.fields:
            problems.append(
                Problem(
                    None,
                    target,
                    f"a value is set for field {target!r}, which kind {kind.name!r} does not "
                    f"have; its fields: {', '.join(kind.fields)}",
                    cli_hint=f"check --set {target}=…",
                )
            )
    positions = pd.Series(np.arange(n), index=source.index)

    for spec in kind.fields.values():
        if spec.name in set_values:
            raw = pd.Series([set_values[spec.name]] * n, index=source.index, dtype=object)
        elif spec.name in mapping:
            raw = source[mapping[spec.name]]
        else:
            raw = pd.Series([None] * n, index=source.index, dtype=object)
        null = is_null(raw)
        values = pd.Series([None] * n, index=source.index, dtype=object)
        if (~null).any():
            present = raw[~null]
            value_map = rules.values.get(spec.name)
            if value_map and spec.name not in set_values:
                present, counts = _apply_value_map(present, value_map)
                mapped.extend(
                    MappedValue(spec.name, src, tgt, c, via) for (src, tgt, via), c in counts
                )
            coercer = coercer_for(spec.type)
            coerced = coercer.coerce(present, spec, ctx)
            bad = coerced.bad
            for idx in bad[bad].index:
                problems.append(
                    Problem(int(positions[idx]), spec.name, coerced.reason(idx, present[idx]))
                )
            if coerced.via is not None:
                mapped.extend(_translations(spec.name, present, coerced.values, coerced.via, bad))
            if (
                bad.any()
                and match.how.get(spec.name) in ("name", "alias", "profile")
                and spec.name not in set_values
                and bad.sum() > MISMATCH_SHARE * len(present)
            ):
                problems.extend(
                    _better_column(source, spec, mapping, match.how, int(bad.sum()), present, ctx)
                )
            ok = ~bad
            values.loc[ok[ok].index] = coerced.values[ok].astype(object)
            if spec.min is not None or spec.max is not None:
                nums = pd.to_numeric(values, errors="coerce")
                if spec.min is not None:
                    for idx in nums[nums < spec.min].index:
                        problems.append(
                            Problem(
                                int(positions[idx]),
                                spec.name,
                                f"{nums[idx]:g} is below the minimum {spec.min:g}",
                            )
                        )
                if spec.max is not None:
                    for idx in nums[nums > spec.max].index:
                        problems.append(
                            Problem(
                                int(positions[idx]),
                                spec.name,
                                f"{nums[idx]:g} is above the maximum {spec.max:g}",
                            )
                        )
        missing = null
        from_source = spec.name in mapping or spec.name in set_values
        if missing.any():
            default = rules.defaults.get(spec.name)
            if default is None and spec.default is not None:
                default = ValueMapping(spec.default, f"the default of kind {kind.name}")
            if spec.required and default is None:
                if not from_source:
                    names = ", ".join((spec.name, *spec.aliases))
                    problems.append(
                        Problem(
                            None,
                            spec.name,
                            f"required field is missing: no source column matched it "
                            f"(names tried: {names})",
                            cli_hint=f"use --map {spec.name}=COLUMN or --set {spec.name}=VALUE",
                        )
                    )
                else:
                    for idx in missing[missing].index:
                        problems.append(
                            Problem(int(positions[idx]), spec.name, "required value is missing")
                        )
            elif default is not None:
                values[missing] = default.target
                if n and not from_source:
                    notes.append(
                        f"field {spec.name} not in the source: set to {default.target!r} for all "
                        f"features ({default.via})"
                    )
                elif n:
                    notes.append(
                        f"field {spec.name}: {int(missing.sum())} feature(s) without a value set "
                        f"to {default.target!r} ({default.via})"
                    )
        if spec.unique:
            dup = values.notna() & values.duplicated(keep=False)
            for idx in dup[dup].index:
                problems.append(
                    Problem(
                        int(positions[idx]),
                        spec.name,
                        f"{show_value(values[idx])} occurs more than once",
                    )
                )
        out[spec.name] = values

    extra_fields: dict[str, str] = {}
    extras = match.extras
    if extras:
        if not allow_extra:
            for col in extras:
                problems.append(
                    Problem(
                        None,
                        str(col),
                        f"unknown field for kind {kind.name!r}; "
                        f"its fields: {', '.join(kind.fields)}",
                    )
                )
        elif keep_extra:
            for col in extras:
                name = sanitize_field_name(col)
                base, k = name, 2
                while name in out.columns or name in extra_fields:
                    name = f"{base[:60]}_{k}"
                    k += 1
                out[name], extra_fields[name], refused = infer_extra(source[col], ctx.limits)
                for idx, why in refused.items():
                    problems.append(Problem(int(positions[idx]), str(col), why))
            notes.append(
                f"kept {len(extras)} field(s) that kind {kind.name!r} does not define: "
                + ", ".join(extra_fields)
            )
    problems.extend(check_rules(out, kind, positions))
    return ValidatedAttributes(
        frame=out, problems=problems, notes=notes, extra_fields=extra_fields, mapped=mapped
    )


def _apply_value_map(
    present: pd.Series, value_map: Mapping[str, ValueMapping]
) -> tuple[pd.Series, list[tuple[tuple[str, Any, str], int]]]:
    """Replace mapped source values by their targets; count each (source, target, via)."""
    counts: Counter = Counter()
    out = present.astype(object).copy()
    for idx, v in present.items():
        if isinstance(v, (dict, list, bool, np.bool_)):
            continue
        text = scalar_text(v)
        m = value_map.get(fold_word(text))
        if m is not None:
            out[idx] = m.target
            counts[(text, m.target, m.via)] += 1
    return out, sorted(counts.items(), key=lambda kv: (str(kv[0][0]), -kv[1]))


def _translations(
    name: str, present: pd.Series, values: pd.Series, via: pd.Series, bad: pd.Series
) -> list[MappedValue]:
    """Values a coercer translated (synonyms, gemeente names), counted per source value."""
    counts: Counter = Counter()
    for idx in via.index[via.notna() & ~bad]:
        counts[(scalar_text(present[idx]), values[idx], via[idx])] += 1
    return [
        MappedValue(name, src, tgt, c, how)
        for (src, tgt, how), c in sorted(counts.items(), key=lambda kv: str(kv[0][0]))
    ]


def _better_column(
    source: pd.DataFrame,
    spec: FieldSpec,
    mapping: Mapping[str, str],
    how: Mapping[str, str],
    n_bad: int,
    present: pd.Series,
    ctx: CoercionContext,
) -> list[Problem]:
    """A problem naming a column that would pass where the matched one fails, if any."""
    name = spec.name
    current = mapping[name]
    taken = {c for f, c in mapping.items() if f != name}
    rows = present.index
    alt: str | None = None
    for col in source.columns:
        if col == current or col in taken:
            continue
        cand = source.loc[rows, col]
        cand_null = is_null(cand)
        if cand_null.any():
            continue
        coerced = coercer_for(spec.type).coerce(cand, spec, ctx)
        if not coerced.bad.any():
            alt = str(col)
            break
    if alt is None:
        return []
    matched = {"name": "by name", "alias": "by a known alias", "profile": "by the profile"}[
        how[name]
    ]
    return [
        Problem(
            None,
            name,
            f"column {current!r} (matched {matched}) holds no valid value for {n_bad} of "
            f"{len(present)} features, but column {alt!r} would pass for all of them: take "
            f"field {name} from column {alt!r}",
            cli_hint=f"use --map {name}={alt}",
        )
    ]


def check_rules(frame: pd.DataFrame, kind: Kind, positions: pd.Series) -> list[Problem]:
    """The kind's row rules (order, sum) over a validated frame."""
    problems: list[Problem] = []
    for rule in kind.rules:
        check = RULE_CHECKS.get(type(rule))
        if check is not None:
            problems.extend(check(rule, frame, kind, positions))
    return problems


def _check_order(
    rule: OrderRule, frame: pd.DataFrame, kind: Kind, positions: pd.Series
) -> list[Problem]:
    problems = []
    for a, b in zip(rule.fields, rule.fields[1:], strict=False):
        va, vb = frame[a], frame[b]
        both = va.notna() & vb.notna()
        if not both.any():
            continue
        if kind.fields[a].type == "date":
            bad = both & (va.astype(str) > vb.astype(str))
        else:
            bad = both & (
                pd.to_numeric(va, errors="coerce") > pd.to_numeric(vb, errors="coerce") + 1e-9
            )
        for idx in bad[bad].index:
            problems.append(
                Problem(
                    int(positions[idx]), a, f"{a} ({va[idx]}) > {b} ({vb[idx]}): {rule.message}"
                )
            )
    return problems


def _check_sum(
    rule: SumRule, frame: pd.DataFrame, kind: Kind, positions: pd.Series
) -> list[Problem]:
    problems = []
    cols = [rule.total, *rule.parts]
    nums = frame[cols].apply(pd.to_numeric, errors="coerce")
    complete = nums.notna().all(axis=1)
    diff = (nums[list(rule.parts)].sum(axis=1) - nums[rule.total]).abs()
    bad = complete & (diff > rule.tolerance + 1e-9)
    for idx in bad[bad].index:
        parts = " + ".join(f"{p} ({nums.at[idx, p]:g})" for p in rule.parts)
        problems.append(
            Problem(
                int(positions[idx]),
                rule.total,
                f"{parts} ≠ {rule.total} ({nums.at[idx, rule.total]:g}): {rule.message}",
            )
        )
    return problems


RULE_CHECKS: dict[type, Callable[..., list[Problem]]] = {
    OrderRule: _check_order,
    SumRule: _check_sum,
}
"""Rule model → its check over a table (geometry rules: :func:`check_geometry_rules`)."""


def check_geometry_rules(frame: pd.DataFrame, families: np.ndarray, kind: Kind) -> list[Problem]:
    """Rules that tie a value to a geometry family (e.g. a knooppunt is a point or area)."""
    problems: list[Problem] = []
    for rule in kind.rules:
        if not isinstance(rule, GeometryByValueRule) or rule.field not in frame:
            continue
        values = frame[rule.field].to_numpy()
        for pos, (value, fam) in enumerate(zip(values, families, strict=True)):
            allowed = rule.families.get(value)
            if allowed and fam in {"point", "line", "polygon"} and fam not in allowed:
                problems.append(
                    Problem(
                        pos,
                        rule.field,
                        f"a {rule.field} {value!r} must have a {' or '.join(allowed)} "
                        f"geometry, not a {fam}",
                    )
                )
    return problems
