"""Classifying values a run relies on: each must be one the run knows, or the spec says what
it counts as. No silent defaults.

A run classifies features by attribute values: terreinen by ``max_milieucategorie`` (HMC or
not, their richtafstand) and by the fields a demand category selects on; reserveringen by
``status`` (hard, zacht) and ``functie``; strategische locaties by ``status`` and ``type``;
vestigingen by ``milieucategorie``; woongebieden and other distance layers by
``omgevingstype`` (rustig, gemengd); any layer by the fields of a ``where``. A layer stored
before a vocabulary was tightened (or written around the importer) can hold a value outside
it. Such a value fails the run with the layer, the feature and the value, unless the spec's
``unknown_values`` names what it counts as (``{woongebieden: {omgevingstype: rustig}}``);
then the run reports how many features it gave that value.

Missing values are not unknown values: a missing optional value matches no selection, a
missing omgevingstype takes the rule's ``omgevingstype`` (written in the spec), and a missing
required value (``max_milieucategorie``, a reservering's ``status``, …; ``bruto_ha`` when bruto
comes from the attribute) fails the run like an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from layers.kinds import load_kinds
from layers.milieucategorie import OMGEVINGSTYPEN, MilieucategorieTable
from scenarios.errors import ScenarioError
from scenarios.inputs import Inputs, LayerData
from scenarios.spec import LayerRef, ScenarioSpec, spec_layer_refs

#: Most problems named in the message (all are in ``problems``).
MESSAGE_PROBLEMS = 20


class UnknownValues(ScenarioError):
    """A layer read by a run holds values the run cannot classify; ``problems`` lists each."""

    status = 422
    title = "Unknown values in a layer"

    def __init__(self, problems: list[dict[str, Any]]):
        self.problems = problems
        lines = [p["msg"] for p in problems]
        shown = "; ".join(lines[:MESSAGE_PROBLEMS])
        more = (
            f"; … and {len(lines) - MESSAGE_PROBLEMS} more" if len(lines) > MESSAGE_PROBLEMS else ""
        )
        layers = sorted({p["layer"] for p in problems})
        super().__init__(
            f"the run stopped: {len(problems)} value(s) it cannot use in layer(s) "
            f"{', '.join(layers)}; nothing was stored: {shown}{more}"
        )


@dataclass
class ValueRule:
    """A field of a layer the run classifies on, and the values it knows there."""

    layer: str
    field: str
    known: tuple[str, ...]
    used_by: list[str]
    required: bool = False
    """A missing value is a problem too."""
    normalise: Callable[[Any], str | None] | None = None
    """Maps a stored value to a known one (None: unknown); default: exact match."""

    def canonical(self, value: Any) -> str | None:
        """The known value ``value`` stands for, or None."""
        if self.normalise is not None:
            return self.normalise(value)
        text = str(value)
        return text if text in self.known else None


@dataclass
class CheckedValues:
    """The inputs with the spec's ``unknown_values`` applied, and what was replaced."""

    inputs: Inputs
    replaced: list[dict[str, Any]] = field(default_factory=list)
    """{layer, field, value, counted_as, features} per distinct value replaced."""


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def value_rules(spec: ScenarioSpec, inputs: Inputs, table: MilieucategorieTable) -> list[ValueRule]:
    """Every (layer, field) the run classifies on, with the values it knows."""
    kinds = load_kinds()
    rules: dict[tuple[str, str], ValueRule] = {}

    def add(layer: str | None, fld: str, known, used_by: str, **kw: Any) -> None:
        if layer is None or inputs.get(layer) is None:
            return
        rule = rules.get((layer, fld))
        if rule is None:
            rules[(layer, fld)] = ValueRule(layer, fld, tuple(known), [used_by], **kw)
        elif used_by not in rule.used_by:
            rule.used_by.append(used_by)
            rule.required = rule.required or kw.get("required", False)

    def vocabulary(layer: str, fld: str) -> tuple[str, ...] | None:
        spec_field = kinds[inputs.layers[layer].kind].fields.get(fld)
        return tuple(spec_field.values) if spec_field is not None and spec_field.values else None

    terreinen = inputs.bedrijventerreinen
    add(
        terreinen,
        "max_milieucategorie",
        table.codes,
        "the HMC threshold and the milieuzonering",
        required=True,
        normalise=table.normalise,
    )
    for i, category in enumerate(spec.demand.categories):
        for fld in ("type_werklocatie", "terreintype", "planstatus"):
            if getattr(category.select, fld) is not None and inputs.get(terreinen) is not None:
                add(
                    terreinen,
                    fld,
                    vocabulary(terreinen, fld) or (),
                    f"demand.categories[{i}].select",
                )
    if spec.phasing is not None and inputs.get(terreinen) is not None:
        add(
            terreinen,
            "planstatus",
            vocabulary(terreinen, "planstatus") or (),
            "phasing.lead_time_years",
            required=True,
        )
    if inputs.reserveringen is not None:
        r = inputs.reserveringen
        add(r, "status", vocabulary(r, "status") or (), "supply.reserveringen", required=True)
        if spec.supply.reserveringen.hmc_functies:
            add(r, "functie", vocabulary(r, "functie") or (), "supply.reserveringen.hmc_functies")
    if inputs.strategische_locaties is not None and spec.supply.strategische_locaties.weight > 0:
        s = inputs.strategische_locaties
        for fld, use in (("status", "statuses"), ("type", "hmc_types")):
            add(
                s,
                fld,
                vocabulary(s, fld) or (),
                f"supply.strategische_locaties.{use}",
                required=True,
            )
    if inputs.vestigingen is not None:
        add(
            inputs.vestigingen,
            "milieucategorie",
            table.codes,
            "the HMC-benutting",
            required=True,
            normalise=table.normalise,
        )
    distance = []
    if spec.constraints.hmc_richtafstand.enabled:
        distance += [
            (f"constraints.hmc_richtafstand.layers[{i}]", r)
            for i, r in enumerate(spec.constraints.hmc_richtafstand.layers)
        ]
    distance += [
        (f"milieuzonering.conflict_layers[{i}]", r)
        for i, r in enumerate(spec.milieuzonering.conflict_layers)
    ]
    for where, ref in distance:
        if ref.omgevingstype_field:
            add(ref.layer, ref.omgevingstype_field, OMGEVINGSTYPEN, where)
    for where, ref in _where_refs(spec):
        for fld in ref.where or {}:
            if inputs.get(ref.layer) is not None and (known := vocabulary(ref.layer, fld)):
                add(ref.layer, fld, known, f"{where}.where")
    return list(rules.values())


def _where_refs(spec: ScenarioSpec) -> list[tuple[str, LayerRef]]:
    return [(where, ref) for where, ref in spec_layer_refs(spec) if ref.where]


def check_values(
    spec: ScenarioSpec,
    inputs: Inputs,
    table: MilieucategorieTable,
    *,
    bruto_source: str,
    attribution: str,
) -> CheckedValues:
    """Check every classifying value of the inputs; apply the spec's ``unknown_values``.

    Raises
    ------
    UnknownValues
        Listing every feature with a value the run does not know (and no default for it),
        and every missing required value.
    """
    problems: list[dict[str, Any]] = []
    layers = dict(inputs.layers)
    replaced: list[dict[str, Any]] = []
    for rule in value_rules(spec, inputs, table):
        layer = layers[rule.layer]
        default = spec.unknown_values.get(rule.layer, {}).get(rule.field)
        if default is not None and rule.canonical(default) is None:
            problems.append(
                _problem(
                    layer,
                    None,
                    rule.field,
                    default,
                    f"unknown_values.{rule.layer}.{rule.field}: {default!r} is not a value "
                    f"the run knows; known: {', '.join(rule.known)}",
                )
            )
            continue
        values = layer.column(rule.field)
        new = values.copy()
        counts: dict[str, int] = {}
        for i, value in enumerate(values):
            if _missing(value):
                if rule.required:
                    problems.append(
                        _problem(layer, i, rule.field, None, "has no value", rule.used_by)
                    )
                continue
            if rule.canonical(value) is not None:
                continue
            if default is None:
                problems.append(
                    _problem(
                        layer,
                        i,
                        rule.field,
                        value,
                        f"{value!r} is not a value the run knows (known: "
                        f"{', '.join(rule.known)}); name what it counts as in the spec's "
                        f"unknown_values: {{{rule.layer}: {{{rule.field}: …}}}}",
                        rule.used_by,
                    )
                )
            else:
                new[i] = default
                counts[str(value)] = counts.get(str(value), 0) + 1
        if counts:
            props = layer.properties.copy()
            props[rule.field] = new
            layers[rule.layer] = replace(layer, properties=props)
            replaced += [
                {
                    "layer": rule.layer,
                    "field": rule.field,
                    "value": value,
                    "counted_as": default,
                    "features": n,
                }
                for value, n in sorted(counts.items())
            ]
    terreinen = inputs.get(inputs.bedrijventerreinen)
    if terreinen is not None:
        needed = [("bruto_ha", bruto_source == "attribute", "bruto_source: attribute")]
        needed.append(("gemeente", attribution == "attribute", "attribution: attribute"))
        for fld, applies, why in needed:
            if not applies:
                continue
            values = terreinen.numbers(fld) if fld == "bruto_ha" else terreinen.column(fld)
            for i, value in enumerate(values):
                if _missing(value):
                    problems.append(_problem(terreinen, i, fld, None, "has no value", [why]))
    if problems:
        raise UnknownValues(problems)
    return CheckedValues(inputs=replace(inputs, layers=layers), replaced=replaced)


def _problem(
    layer: LayerData,
    index: int | None,
    fld: str,
    value: Any,
    what: str,
    used_by: list[str] | None = None,
) -> dict[str, Any]:
    fid = int(layer.fids[index]) if index is not None else None
    naam = layer.column("naam")[index] if index is not None else None
    feature = "" if fid is None else f", feature fid {fid}"
    if naam is not None and not _missing(naam):
        feature += f" (naam {str(naam)[:50]!r})"
    use = f" [used by {', '.join(used_by)}]" if used_by else ""
    return {
        "layer": layer.name,
        "version": layer.version,
        "fid": fid,
        "field": fld,
        "value": None if value is None else str(value),
        "msg": f"layer {layer.name} v{layer.version}{feature}, field {fld}: {what}{use}",
    }
