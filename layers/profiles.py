"""Import profiles: how the files of a particular source map onto a kind, as data.

A profile (YAML; shipped ones in ``layers/data/profiles/``, or any file) names the kind it
is for, the source column names of the kind's fields, value maps (source wording → kind
value) and defaults for features that lack a value::

    title: IBIS-export bedrijventerreinen
    kind: bedrijventerreinen
    fields:
      gemeente: [gemeentecode, gem_code, cbs_code]
    values:
      type_werklocatie: {Zeehaven: A}
    defaults:
      ontsluiting_water: false

A profile is validated against its kind when it is loaded: unknown kind fields, value-map
targets that the field does not accept and defaults of the wrong type are all listed at
once (:class:`ProfileError`). One-off value maps (``--map-value FIELD:SOURCE=TARGET``) are
checked the same way and take precedence over the profile's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from layers.errors import LayerError
from layers.kinds import (
    CoercionContext,
    Kind,
    KindRegistry,
    SourceRules,
    ValueMapping,
    coercer_for,
    fold_word,
    load_kinds,
)
from layers.kinds.coercion import show_value
from layers.kinds.schema import validation_lines
from layers.milieucategorie import MilieucategorieTable, load_table

PROFILES_DIR = Path(__file__).parent / "data" / "profiles"
VALUE_MAP_VIA = "value map"


class ProfileError(LayerError):
    """A profile or value map that cannot be used; ``problems`` lists every problem."""

    status = 422
    title = "Invalid import profile"

    def __init__(self, what: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{what}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))


class ImportProfile(BaseModel):
    """A source's field names, value maps and defaults for one kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str
    description: str = ""
    kind: str
    fields: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Kind field → source column names, tried in order (any case)."""
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Kind field → {source value: kind value}; source values match in any case."""
    defaults: dict[str, Any] = Field(default_factory=dict)
    """Kind field → value for features that have none (never for a value that is unknown)."""

    @field_validator("fields", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("values", mode="before")
    @classmethod
    def _source_values_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: {_yaml_text(s): t for s, t in v.items()} if isinstance(v, dict) else v
                for k, v in value.items()
            }
        return value

    def rules(self) -> SourceRules:
        """The profile as the rules :func:`layers.kinds.validate_attributes` applies."""
        via = f"profile {self.name}"
        return SourceRules(
            columns={k: tuple(v) for k, v in self.fields.items()},
            values={
                f: {fold_word(s): ValueMapping(t, via) for s, t in m.items()}
                for f, m in self.values.items()
            },
            defaults={f: ValueMapping(v, via) for f, v in self.defaults.items()},
        )


def _yaml_text(value: Any) -> str:
    """A source value written in YAML as text: ``J`` stays 'J', ``yes`` (a YAML bool) 'yes'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def shipped_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(
    ref: str | Path,
    kinds: KindRegistry | None = None,
    categories: MilieucategorieTable | None = None,
) -> ImportProfile:
    """A shipped profile by name (``ibis``) or a profile file by path, validated.

    Raises :class:`ProfileError` listing every problem.
    """
    path = Path(ref)
    if not (path.suffix.lower() in (".yaml", ".yml") or path.exists()):
        path = PROFILES_DIR / f"{ref}.yaml"
        if not path.exists():
            raise ProfileError(
                f"profile {str(ref)!r}",
                [
                    f"no shipped profile of that name and no such file; shipped profiles: "
                    f"{', '.join(shipped_profiles())}"
                ],
            )
    what = f"profile {path.stem if path.parent == PROFILES_DIR else str(path)!r}"
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ProfileError(what, [f"no such file: {path}"]) from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProfileError(what, [f"cannot be read as YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ProfileError(what, ["a profile is a mapping with title, kind, fields, values"])
    raw.setdefault("name", path.stem)
    try:
        profile = ImportProfile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(what, validation_lines(exc)) from exc
    problems = check_profile(profile, kinds or load_kinds(), categories)
    if problems:
        raise ProfileError(what, problems)
    return profile


def check_profile(
    profile: ImportProfile, kinds: KindRegistry, categories: MilieucategorieTable | None = None
) -> list[str]:
    """Every problem of a profile against its kind (empty: usable)."""
    if profile.kind not in kinds:
        return [f"kind {profile.kind!r} is not a kind; known kinds: {', '.join(kinds)}"]
    kind = kinds[profile.kind]
    problems: list[str] = []
    for section in ("fields", "values", "defaults"):
        for name in getattr(profile, section):
            if name not in kind.fields:
                problems.append(
                    f"{section}: {name!r} is not a field of kind {kind.name}; "
                    f"its fields: {', '.join(kind.fields)}"
                )
    problems.extend(check_value_maps(kind, profile.values, "values", categories))
    for name, value in profile.defaults.items():
        if name in kind.fields:
            why = _refusal(kind, name, value, categories)
            if why:
                problems.append(f"defaults: {name}: {why}")
    return problems


def check_value_maps(
    kind: Kind,
    maps: Mapping[str, Mapping[str, Any]],
    where: str,
    categories: MilieucategorieTable | None = None,
) -> list[str]:
    """Problems with value maps: targets the field does not accept, clashing sources."""
    problems: list[str] = []
    for name, mapping in maps.items():
        if name not in kind.fields:
            continue  # reported by the caller (with the section it came from)
        seen: dict[str, tuple[str, Any]] = {}
        for source, target in mapping.items():
            why = _refusal(kind, name, target, categories)
            if why:
                problems.append(f"{where}: {name}: {show_value(source)} → {why}")
            key = fold_word(source)
            if key in seen and seen[key][1] != target:
                problems.append(
                    f"{where}: {name}: {show_value(source)} and {show_value(seen[key][0])} are "
                    f"the same source value mapped to different targets"
                )
            seen[key] = (source, target)
    return problems


def _refusal(
    kind: Kind, name: str, value: Any, categories: MilieucategorieTable | None
) -> str | None:
    """Why ``value`` is not a value of field ``name`` (None: it is)."""
    spec = kind.fields[name]
    if value is None:
        return "no value given"
    ctx = CoercionContext(categories=categories or load_table())
    series = pd.Series([value], dtype=object)
    coerced = coercer_for(spec.type).coerce(series, spec, ctx)
    if bool(coerced.bad.iloc[0]):
        return coerced.reason(0, value)
    return None


def parse_map_values(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """``FIELD:SOURCE=TARGET`` strings as field → {source: target}; ValueError on bad form."""
    maps: dict[str, dict[str, str]] = {}
    bad = []
    for item in items:
        head, sep, target = item.partition("=")
        name, colon, source = head.partition(":")
        if not sep or not colon or not name.strip() or not source.strip():
            bad.append(item)
            continue
        maps.setdefault(name.strip(), {})[source.strip()] = target.strip()
    if bad:
        raise ValueError(
            "takes FIELD:SOURCE=TARGET (e.g. planstatus:gepland=harde_plancapaciteit), got "
            + ", ".join(repr(b) for b in bad)
        )
    return maps


def source_rules(
    kind: Kind,
    profile: ImportProfile | None = None,
    value_maps: Mapping[str, Mapping[str, str]] | None = None,
    categories: MilieucategorieTable | None = None,
) -> SourceRules | None:
    """The rules of a profile and one-off value maps (these win), checked against ``kind``.

    Raises :class:`ProfileError` listing every problem of the value maps.
    """
    value_maps = dict(value_maps or {})
    if profile is not None and profile.kind != kind.name:
        raise ProfileError(
            f"profile {profile.name!r}",
            [f"the profile is for kind {profile.kind}, not {kind.name}"],
        )
    problems = [
        f"value map {name}: {name!r} is not a field of kind {kind.name}; "
        f"its fields: {', '.join(kind.fields)}"
        for name in value_maps
        if name not in kind.fields
    ]
    problems.extend(check_value_maps(kind, value_maps, "value map", categories))
    if problems:
        raise ProfileError("value maps", problems)
    if profile is None and not value_maps:
        return None
    base = profile.rules() if profile is not None else SourceRules()
    values = {f: dict(m) for f, m in base.values.items()}
    for name, mapping in value_maps.items():
        values.setdefault(name, {}).update(
            {fold_word(s): ValueMapping(t, VALUE_MAP_VIA) for s, t in mapping.items()}
        )
    return SourceRules(columns=base.columns, values=values, defaults=base.defaults)
