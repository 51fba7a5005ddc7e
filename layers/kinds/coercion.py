"""Coercion of source values to a kind field's type: a small registry of coercers.

Each field type is a class on :class:`Coercer` with a ``coerce`` method that turns the
present values of one column into typed values, a mask of the values it refused and a
message for a refused value; :data:`COERCERS` maps type names to them (the shape of
:mod:`scenarios.criteria`). A new type is a class and one line in the registry.

The same coercion serves file imports and API writes. It refuses rather than guesses:
an object, array or yes/no value where text is expected, NUL bytes, lone surrogates,
text over the length limit, numbers that JSON cannot hold exactly, and any value of a
classifying field (enum, milieucategorie, gemeente) that the kind does not know.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from layers.kinds.schema import FieldSpec, fold_word
from layers.milieucategorie import MilieucategorieTable

MAX_EXACT_NUMBER = 2**53 - 1
"""Largest magnitude a number may have: JSON readers (and JavaScript) hold integers exactly
up to here; beyond it a value is refused rather than silently rounded."""

_STATCODE_RE = re.compile(r"^GM\d{4}$")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_TRUE = {"true", "t", "yes", "y", "ja", "j", "1", "waar"}
_FALSE = {"false", "f", "no", "n", "nee", "0", "onwaar"}


@dataclass(frozen=True)
class AttributeLimits:
    """Limits on attribute values, from the settings (None: no limit)."""

    max_text_length: int | None = None
    """Most characters in a text value; a kind's ``max_length`` may set a smaller one."""


@dataclass(frozen=True)
class GemeenteNames:
    """Gemeente names → statcodes, from the stored gemeenten layer (to read name columns)."""

    layer: str
    names: Mapping[str, str]
    """Statcode → name."""

    def resolve(self, value: str) -> tuple[str | None, str | None]:
        """(statcode, None) for a known name, else (None, why it is refused).

        Names match whatever their case and spacing; a name without the qualifier the
        layer gives (``Bergen`` for ``Bergen (NH.)``) matches when only one gemeente has it.
        """
        key = fold_word(value)
        exact = sorted(c for c, n in self.names.items() if fold_word(n) == key)
        if len(exact) == 1:
            return exact[0], None
        base = sorted(c for c, n in self.names.items() if _base(n) == _base(value))
        if len(exact) > 1 or len(base) > 1:
            codes = exact if len(exact) > 1 else base
            both = ", ".join(f"{c} ({self.names[c]})" for c in codes)
            return None, f"{_show(value)} is ambiguous: gemeenten {both} have that name"
        if len(base) == 1:
            return base[0], None
        return None, (
            f"{_show(value)} is neither a CBS gemeente code (GM0344, 0344 or 344) nor the "
            f"name of a gemeente in layer {self.layer!r}"
        )


def _base(name: str) -> str:
    return fold_word(re.sub(r"\s*\(.*?\)\s*", " ", str(name)))


@dataclass(frozen=True)
class CoercionContext:
    """What coercion needs beyond the field: the milieucategorie model, limits, gemeenten."""

    categories: MilieucategorieTable
    limits: AttributeLimits = field(default_factory=AttributeLimits)
    gemeenten: GemeenteNames | None = None


@dataclass
class Coerced:
    """Coerced present values of one column."""

    values: pd.Series
    bad: pd.Series
    """True where the value was refused."""
    message: Callable[[Any], str]
    """Why a refused value was refused (given the source value)."""
    via: pd.Series | None = None
    """How a value was translated (``synonym``, ``gemeentenaam``), None where it was direct."""
    messages: pd.Series | None = None
    """Per-value reasons overriding ``message`` where set."""

    def reason(self, idx: Any, value: Any) -> str:
        """Why the value at ``idx`` was refused."""
        if self.messages is not None:
            m = self.messages.get(idx)
            if isinstance(m, str):
                return m
        return self.message(value)


def _show(v: Any, limit: int = 60) -> str:
    """A value for a message: its repr, cut short (a 5 MB string must not fill the error)."""
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, str):
        text = repr(v[: limit + 1])
        if len(v) > limit:
            text = repr(v[:limit])[:-1] + f"…' ({len(v):,} characters)"
        return _SURROGATE_RE.sub("\ufffd", text)
    text = repr(v)
    return _SURROGATE_RE.sub("\ufffd", text[:limit] + ("…" if len(text) > limit else ""))


def show_value(v: Any) -> str:
    """Public name of :func:`_show` (messages elsewhere quote values the same way)."""
    return _show(v)


#: What Python's ``str.strip()`` removes (``str.isspace``), for Arrow's trim to do the same
#: (written out: computing it costs 40 ms at import; a test checks it against Python).
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def arrow_strings(series: pd.Series) -> pa.Array | None:
    """The column as an Arrow string array when it is one (as files read through Arrow give
    text columns): valid UTF-8 by construction, so it holds no lone surrogates or undecodable
    bytes, and text checks can run over the whole column at once. None for anything else."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arr = pa.array(series.array)
    elif isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype):
        arr = pa.array(series.array)
    else:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def _stripped(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim(arr, characters=PYTHON_WHITESPACE)


def text_column(
    series: pd.Series, max_length: int | None, strip: bool = True
) -> tuple[pd.Series, pd.Series] | None:
    """:func:`text_problem` over a whole Arrow string column: (text or None, why not or None)
    per row, the same as mapping it row by row. None when the column is not Arrow text."""
    arr = arrow_strings(series)
    if arr is None:
        return None
    text = _stripped(arr) if strip else arr
    bad = pc.fill_null(pc.match_substring(text, "\x00"), False)
    if max_length is not None:
        bad = pc.or_(bad, pc.fill_null(pc.greater(pc.utf8_length(text), max_length), False))
    values = pd.Series(text.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
    why = pd.Series(np.full(len(series), None, dtype=object), index=series.index, dtype=object)
    flagged = np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool)
    for pos in np.flatnonzero(flagged):
        value, reason = text_problem(values.iat[pos], max_length, strip=False)
        values.iat[pos], why.iat[pos] = value, reason
    return values, why


def is_null(series: pd.Series) -> pd.Series:
    """Missing values: NaN/None and empty or blank text."""
    null = series.isna()
    arr = arrow_strings(series)
    if arr is not None:
        blank = pc.fill_null(pc.equal(_stripped(arr), ""), False)
        return null | pd.Series(blank.to_numpy(zero_copy_only=False), index=series.index)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        blank = [isinstance(v, str) and not v.strip() for v in series]
        null = null | pd.Series(blank, index=series.index, dtype=bool)
    return null.astype(bool)


def _text(v: Any) -> str:
    """One value as text, a whole float without ``.0`` (4711.0 → '4711')."""
    if isinstance(v, (np.number, np.bool_)):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", errors="replace")
    return str(v).strip()


def scalar_text(v: Any) -> str:
    """A present value as text for matching words (codes, synonyms, value maps)."""
    return _text(v)


def text_problem(
    v: Any, max_length: int | None, strip: bool = True
) -> tuple[str | None, str | None]:
    """(text, None) for a value acceptable as text, else (None, why not).

    Numbers become text (a RIN-nummer 4711 is '4711'); yes/no values, objects and arrays
    are refused (never stored as ``'True'`` or ``"{'x': 1}"``), as are bytes that are not
    UTF-8, NUL bytes, lone surrogates and text over ``max_length`` characters.
    """
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return None, f"{_show(v)} is a yes/no value, not text"
    if isinstance(v, (dict, list, tuple, set, np.ndarray)):
        what = "an object" if isinstance(v, dict) else "an array"
        return None, f"{what} ({_show(v)}) is not text"
    if isinstance(v, (bytes, bytearray)):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return None, "bytes that are not UTF-8 text"
    if isinstance(v, float):
        if not math.isfinite(v):
            return None, f"{_show(v)} is not text"
        v = str(int(v)) if v.is_integer() else repr(v)
    elif isinstance(v, int):
        v = str(v)
    elif not isinstance(v, str):
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        else:
            return None, f"a {type(v).__name__} value is not text"
    s = v.strip() if strip else v
    if "\x00" in s:
        return None, "text with a NUL byte (\\x00) is refused"
    if _SURROGATE_RE.search(s):
        return None, "text with a lone surrogate (invalid Unicode) is refused"
    if max_length is not None and len(s) > max_length:
        return None, f"text of {len(s):,} characters is longer than the limit of {max_length:,}"
    return s, None


def _exact_values(series: pd.Series) -> bool:
    """Whether equal values of ``series`` are the same value (see :func:`map_values`)."""
    dtype = series.dtype
    return (
        isinstance(dtype, pd.StringDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_integer_dtype(dtype)
        or (
            pd.api.types.is_object_dtype(dtype)
            and pd.api.types.infer_dtype(series, skipna=False) == "string"
        )
    )


def _converted(series: pd.Series, conv: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray]:
    """``conv`` of each distinct value (or of each row), and which one each row takes."""
    if not _exact_values(series) or len(series) < 2 or series.hasnans:
        out = np.empty(len(series), dtype=object)
        out[:] = [conv(v) for v in series]
        return out, np.arange(len(series))
    codes, uniques = pd.factorize(series)
    converted = np.empty(len(uniques), dtype=object)
    for k, value in enumerate(np.asarray(uniques, dtype=object)):
        converted[k] = conv(value)
    return converted, codes


def map_values(series: pd.Series, conv: Callable[[Any], Any]) -> pd.Series:
    """``series.map(conv)``, calling ``conv`` once per distinct value where that is exact.

    In text, boolean and integer columns equal values are the same value, so converting
    each distinct value once gives what converting every row gives (a 100,000-row import
    has a handful of distinct gemeenten or categories). Other columns map row by row:
    floats (``0.0 == -0.0``) and mixed objects (``1 == True``) hold equal values that
    convert differently.
    """
    converted, codes = _converted(series, conv)
    return pd.Series(converted[codes], index=series.index, dtype=object)


def map_pairs(
    series: pd.Series, conv: Callable[[Any], tuple[Any, Any]]
) -> tuple[pd.Series, pd.Series]:
    """:func:`map_values` of a ``conv`` giving (value, extra) pairs, as two Series: split per
    distinct value, not per row."""
    converted, codes = _converted(series, conv)
    first = np.empty(len(converted), dtype=object)
    second = np.empty(len(converted), dtype=object)
    for k, (a, b) in enumerate(converted):
        first[k], second[k] = a, b
    return (
        pd.Series(first[codes], index=series.index, dtype=object),
        pd.Series(second[codes], index=series.index, dtype=object),
    )


class Coercer:
    """Base class: turns the present values of a column into the field's type."""

    type: ClassVar[str]
    title: ClassVar[str]

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """Coerce ``series`` (no missing values) for ``spec``."""
        raise NotImplementedError


def _number_of(v: Any) -> float | None:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        try:
            return float(v)
        except OverflowError:
            return math.inf
    if isinstance(v, str):
        s = v.strip().replace(",", ".")
        if len(s) > 40 or "_" in s:  # a 5,000-digit "number" is not an area
            return None
        try:
            return float(s)
        except ValueError:
            return None
    return None


class NumberCoercer(Coercer):
    """Decimal numbers; Dutch decimal commas accepted (``'4,5'`` → 4.5)."""

    type = "number"
    title = "getal"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """Finite numbers within ±2⁵³."""
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
            series.dtype
        ):
            nums = series.astype(float)
        else:
            nums = pd.Series([_number_of(v) for v in series], index=series.index, dtype=float)
        finite = nums.notna() & np.isfinite(nums.fillna(0.0))
        too_big = finite & (nums.abs() > MAX_EXACT_NUMBER)
        bad = ~finite | too_big
        messages = None
        if too_big.any():
            messages = pd.Series(None, index=series.index, dtype=object)
            for idx in too_big[too_big].index:
                messages[idx] = (
                    f"{_show(series[idx])} is beyond ±{MAX_EXACT_NUMBER:,} (out of range)"
                )
        return Coerced(
            nums.where(~bad),
            bad,
            lambda v: f"{_show(v)} is not a finite number",
            messages=messages,
        )


class IntegerCoercer(Coercer):
    """Whole numbers, stored as Python ints (2031, not 2031.0)."""

    type = "integer"
    title = "geheel getal"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """Whole numbers within ±2⁵³."""
        number = NumberCoercer().coerce(series, spec, ctx)
        nums = number.values
        bad = number.bad | (nums.fillna(0.0) % 1 != 0)
        values = nums.where(~bad).map(lambda v: None if pd.isna(v) else int(v))
        return Coerced(
            values.astype(object),
            bad,
            lambda v: f"{_show(v)} is not a whole number",
            messages=number.messages,
        )


class BooleanCoercer(Coercer):
    """Yes/no: true/false, ja/nee, j/n, 1/0 (any case)."""

    type = "boolean"
    title = "ja/nee"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """True or False; anything else is refused."""

        def conv(v: Any) -> Any:
            if isinstance(v, (bool, np.bool_)):
                return bool(v)
            if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
                return bool(v)
            if not isinstance(v, (str, int, float, np.generic)):
                return None
            s = str(v).strip().lower()
            return True if s in _TRUE else False if s in _FALSE else None

        vals = map_values(series, conv)
        return Coerced(
            vals,
            vals.isna(),
            lambda v: f"{_show(v)} is not a yes/no value (true/false, ja/nee, 1/0)",
        )


class DateCoercer(Coercer):
    """Dates: YYYY-MM-DD, DD-MM-YYYY (also with /), a timestamp, or a year."""

    type = "date"
    title = "datum"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """ISO dates (``2030-01-01``)."""

        def conv(v: Any) -> Any:
            if hasattr(v, "isoformat") and not isinstance(v, str):
                try:
                    return pd.Timestamp(v).date().isoformat()
                except (ValueError, TypeError):
                    return None
            if not isinstance(v, (str, int, np.integer)) or isinstance(v, bool):
                return None
            s = str(v).strip()
            if len(s) > 40:
                return None
            for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S"):
                try:
                    return pd.to_datetime(s, format=fmt).date().isoformat()
                except (ValueError, TypeError):
                    continue
            if re.fullmatch(r"\d{4}", s):
                return f"{s}-01-01"
            return None

        vals = map_values(series, conv)
        return Coerced(
            vals, vals.isna(), lambda v: f"{_show(v)} is not a date (YYYY-MM-DD or DD-MM-YYYY)"
        )


class StatcodeCoercer(Coercer):
    """CBS gemeente codes: ``GM0344``, ``0344``, ``344``; names via the gemeenten layer."""

    type = "statcode"
    title = "CBS-gemeentecode"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """``GM`` + four digits; a gemeente name becomes its statcode when the stored
        gemeenten layer knows exactly one gemeente of that name."""

        def conv(v: Any) -> tuple[Any, Any, Any]:
            if isinstance(v, (bool, np.bool_)) or not isinstance(
                v, (str, int, float, np.generic, bytes)
            ):
                return None, None, None
            s = _text(v).upper().replace(" ", "")
            if s.isascii() and s.isdigit() and len(s) <= 4:  # not "4¹7": int() cannot read it
                s = f"GM{int(s):04d}"
            if _STATCODE_RE.match(s):
                return s, None, None
            text = _text(v)
            if ctx.gemeenten is not None and text and not text.isdigit():
                code, why = ctx.gemeenten.resolve(text)
                return (code, "gemeentenaam", None) if code else (None, None, why)
            return None, None, None

        triples = map_values(series, conv)
        vals = triples.map(lambda t: t[0]).astype(object)
        via = triples.map(lambda t: t[1]).astype(object)
        messages = triples.map(lambda t: t[2]).astype(object)
        if ctx.gemeenten is None:
            msg = lambda v: f"{_show(v)} is not a CBS gemeente code (GM0344, 0344 or 344)"  # noqa: E731
        else:
            msg = lambda v: (  # noqa: E731
                f"{_show(v)} is neither a CBS gemeente code (GM0344, 0344 or 344) nor the name "
                f"of a gemeente in layer {ctx.gemeenten.layer!r}"
            )
        return Coerced(vals, vals.isna(), msg, via=via, messages=messages)


class MilieucategorieCoercer(Coercer):
    """A category of the milieucategorie table (``4.1``, ``'4,1'``, ``3``)."""

    type = "milieucategorie"
    title = "milieucategorie"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """The table's code; an unknown category is refused."""
        cats = ctx.categories

        def conv(v: Any) -> Any:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (str, int, float, np.generic)):
                return None
            return cats.normalise(v.item() if isinstance(v, np.generic) else v)

        vals = map_values(series, conv)
        return Coerced(
            vals,
            vals.isna(),
            lambda v: f"{_show(v)} is not a milieucategorie; allowed: {', '.join(cats.codes)}",
        )


class EnumCoercer(Coercer):
    """A code of the field's ``values``: the code, its Dutch label or a synonym, any case."""

    type = "enum"
    title = "keuzelijst"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """The code; an unknown value is refused (never replaced by a default)."""
        words = spec.accepted_words()
        codes = {fold_word(k): k for k in spec.values or {}}

        def conv(v: Any) -> tuple[Any, Any]:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (str, int, float, np.generic)):
                return None, None
            key = fold_word(_text(v))
            if key in codes:
                return codes[key], None
            underscored = key.replace(" ", "_").replace("-", "_")
            if underscored in codes:
                return codes[underscored], None
            if key in words:
                return words[key], "synonym"
            return None, None

        vals, via = map_pairs(series, conv)
        allowed = ", ".join(spec.values or {})
        return Coerced(
            vals, vals.isna(), lambda v: f"{_show(v)} is not allowed; allowed: {allowed}", via=via
        )


class TextCoercer(Coercer):
    """Text, within the length limit, optionally matching the field's pattern."""

    type = "text"
    title = "tekst"

    def coerce(self, series: pd.Series, spec: FieldSpec, ctx: CoercionContext) -> Coerced:
        """Trimmed text; see :func:`text_problem` for what is refused."""
        limit = min(
            (x for x in (spec.max_length, ctx.limits.max_text_length) if x is not None),
            default=None,
        )
        fast = text_column(series, limit)
        if fast is not None:
            vals, messages = fast
        else:
            vals, messages = map_pairs(series, lambda v: text_problem(v, limit))
        bad = vals.isna()
        if spec.pattern:
            rx = re.compile(spec.pattern)
            mismatch = vals.map(lambda s: isinstance(s, str) and not rx.match(s)).astype(bool)
            messages = messages.where(
                ~mismatch, f"does not match the expected format {spec.pattern}"
            )
            bad = bad | mismatch
        return Coerced(
            vals.where(~bad),
            bad.astype(bool),
            lambda v: f"{_show(v)} is not valid",
            messages=messages,
        )


COERCERS: dict[str, type[Coercer]] = {
    c.type: c
    for c in (
        TextCoercer,
        IntegerCoercer,
        NumberCoercer,
        BooleanCoercer,
        DateCoercer,
        StatcodeCoercer,
        MilieucategorieCoercer,
        EnumCoercer,
    )
}


def coercer_for(type_name: str) -> Coercer:
    """The coercer of a field type; KeyError names the known ones."""
    try:
        return COERCERS[type_name]()
    except KeyError:
        raise KeyError(f"unknown field type {type_name!r}; known: {', '.join(COERCERS)}") from None


def infer_extra(
    series: pd.Series, limits: AttributeLimits
) -> tuple[pd.Series, str, dict[Any, str]]:
    """Keep a field the kind does not define with a simple type.

    Returns the values, their type (integer, number, boolean, date or text) and the refused
    values by index (objects, arrays, NUL bytes, over-long text, numbers out of range).
    """
    dt = series.dtype
    refused: dict[Any, str] = {}
    if pd.api.types.is_bool_dtype(dt):
        return series.astype(object).where(series.notna(), None), "boolean", refused
    if pd.api.types.is_integer_dtype(dt):
        for idx in series.index[series.abs() > MAX_EXACT_NUMBER]:
            refused[idx] = f"{_show(series[idx])} is beyond ±{MAX_EXACT_NUMBER:,} (out of range)"
        return series.astype(object).where(series.notna(), None), "integer", refused
    if pd.api.types.is_float_dtype(dt):
        finite = series.where(np.isfinite(series))
        for idx in finite.index[finite.abs() > MAX_EXACT_NUMBER]:
            refused[idx] = f"{_show(series[idx])} is beyond ±{MAX_EXACT_NUMBER:,} (out of range)"
        return finite.astype(object).where(finite.notna(), None), "number", refused
    if pd.api.types.is_datetime64_any_dtype(dt):
        return series.map(lambda v: v.isoformat() if pd.notna(v) else None), "date", refused
    fast = text_column(series, limits.max_text_length, strip=False)
    if fast is not None:
        values, why = fast
        values = values.where(series.notna(), None)
        for idx in why.index[why.notna() & series.notna()]:
            refused[idx] = why[idx]
        return values, "text", refused
    values = series.map(
        lambda v: v.isoformat() if hasattr(v, "isoformat") and not isinstance(v, str) else v,
        na_action="ignore",
    )
    present = values.dropna()
    kinds = {type(v).__name__ for v in present}
    if kinds and kinds <= {"bool"}:
        return values, "boolean", refused
    if kinds and kinds <= {"int"}:
        for idx, v in present.items():
            if abs(v) > MAX_EXACT_NUMBER:
                refused[idx] = f"{_show(v)} is beyond ±{MAX_EXACT_NUMBER:,} (out of range)"
        return values, "integer", refused
    if kinds and kinds <= {"int", "float"}:
        for idx, v in present.items():
            if math.isfinite(v) and abs(v) > MAX_EXACT_NUMBER:
                refused[idx] = f"{_show(v)} is beyond ±{MAX_EXACT_NUMBER:,} (out of range)"
        return (
            values.map(lambda v: float(v) if math.isfinite(v) else None, na_action="ignore"),
            "number",
            refused,
        )
    out = pd.Series([None] * len(values), index=values.index, dtype=object)
    for idx, v in present.items():
        text, why = text_problem(v, limits.max_text_length, strip=False)
        if why:
            refused[idx] = why
        else:
            out[idx] = text
    return out, "text", refused
