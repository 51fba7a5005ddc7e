"""Layer kinds: the attribute schema of each kind of kaartlaag, and its validation.

The schemas are data (``layers/data/kinds.yaml``); this module reads them and checks
a whole table of attributes at once, vectorised, collecting *every* problem (feature,
field, message) instead of stopping at the first. The same check serves file imports
(thousands of rows) and single features created through the API (one row).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from layers.milieucategorie import MilieucategorieTable, load_table

KINDS_FILE = Path(__file__).parent / "data" / "kinds.yaml"
FIELD_TYPES = (
    "text",
    "integer",
    "number",
    "boolean",
    "date",
    "statcode",
    "milieucategorie",
    "enum",
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_STATCODE_RE = re.compile(r"^GM\d{4}$")
_TRUE = {"true", "t", "yes", "y", "ja", "j", "1", "waar"}
_FALSE = {"false", "f", "no", "n", "nee", "0", "onwaar"}


class UnknownKind(KeyError):
    """A kind name that is not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which feature (position), which field, what."""

    index: int | None
    field: str | None
    message: str

    def describe(self, ref: str | None = None) -> str:
        """Readable line, e.g. ``feature 3 (naam 'X'), field netto_ha: must be ≥ 0``."""
        where = []
        if self.index is not None:
            where.append(ref or f"feature {self.index + 1}")
        if self.field:
            where.append(f"field {self.field}")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a kind."""

    name: str
    type: str
    label: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    unique: bool = False
    aliases: tuple[str, ...] = ()
    values: Mapping[str, str] | None = None
    synonyms: Mapping[str, str] = dc_field(default_factory=dict)
    pattern: str | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Rule:
    """A check across fields of one row (see kinds.yaml)."""

    rule: str
    message: str = ""
    fields: tuple[str, ...] = ()
    total: str | None = None
    parts: tuple[str, ...] = ()
    tolerance: float = 0.0
    field: str | None = None
    families: Mapping[str, tuple[str, ...]] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    """A kind of layer: its title, geometry family, fields and rules."""

    name: str
    title: str
    geometry: str
    fields: Mapping[str, FieldSpec]
    rules: tuple[Rule, ...] = ()
    gemeente_field: str | None = None
    label_field: str | None = None
    temporal: tuple[str, str] | None = None
    """Date fields (start, end) giving each feature's validity period (OGC ``datetime``)."""

    def field_labels(self) -> dict[str, str]:
        """Field name → Dutch label."""
        return {f.name: f.label for f in self.fields.values()}


@dataclass
class ValidatedAttributes:
    """Outcome of :func:`validate_attributes`."""

    frame: pd.DataFrame
    """Kind fields (coerced, defaults applied) followed by the kept extra fields."""
    problems: list[Problem]
    notes: list[str]
    extra_fields: dict[str, str]
    """Extra field name → type (``text``, ``integer``, ``number``, ``boolean``, ``date``)."""


class KindRegistry(Mapping[str, Kind]):
    """Kinds by name; ``registry[name]`` raises :class:`UnknownKind` naming the known ones."""

    def __init__(self, kinds: Iterable[Kind]):
        self._kinds = {k.name: k for k in kinds}

    def __getitem__(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKind(
                f"unknown kind {name!r}; known kinds: {', '.join(self._kinds)}"
            ) from None

    def __iter__(self):  # noqa: D105
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)


def load_kinds(path: Path | str | None = None) -> KindRegistry:
    """Read the kinds file (default: the one shipped with the package)."""
    return _load_kinds(str(Path(path or KINDS_FILE).resolve()))


@lru_cache(maxsize=4)
def _load_kinds(path: str) -> KindRegistry:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    kinds = []
    for name, spec in raw.items():
        fields = {}
        for fname, f in spec["fields"].items():
            if f["type"] not in FIELD_TYPES:
                raise ValueError(f"{path}: kind {name}, field {fname}: unknown type {f['type']!r}")
            fields[fname] = FieldSpec(
                name=fname,
                type=f["type"],
                label=f.get("label", fname),
                required=bool(f.get("required", False)),
                default=f.get("default"),
                min=f.get("min"),
                max=f.get("max"),
                unique=bool(f.get("unique", False)),
                aliases=tuple(f.get("aliases", ())),
                values=f.get("values"),
                synonyms={str(k).lower(): v for k, v in (f.get("synonyms") or {}).items()},
                pattern=f.get("pattern"),
                max_length=f.get("max_length"),
            )
        rules = tuple(
            Rule(
                rule=r["rule"],
                message=r.get("message", ""),
                fields=tuple(r.get("fields", ())),
                total=r.get("total"),
                parts=tuple(r.get("parts", ())),
                tolerance=float(r.get("tolerance", 0.0)),
                field=r.get("field"),
                families={k: tuple(v) for k, v in (r.get("families") or {}).items()},
            )
            for r in spec.get("rules", ())
        )
        kinds.append(
            Kind(
                name=name,
                title=spec["title"],
                geometry=spec["geometry"],
                fields=fields,
                rules=rules,
                gemeente_field=spec.get("gemeente_field"),
                label_field=spec.get("label_field"),
                temporal=_temporal(path, name, spec.get("temporal"), fields),
            )
        )
    return KindRegistry(kinds)


def _temporal(
    path: str, kind: str, spec: Any, fields: Mapping[str, FieldSpec]
) -> tuple[str, str] | None:
    """The ``temporal: {start: F, end: G}`` entry of a kind, checked to name date fields."""
    if not spec:
        return None
    start, end = spec.get("start"), spec.get("end")
    for name in (start, end):
        if name not in fields or fields[name].type != "date":
            raise ValueError(
                f"{path}: kind {kind}: temporal field {name!r} is not a date field of the kind"
            )
    return (start, end)


# -- column mapping ------------------------------------------------------------------


#: Names taken by the store and the export formats; a source field with one of them is
#: kept as ``src_<name>``.
RESERVED_NAMES = frozenset(
    {"fid", "id", "geom", "geometry", "wkt", "gpkg_fid", "ogc_fid", "gemeente_owner"}
)


def sanitize_field_name(name: str) -> str:
    """Lower-case snake_case name usable as a JSON key, SQL identifier and GPKG field."""
    clean = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_")
    if not clean or not clean[0].isalpha():
        clean = f"f_{clean}" if clean else "field"
    if clean in RESERVED_NAMES:
        clean = f"src_{clean}"
    return clean[:63]


def resolve_columns(
    columns: Iterable[str], kind: Kind, field_map: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str], list[Problem]]:
    """Match source columns to kind fields.

    Order: ``field_map`` (FIELD=SOURCE from ``--map``), the exact name, the name in
    another case, then the kind's aliases. Returns kind field → source column, the
    source columns left over (extra fields) and problems with the mapping itself.
    """
    cols = list(columns)
    lower = {}
    for c in cols:
        lower.setdefault(str(c).lower(), c)
    problems: list[Problem] = []
    mapping: dict[str, str] = {}
    for target, source in (field_map or {}).items():
        if target not in kind.fields:
            problems.append(
                Problem(
                    None,
                    target,
                    f"--map names field {target!r}, which kind {kind.name!r} does not have; "
                    f"its fields: {', '.join(kind.fields)}",
                )
            )
        elif source not in cols and source.lower() not in lower:
            problems.append(
                Problem(
                    None,
                    target,
                    f"--map {target}={source}: the source has no column {source!r}; "
                    f"its columns: {', '.join(map(str, cols)) or '(none)'}",
                )
            )
        else:
            mapping[target] = source if source in cols else lower[source.lower()]
    used = set(mapping.values())
    for fspec in kind.fields.values():
        if fspec.name in mapping:
            continue
        candidates = (fspec.name, *fspec.aliases)
        # Shapefiles cut field names to 10 characters: max_milieucategorie -> max_milieu.
        candidates += tuple(c[:10] for c in candidates if len(c) > 10)
        for candidate in candidates:
            src = candidate if candidate in cols else lower.get(candidate.lower())
            if src is not None and src not in used:
                mapping[fspec.name] = src
                used.add(src)
                break
    extras = [c for c in cols if c not in used]
    return mapping, extras, problems


# -- coercion ------------------------------------------------------------------------


def _is_null(series: pd.Series) -> pd.Series:
    null = series.isna()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        stripped = series.astype("string").str.strip()
        null = null | (stripped == "").fillna(True)
    return null.astype(bool)


def _text(v: Any) -> str:
    """One value as text, a whole float without ``.0`` (4711.0 → '4711')."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", errors="replace")
    return str(v).strip()


def _as_text(series: pd.Series) -> pd.Series:
    """Text values, with whole floats written without ``.0`` (4711.0 → '4711')."""
    return series.map(_text, na_action="ignore")


def _scalar_text(v: Any) -> str:
    """``_as_text`` of a one-value Series, without building one (it is called per row)."""
    if isinstance(v, (np.number, np.bool_)):
        v = v.item()  # what a one-value Series hands to map: the Python scalar
    elif not isinstance(v, (str, int, float, bytes, bytearray)):
        return _as_text(pd.Series([v])).iloc[0]
    return _text(v)


def _to_number(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(np.nan, index=series.index)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(float)
    text = series.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


Coerced = tuple[pd.Series, pd.Series, Callable[[Any], str]]


def _map_values(series: pd.Series, conv: Callable[[Any], Any]) -> pd.Series:
    """``series.map(conv)``, calling ``conv`` once per distinct value where that is exact.

    In text, boolean and integer columns equal values are the same value, so converting
    each distinct value once gives what converting every row gives (a 100,000-row import
    has a handful of distinct gemeenten or categories). Other columns map row by row:
    floats (``0.0 == -0.0``) and mixed objects (``1 == True``) hold equal values that
    convert differently.
    """
    dtype = series.dtype
    exact = (
        isinstance(dtype, pd.StringDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_integer_dtype(dtype)
        or (
            pd.api.types.is_object_dtype(dtype)
            and pd.api.types.infer_dtype(series, skipna=False) == "string"
        )
    )
    if not exact or len(series) < 2 or series.hasnans:
        return series.map(conv)
    codes, uniques = pd.factorize(series)
    converted = np.empty(len(uniques), dtype=object)
    for k, value in enumerate(np.asarray(uniques, dtype=object)):
        converted[k] = conv(value)
    return pd.Series(converted[codes], index=series.index, dtype=object)


def _coerce(series: pd.Series, spec: FieldSpec, categories: MilieucategorieTable) -> Coerced:
    """Coerce present values; return (values, bad mask, message for a bad value)."""
    t = spec.type
    if t == "number" or t == "integer":
        nums = _to_number(series)
        bad = nums.isna() | ~np.isfinite(nums.fillna(0.0))
        msg = (
            (lambda v: f"{v!r} is not a whole number")
            if t == "integer"
            else (lambda v: f"{v!r} is not a finite number")
        )
        if t == "integer":
            bad = bad | (nums.fillna(0.0) % 1 != 0)
            # Whole numbers as Python ints, so that they are stored as 2031, not 2031.0.
            return nums.where(~bad).map(lambda v: None if pd.isna(v) else int(v)), bad, msg
        return nums, bad, msg
    if t == "boolean":

        def conv_bool(v: Any) -> Any:
            if isinstance(v, (bool, np.bool_)):
                return bool(v)
            if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
                return bool(v)
            s = str(v).strip().lower()
            return True if s in _TRUE else False if s in _FALSE else None

        vals = _map_values(series, conv_bool)
        return vals, vals.isna(), lambda v: f"{v!r} is not a yes/no value (true/false, ja/nee, 1/0)"
    if t == "date":

        def conv_date(v: Any) -> Any:
            if hasattr(v, "isoformat") and not isinstance(v, str):
                try:
                    return pd.Timestamp(v).date().isoformat()
                except (ValueError, TypeError):
                    return None
            s = str(v).strip()
            for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S"):
                try:
                    return pd.to_datetime(s, format=fmt).date().isoformat()
                except (ValueError, TypeError):
                    continue
            if re.fullmatch(r"\d{4}", s):
                return f"{s}-01-01"
            return None

        vals = _map_values(series, conv_date)
        return vals, vals.isna(), lambda v: f"{v!r} is not a date (YYYY-MM-DD or DD-MM-YYYY)"
    if t == "statcode":

        def conv_stat(v: Any) -> Any:
            s = _scalar_text(v).upper().replace(" ", "")
            if s.isascii() and s.isdigit() and len(s) <= 4:  # not '4¹7': int() cannot read it
                s = f"GM{int(s):04d}"
            return s if _STATCODE_RE.match(s) else None

        vals = _map_values(series, conv_stat)
        return vals, vals.isna(), lambda v: f"{v!r} is not a CBS gemeente code (GM0344, or 344)"
    if t == "milieucategorie":
        vals = _map_values(series, categories.normalise)
        return (
            vals,
            vals.isna(),
            lambda v: f"{v!r} is not a milieucategorie; allowed: {', '.join(categories.codes)}",
        )
    if t == "enum":
        allowed = dict(spec.values or {})
        lower_codes = {str(k).lower(): k for k in allowed}

        def conv_enum(v: Any) -> Any:
            s = str(v).strip().lower()
            if s in lower_codes:
                return lower_codes[s]
            if s in spec.synonyms:
                return spec.synonyms[s]
            s2 = s.replace(" ", "_").replace("-", "_")
            return lower_codes.get(s2)

        vals = _map_values(series, conv_enum)
        return vals, vals.isna(), lambda v: f"{v!r} is not allowed; allowed: {', '.join(allowed)}"
    # text
    vals = _as_text(series)
    bad = pd.Series(False, index=series.index)
    msg: Callable[[Any], str] = lambda v: f"{v!r} is not valid"  # noqa: E731
    if spec.pattern:
        rx = re.compile(spec.pattern)
        bad = ~vals.map(lambda s: bool(rx.match(s)))
        msg = lambda v: f"{v!r} does not match the expected format {spec.pattern}"  # noqa: E731
    if spec.max_length:
        too_long = vals.str.len() > spec.max_length
        bad = bad | too_long
        msg = lambda v: f"{v!r} is longer than {spec.max_length} characters"  # noqa: E731
    return vals, bad.astype(bool), msg


def _infer_extra(series: pd.Series) -> tuple[pd.Series, str]:
    """Keep an extra field with a simple type: integer, number, boolean, date or text."""
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return series.astype(object).where(series.notna(), None), "boolean"
    if pd.api.types.is_integer_dtype(dt):
        return series.astype(object).where(series.notna(), None), "integer"
    if pd.api.types.is_float_dtype(dt):
        finite = series.where(np.isfinite(series))
        return finite.astype(object).where(finite.notna(), None), "number"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return series.map(lambda v: v.isoformat() if pd.notna(v) else None), "date"
    values = series.map(
        lambda v: v.isoformat() if hasattr(v, "isoformat") and not isinstance(v, str) else v,
        na_action="ignore",
    )
    kinds = {type(v).__name__ for v in values.dropna()}
    if kinds and kinds <= {"bool"}:
        return values, "boolean"
    if kinds and kinds <= {"int"}:
        return values, "integer"
    if kinds and kinds <= {"int", "float"}:
        return values.map(
            lambda v: float(v) if math.isfinite(v) else None, na_action="ignore"
        ), "number"
    return values.map(lambda v: str(v), na_action="ignore"), "text"


# -- validation ----------------------------------------------------------------------


def validate_attributes(
    source: pd.DataFrame,
    kind: Kind,
    *,
    categories: MilieucategorieTable | None = None,
    field_map: Mapping[str, str] | None = None,
    set_values: Mapping[str, Any] | None = None,
    keep_extra: bool = True,
    allow_extra: bool = True,
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

    Returns
    -------
    ValidatedAttributes
        The clean frame and every problem found.
    """
    categories = categories or load_table()
    mapping, extras, problems = resolve_columns(source.columns, kind, field_map)
    notes: list[str] = []
    n = len(source)
    out = pd.DataFrame(index=source.index)
    set_values = dict(set_values or {})
    for target in set_values:
        if target not in kind.fields:
            problems.append(
                Problem(
                    None,
                    target,
                    f"--set names field {target!r}, which kind {kind.name!r} does not have",
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
        null = _is_null(raw)
        values = pd.Series([None] * n, index=source.index, dtype=object)
        if (~null).any():
            present = raw[~null]
            coerced, bad, msg = _coerce(present, spec, categories)
            for idx in bad[bad].index:
                problems.append(Problem(int(positions[idx]), spec.name, msg(present[idx])))
            ok = ~bad
            values.loc[ok[ok].index] = coerced[ok].astype(object)
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
        if missing.any():
            if spec.required:
                where = (
                    ""
                    if spec.name in mapping or spec.name in set_values
                    else (
                        f" (no source column matched; use --map {spec.name}=COLUMN or --set {spec.name}=VALUE)"
                    )
                )
                if spec.name not in mapping and spec.name not in set_values:
                    problems.append(Problem(None, spec.name, f"required field is missing{where}"))
                else:
                    for idx in missing[missing].index:
                        problems.append(
                            Problem(int(positions[idx]), spec.name, "required value is missing")
                        )
            elif spec.default is not None:
                values[missing] = spec.default
                if spec.name not in mapping and spec.name not in set_values and n:
                    notes.append(
                        f"field {spec.name} not in the source: set to {spec.default!r} for all features"
                    )
        if spec.unique:
            dup = values.notna() & values.duplicated(keep=False)
            for idx in dup[dup].index:
                problems.append(
                    Problem(
                        int(positions[idx]), spec.name, f"{values[idx]!r} occurs more than once"
                    )
                )
        out[spec.name] = values

    extra_fields: dict[str, str] = {}
    if extras:
        if not allow_extra:
            for col in extras:
                problems.append(
                    Problem(
                        None,
                        str(col),
                        f"unknown field for kind {kind.name!r}; its fields: {', '.join(kind.fields)}",
                    )
                )
        elif keep_extra:
            for col in extras:
                name = sanitize_field_name(col)
                base, k = name, 2
                while name in out.columns or name in extra_fields:
                    name = f"{base[:60]}_{k}"
                    k += 1
                out[name], extra_fields[name] = _infer_extra(source[col])
            notes.append(
                f"kept {len(extras)} field(s) that kind {kind.name!r} does not define: "
                + ", ".join(extra_fields)
            )
    problems.extend(_check_rules(out, kind, positions))
    return ValidatedAttributes(frame=out, problems=problems, notes=notes, extra_fields=extra_fields)


def _check_rules(frame: pd.DataFrame, kind: Kind, positions: pd.Series) -> list[Problem]:
    problems: list[Problem] = []
    for rule in kind.rules:
        if rule.rule == "order":
            for a, b in zip(rule.fields, rule.fields[1:], strict=False):
                va, vb = frame[a], frame[b]
                both = va.notna() & vb.notna()
                if not both.any():
                    continue
                if kind.fields[a].type == "date":
                    bad = both & (va.astype(str) > vb.astype(str))
                else:
                    bad = both & (
                        pd.to_numeric(va, errors="coerce")
                        > pd.to_numeric(vb, errors="coerce") + 1e-9
                    )
                for idx in bad[bad].index:
                    problems.append(
                        Problem(
                            int(positions[idx]),
                            a,
                            f"{a} ({va[idx]}) > {b} ({vb[idx]}): {rule.message}",
                        )
                    )
        elif rule.rule == "sum":
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


def check_geometry_rules(frame: pd.DataFrame, families: np.ndarray, kind: Kind) -> list[Problem]:
    """Rules that tie a value to a geometry family (e.g. a knooppunt is a point or area)."""
    problems: list[Problem] = []
    for rule in kind.rules:
        if rule.rule != "geometry_by_value" or rule.field not in frame:
            continue
        values = frame[rule.field].to_numpy()
        for pos, (value, fam) in enumerate(zip(values, families, strict=True)):
            allowed = rule.families.get(value)
            if allowed and fam in {"point", "line", "polygon"} and fam not in allowed:
                problems.append(
                    Problem(
                        pos,
                        rule.field,
                        f"a {rule.field} {value!r} must have a {' or '.join(allowed)} geometry, not a {fam}",
                    )
                )
    return problems
