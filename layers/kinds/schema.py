"""The kinds schema as validated models: kinds, their fields and their row rules.

``layers/data/kinds.yaml`` is read into these pydantic models when it is loaded; every
problem in the file is listed at once (:class:`KindsFileError`), so a typo in a field type,
a synonym pointing at no value or a rule naming a field the kind does not have never
reaches an import. Rules are a discriminated union on their ``rule`` key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KINDS_FILE = Path(__file__).resolve().parent.parent / "data" / "kinds.yaml"
_SHIPPED = str(KINDS_FILE.resolve())

FieldType = Literal[
    "text", "integer", "number", "boolean", "date", "statcode", "milieucategorie", "enum"
]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__
CLASSIFYING_TYPES = frozenset({"enum", "milieucategorie", "statcode"})
"""Field types whose values classify a feature (rules and scenario selections read them):
an unknown value is refused, never replaced by a default."""

GeometryFamily = Literal["point", "line", "polygon"]
KindGeometry = Literal["polygon", "point", "line", "any", "point_or_polygon"]
#: Names of the parts of a mixed-geometry layer, by geometry family (``Kind.geometry_parts``).
DEFAULT_PART_NAMES = {"point": "punten", "line": "lijnen", "polygon": "vlakken"}


class UnknownKind(KeyError):
    """A kind name that is not in the registry."""

    def __str__(self) -> str:
        return str(self.args[0])


class KindsFileError(ValueError):
    """The kinds file is not a valid schema; ``problems`` lists every problem."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(
            f"{path}: {len(problems)} problem(s) in the kinds schema:\n  - "
            + "\n  - ".join(problems)
        )


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which feature (position), which field, what.

    ``message`` is what every client sees (the HTTP API too), so it never names a
    command-line option; ``cli_hint`` is the fix the CLI prints beside it
    (e.g. ``use --map gemeente=statcode``).
    """

    index: int | None
    field: str | None
    message: str
    cli_hint: str | None = None

    def describe(self, ref: str | None = None) -> str:
        """Readable line, e.g. ``feature 3 (naam 'X'), field netto_ha: must be ≥ 0``."""
        where = []
        if self.index is not None:
            where.append(ref or f"feature {self.index + 1}")
        if self.field:
            where.append(f"field {self.field}")
        return (", ".join(where) + ": " if where else "") + self.message


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fail(problems: list[str]) -> None:
    if problems:
        raise ValueError("; ".join(problems))


class FieldSpec(_Model):
    """One attribute of a kind."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    type: FieldType
    label: str
    required: bool = False
    default: Any = None
    """Fills a *missing* value (no column, or an empty cell), with a note; never replaces a
    value that is present but unknown (that is refused)."""
    min: float | None = None
    max: float | None = None
    unique: bool = False
    aliases: tuple[str, ...] = ()
    """Source column names recognised without a mapping."""
    values: dict[str, str] | None = None
    """Enum: code → Dutch label."""
    synonyms: dict[str, str] = Field(default_factory=dict)
    """Enum: other wording (any case) → code."""
    pattern: str | None = None
    max_length: int | None = Field(default=None, ge=1)
    help: str | None = None
    """A Dutch help text for the field (the browser's attribute form shows it)."""

    @model_validator(mode="before")
    @classmethod
    def _label_defaults_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "label" not in data and "name" in data:
            data = {**data, "label": data["name"]}
        return data

    @field_validator("synonyms", mode="before")
    @classmethod
    def _synonyms_lower(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, dict):
            return {fold_word(k): v for k, v in value.items()}
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} is not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        problems: list[str] = []
        t = self.type
        if t == "enum" and not self.values:
            problems.append("an enum field needs values")
        if t != "enum" and (self.values or self.synonyms):
            problems.append(f"values and synonyms are for enum fields, not {t}")
        if (self.min is not None or self.max is not None) and t not in ("number", "integer"):
            problems.append(f"min and max are for number and integer fields, not {t}")
        if self.min is not None and self.max is not None and self.min > self.max:
            problems.append(f"min {self.min:g} is above max {self.max:g}")
        if (self.pattern or self.max_length) and t != "text":
            problems.append(f"pattern and max_length are for text fields, not {t}")
        codes = {fold_word(k): k for k in self.values or {}}
        for word, code in self.synonyms.items():
            if code not in (self.values or {}):
                problems.append(
                    f"synonym {word!r} points at {code!r}, which is not one of its values"
                )
            elif word in codes and codes[word] != code:
                problems.append(
                    f"synonym {word!r} → {code!r} clashes with the value {codes[word]!r}"
                )
        if self.required and self.default is not None:
            problems.append("a required field cannot have a default")
        if self.default is not None:
            problem = _default_problem(self)
            if problem:
                problems.append(problem)
        _fail(problems)
        return self

    @property
    def classifying(self) -> bool:
        """Whether the field's values classify features (unknown values are refused)."""
        return self.type in CLASSIFYING_TYPES

    def accepted_words(self) -> dict[str, str]:
        """Enum: every accepted wording (folded) → code: codes, labels, then synonyms."""
        words: dict[str, str] = {}
        for code in self.values or {}:
            words.setdefault(fold_word(code), code)
        for code, label in (self.values or {}).items():
            words.setdefault(fold_word(label), code)
        for word, code in self.synonyms.items():
            words[word] = code
        return words


def _default_problem(spec: FieldSpec) -> str | None:
    d, t = spec.default, spec.type
    if t == "enum" and d not in (spec.values or {}):
        return f"default {d!r} is not one of its values"
    if t == "boolean" and not isinstance(d, bool):
        return f"default {d!r} is not true or false"
    if t in ("number", "integer") and (isinstance(d, bool) or not isinstance(d, (int, float))):
        return f"default {d!r} is not a number"
    if t in ("text", "statcode", "milieucategorie", "date") and not isinstance(d, str):
        return f"default {d!r} is not text"
    return None


def fold_word(word: Any) -> str:
    """Case- and space-insensitive key of a wording.

    ``' Rustige  Woonwijk'`` → ``rustige woonwijk``.
    """
    return " ".join(str(word).split()).casefold()


class OrderRule(_Model):
    """Each field ≤ the next, where both are present (numbers or dates)."""

    rule: Literal["order"]
    fields: tuple[str, ...] = Field(min_length=2)
    message: str = ""


class SumRule(_Model):
    """The parts add up to the total, within a tolerance, where all are present."""

    rule: Literal["sum"]
    total: str
    parts: tuple[str, ...] = Field(min_length=1)
    tolerance: float = Field(default=0.0, ge=0)
    message: str = ""


class GeometryByValueRule(_Model):
    """Geometry families allowed per value of an enum field."""

    rule: Literal["geometry_by_value"]
    field: str
    families: dict[str, tuple[GeometryFamily, ...]]
    message: str = ""


Rule = Annotated[OrderRule | SumRule | GeometryByValueRule, Field(discriminator="rule")]


class Kind(_Model):
    """A kind of layer: its title, geometry family, fields and rules."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    title: str
    geometry: KindGeometry
    fields: dict[str, FieldSpec]
    rules: tuple[Rule, ...] = ()
    gemeente_field: str | None = None
    label_field: str | None = None
    temporal: tuple[str, str] | None = None
    """Date fields (start, end) giving each feature's validity period (OGC ``datetime``)."""
    geometry_parts: dict[Literal["point", "line", "polygon"], str] = Field(default_factory=dict)
    """Names of the parts of a layer that mixes geometry types (point → ``knooppunten``):
    clients that need one type per collection or table get one per part (OGC API,
    GeoPackage downloads). Parts not named here are ``punten``, ``lijnen``, ``vlakken``."""

    @model_validator(mode="before")
    @classmethod
    def _names_from_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        fields = data.get("fields")
        if isinstance(fields, dict):
            data["fields"] = {
                k: ({**v, "name": k} if isinstance(v, dict) else v) for k, v in fields.items()
            }
        temporal = data.get("temporal")
        if isinstance(temporal, dict):
            extra = set(temporal) - {"start", "end"}
            if extra:
                raise ValueError(f"temporal takes start and end, not {', '.join(sorted(extra))}")
            data["temporal"] = (temporal.get("start"), temporal.get("end"))
        return data

    @model_validator(mode="after")
    def _references(self) -> Kind:
        problems: list[str] = []
        f = self.fields

        def need(name: str | None, what: str, types: Iterable[str] | None = None) -> None:
            if name is None:
                return
            if name not in f:
                problems.append(f"{what} names {name!r}, which is not a field of the kind")
            elif types is not None and f[name].type not in types:
                problems.append(f"{what} names {name!r}, a {f[name].type} field")

        need(self.gemeente_field, "gemeente_field", ("statcode",))
        need(self.label_field, "label_field")
        if self.temporal:
            for name in self.temporal:
                need(name, "temporal", ("date",))
        for i, rule in enumerate(self.rules, start=1):
            where = f"rule {i} ({rule.rule})"
            if isinstance(rule, OrderRule):
                for name in rule.fields:
                    need(name, where, ("number", "integer", "date"))
            elif isinstance(rule, SumRule):
                for name in (rule.total, *rule.parts):
                    need(name, where, ("number", "integer"))
            else:
                need(rule.field, where, ("enum",))
                if rule.field in f and f[rule.field].values:
                    for value in rule.families:
                        if value not in f[rule.field].values:
                            problems.append(f"{where}: {value!r} is not a value of {rule.field}")
        _fail(problems)
        return self

    def part_name(self, family: str) -> str:
        """The name of the part of geometry ``family`` (point, line, polygon)."""
        return self.geometry_parts.get(family) or DEFAULT_PART_NAMES[family]

    def field_labels(self) -> dict[str, str]:
        """Field name → Dutch label."""
        return {s.name: s.label for s in self.fields.values()}


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

    def __iter__(self) -> Iterator[str]:  # noqa: D105
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)


def load_kinds(path: Path | str | None = None) -> KindRegistry:
    """Read and validate the kinds file (default: the one shipped with the package).

    Raises :class:`KindsFileError` listing every problem in the file.
    """
    if path is None:  # the shipped file, resolved once: every request asks for it
        return _load_kinds(_SHIPPED)
    return _load_kinds(str(Path(path).resolve()))


@lru_cache(maxsize=4)
def _load_kinds(path: str) -> KindRegistry:
    with open(path, encoding="utf-8") as fh:
        try:
            # The shipped file with libyaml's parser where there is one (a tenth of the time,
            # which every command that imports pays); another file with the Python parser,
            # whose messages say where the file is wrong.
            loader = (
                getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                if path == _SHIPPED
                else yaml.SafeLoader
            )
            raw = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise KindsFileError(path, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict) or not raw:
        raise KindsFileError(path, ["the file must map kind names to kinds"])
    kinds: list[Kind] = []
    problems: list[str] = []
    for name, spec in raw.items():
        if str(name).startswith("x-"):
            continue  # shared YAML anchors (x-gemeente-aliases), not kinds
        data = {**spec, "name": name} if isinstance(spec, dict) else spec
        try:
            kinds.append(Kind.model_validate(data))
        except ValidationError as exc:
            problems.extend(f"kind {name}: {line}" for line in validation_lines(exc))
    if problems:
        raise KindsFileError(path, problems)
    return KindRegistry(kinds)


def validation_lines(exc: ValidationError) -> list[str]:
    """Each error of a pydantic ``ValidationError`` as ``where: message``."""
    lines = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if not str(p).startswith("function-")]
        # Discriminated unions put the tag in the location (rules.0.sum.total): keep it.
        msg = e.get("msg", "").removeprefix("Value error, ")
        lines.append(f"{'.'.join(loc) or '(top)'}: {msg}")
    return lines
