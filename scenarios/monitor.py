"""The Ruimte monitor: the Ruimte indicators through time, milestones and editions.

Indicators *as of a peildatum* are computed from the layer versions valid on that date
(:func:`layers.history.versions_as_of`), read as the public sees them (published layers,
no drafts), so an edition can be shown to anyone. The indicators (keys of
``indicators:`` in ``monitor.yaml``):

``landgebruik_duizend_ha``
    Landgebruik inside the gemeenten, thousands of ha (:func:`scenarios.indicators.landgebruik`).
``hmc_benutting_pct``
    % of the HMC space that HMC firms use (:func:`scenarios.indicators.hmc_benutting`).
``reserveringen_hard_ha``, ``reserveringen_zacht_ha``
    Polygon area (EPSG:28992) of the reserveringen by status, in ha.
``gemeenten_met_harde_reservering_pct``
    100 × gemeenten with at least one hard reservering ÷ gemeenten.
``strategische_locaties_beschikbaar_pct``
    100 × Σ capaciteit_ha of the strategische locaties whose status counts as available
    ÷ Σ capaciteit_ha.

Per gemeente: reserveringen hard/zacht in ha (and their number), HMC-benutting and the
capacity of strategische locaties, each gemeente counted by the ``gemeente`` of the feature.

A *monitor edition* is a series over peildata (1 January of each year by default), stored
with the layer versions it read on each peildatum, the software version and the
configuration (with its SHA-256). It is computed once; :func:`check_edition` computes it
again from the pinned versions and reports any difference, never overwriting it.

Milestones (``milestones:``) give each target a status by the ``rules:`` of the same file:
the first rule whose conditions all hold; the reason is kept as its template and values,
formatted where it is shown (:func:`reason_text`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, select
from sqlalchemy.orm import defer

from layers.access import PUBLIC
from layers.errors import LayerNotFound
from layers.history import versions_as_of
from layers.milieucategorie import MilieucategorieTable, load_table
from layers.store import orm_session, read_features
from scenarios.errors import ScenarioError
from scenarios.indicators import HA, available_by, hmc_benutting, landgebruik
from scenarios.inputs import Inputs, LayerData
from scenarios.monitor_models import MonitorEdition
from scenarios.units import Gemeenten

DEFAULT_CONFIG = Path(__file__).with_name("monitor.yaml")

#: The indicators the computation knows (the configuration labels them).
INDICATORS = (
    "landgebruik_duizend_ha",
    "hmc_benutting_pct",
    "reserveringen_hard_ha",
    "reserveringen_zacht_ha",
    "gemeenten_met_harde_reservering_pct",
    "strategische_locaties_beschikbaar_pct",
)
ROLES = (
    "gemeenten",
    "bedrijventerreinen",
    "reserveringen",
    "strategische_locaties",
    "vestigingen",
    "landgebruik",
)
Condition = Literal[
    "geen_waarde", "doel_gehaald", "binnen_marge", "voor_deadline", "na_deadline", "altijd"
]
Colour = Literal["groen", "oranje", "rood"]


class MonitorError(ScenarioError):
    """A monitor configuration, peildatum or edition problem (400/404 in the API)."""


class EditionNotFound(MonitorError):
    """No monitor edition with that id."""

    status = 404


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorDef(_Strict):
    """How an indicator is labelled and shown."""

    label: str
    unit: str
    decimals: int = Field(ge=0, le=6)


class Milestone(_Strict):
    """A target of an indicator by the end of a year."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    indicator: str
    year: int = Field(ge=2000, le=2100)
    target: float
    direction: Literal["hoger", "lager"]
    margin: float = Field(ge=0)

    @property
    def deadline(self) -> date:
        """The peildatum by which the target must be met: 1 January after ``year``."""
        return date(self.year + 1, 1, 1)


class Rule(_Strict):
    """A status rule: the status when all conditions hold, and its reason."""

    status: Colour
    when: list[Condition] = Field(min_length=1)
    reason: str


class LocatieStatuses(_Strict):
    """Statuses of strategische locaties that do and do not count as available."""

    beschikbaar: list[str]
    niet_beschikbaar: list[str]


class MonitorConfig(_Strict):
    """The monitor configuration (``scenarios/monitor.yaml`` or the file of the setting)."""

    layers: dict[str, str]
    hmc_threshold: str
    first_year: int = Field(ge=2000, le=2100)
    strategische_locaties: LocatieStatuses
    indicators: dict[str, IndicatorDef]
    milestones: list[Milestone]
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> MonitorConfig:
        problems = []
        if unknown := sorted(set(self.layers) - set(ROLES)):
            problems.append(f"layers: unknown roles {unknown}; known: {list(ROLES)}")
        if missing := [r for r in ROLES if r not in self.layers]:
            problems.append(f"layers: missing roles {missing}")
        if unknown := sorted(set(self.indicators) - set(INDICATORS)):
            problems.append(f"indicators: unknown {unknown}; known: {list(INDICATORS)}")
        if missing := [i for i in INDICATORS if i not in self.indicators]:
            problems.append(f"indicators: missing {missing}")
        for m in self.milestones:
            if m.indicator not in INDICATORS:
                problems.append(f"milestone {m.id!r}: unknown indicator {m.indicator!r}")
        ids = [m.id for m in self.milestones]
        if len(set(ids)) != len(ids):
            problems.append(f"milestones: ids must be unique, got {ids}")
        if "altijd" not in {c for r in self.rules for c in r.when}:
            problems.append("rules: the last rule must hold always (when: [altijd])")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_config(path: str | Path | None = None) -> tuple[MonitorConfig, dict[str, Any]]:
    """The monitor configuration and its raw mapping (stored with an edition)."""
    file = Path(path) if path else DEFAULT_CONFIG
    return _load_config(str(file.resolve()))


@lru_cache(maxsize=8)
def _load_config(path: str) -> tuple[MonitorConfig, dict[str, Any]]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MonitorError(f"monitor configuration {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise MonitorError(f"monitor configuration {path} is not valid YAML: {exc}") from exc
    return parse_config(raw, path), raw


def parse_config(raw: Any, where: str = "monitor configuration") -> MonitorConfig:
    """Validate a configuration mapping; :class:`MonitorError` lists every problem."""
    try:
        return MonitorConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        ]
        raise MonitorError(f"{where} is invalid: " + "; ".join(lines)) from None


def canonical_hash(value: Any) -> str:
    """SHA-256 of canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def software_version() -> str:
    """The installed version of ruimte-circulair."""
    try:
        return version("ruimte-circulair")
    except PackageNotFoundError:  # pragma: no cover - a tree without install
        return "unknown"


def default_peildata(config: MonitorConfig, today: date) -> list[date]:
    """1 January of every year from ``first_year`` up to ``today``.

    >>> cfg, _ = load_config()
    >>> [d.isoformat() for d in default_peildata(cfg, date(2026, 12, 2))]
    ['2025-01-01', '2026-01-01']
    """
    return [date(y, 1, 1) for y in range(config.first_year, today.year + 1)]


# -- figures on one peildatum ------------------------------------------------------------


def read_as_of(conn: Connection, config: MonitorConfig, peildatum: date) -> Inputs:
    """The monitor's layers as the public saw them on ``peildatum`` (absent ones noted)."""
    versions = versions_as_of(conn, set(config.layers.values()), peildatum, PUBLIC)
    return read_pinned(conn, config, versions)


def read_pinned(conn: Connection, config: MonitorConfig, versions: dict[str, int]) -> Inputs:
    """The monitor's layers at the given versions, without drafts, as :class:`Inputs`."""
    layers: dict[str, LayerData] = {}
    notes = []
    for role in ROLES:
        name = config.layers[role]
        if name in layers:
            continue
        if name not in versions:
            notes.append(f"laag {name!r} ({role}) bestond nog niet of is niet gepubliceerd")
            continue
        try:
            frame = read_features(conn, name, versions[name], PUBLIC)
        except LayerNotFound:
            notes.append(f"laag {name!r} ({role}) bestaat niet meer of is niet gepubliceerd")
            continue
        layers[name] = LayerData(
            name=name,
            kind=frame.info.kind,
            version=frame.info.version,
            geometries=frame.geometries,
            properties=frame.properties,
            fids=frame.fids,
            synthetic=frame.info.provenance.synthetic,
        )
    role = {r: config.layers[r] if config.layers[r] in layers else None for r in ROLES}
    return Inputs(
        layers=layers,
        gemeenten=role["gemeenten"],
        bedrijventerreinen=role["bedrijventerreinen"],
        reserveringen=role["reserveringen"],
        strategische_locaties=role["strategische_locaties"],
        vestigingen=role["vestigingen"],
        landgebruik=role["landgebruik"],
        notes=notes,
    )


def _per_owner(layer: LayerData | None, codes: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """Sum of ``values`` per owning gemeente statcode (field ``gemeente``)."""
    out: dict[str, float] = {}
    if layer is None:
        return out
    for code, v in zip(layer.column("gemeente"), values, strict=True):
        if code is not None and str(code) in codes:
            out[str(code)] = out.get(str(code), 0.0) + float(v)
    return out


def figures(inputs: Inputs, config: MonitorConfig, table: MilieucategorieTable) -> dict[str, Any]:
    """Every indicator, province-wide and per gemeente, from layers as read (pure)."""
    gem_layer = inputs.get(inputs.gemeenten)
    if gem_layer is None or len(gem_layer) == 0:
        return {
            "indicators": dict.fromkeys(INDICATORS),
            "landgebruik": None,
            "per_gemeente": [],
        }
    gemeenten = Gemeenten.from_layer(gem_layer)
    codes = set(gemeenten.statcodes.tolist())
    res = inputs.get(inputs.reserveringen)
    hard: dict[str, float] = {}
    zacht: dict[str, float] = {}
    count: dict[str, float] = {}
    if res is not None:
        import shapely

        area = shapely.area(res.geometries) / HA
        status = res.column("status")
        for label, target in (("hard", hard), ("zacht", zacht)):
            target.update(_per_owner(res, codes, np.where(status == label, area, 0.0)))
        unknown = sorted({str(s) for s in status if s not in ("hard", "zacht")})
        if unknown:
            raise MonitorError(
                f"layer {res.name!r} version {res.version}: unknown reservering status "
                f"{unknown}; known: hard, zacht"
            )
        count = _per_owner(res, codes, np.ones(len(res)))
    loc = inputs.get(inputs.strategische_locaties)
    loc_ha: dict[str, float] = {}
    beschikbaar_pct = None
    if loc is not None:
        cap = np.nan_to_num(loc.numbers("capaciteit_ha"), nan=0.0)
        status = loc.column("status")
        known = set(config.strategische_locaties.beschikbaar) | set(
            config.strategische_locaties.niet_beschikbaar
        )
        unknown = sorted({str(s) for s in status if s not in known})
        if unknown:
            raise MonitorError(
                f"layer {loc.name!r} version {loc.version}: strategische-locatie status "
                f"{unknown} is in neither list of the monitor configuration "
                f"(strategische_locaties.beschikbaar / niet_beschikbaar)"
            )
        # available today: by status only (scenarios.indicators.available_by, year None)
        available = available_by(status, None, None, config.strategische_locaties.beschikbaar)
        loc_ha = _per_owner(loc, codes, cap)
        total = float(cap.sum())
        beschikbaar_pct = 100.0 * float(cap[available].sum()) / total if total > 0 else None
    lg = landgebruik(inputs, gemeenten)
    hmc = hmc_benutting(inputs, gemeenten, table, config.hmc_threshold)
    hmc_per = (hmc or {}).get("per_gemeente", {})
    rows = []
    for code, naam in zip(gemeenten.statcodes, gemeenten.namen, strict=True):
        code = str(code)
        rows.append(
            {
                "statcode": code,
                "naam": str(naam),
                "reserveringen_hard_ha": hard.get(code, 0.0) if res is not None else None,
                "reserveringen_zacht_ha": zacht.get(code, 0.0) if res is not None else None,
                "reserveringen_n": int(count.get(code, 0)) if res is not None else None,
                "strategische_locaties_ha": loc_ha.get(code, 0.0) if loc is not None else None,
                "hmc_netto_ha": (hmc_per.get(code) or {}).get("hmc_netto_ha"),
                "hmc_benutting_pct": (hmc_per.get(code) or {}).get("pct"),
            }
        )
    n_hard = sum(1 for r in rows if (r["reserveringen_hard_ha"] or 0) > 0)
    return {
        "indicators": {
            "landgebruik_duizend_ha": lg["total_duizend_ha"] if lg else None,
            "hmc_benutting_pct": hmc["pct"] if hmc else None,
            "reserveringen_hard_ha": sum(hard.values()) if res is not None else None,
            "reserveringen_zacht_ha": sum(zacht.values()) if res is not None else None,
            "gemeenten_met_harde_reservering_pct": (
                100.0 * n_hard / len(rows) if res is not None else None
            ),
            "strategische_locaties_beschikbaar_pct": beschikbaar_pct,
        },
        "landgebruik": lg["per_klasse"] if lg else None,
        "per_gemeente": rows,
    }


def provenance(inputs: Inputs) -> dict[str, dict[str, Any]]:
    """Per layer read: version and whether it is synthetic."""
    return {
        name: {"kind": layer.kind, "version": layer.version, "synthetic": layer.synthetic}
        for name, layer in sorted(inputs.layers.items())
    }


def figures_at(
    conn: Connection,
    config: MonitorConfig,
    peildatum: date,
    table: MilieucategorieTable | None = None,
    versions: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The figures on one peildatum (``versions`` pins the layer versions to read)."""
    inputs = (
        read_pinned(conn, config, versions)
        if versions is not None
        else read_as_of(conn, config, peildatum)
    )
    out = {"peildatum": peildatum.isoformat(), "layers": inputs.versions}
    out.update(figures(inputs, config, table or load_table()))
    out["provenance"] = provenance(inputs)
    out["synthetic"] = inputs.synthetic
    out["notes"] = list(inputs.notes)
    out["milestones"] = milestone_statuses(config, peildatum, out["indicators"])
    return out


# -- milestones ------------------------------------------------------------------------------


def _holds(cond: str, m: Milestone, peildatum: date, value: float | None) -> bool:
    if cond == "altijd":
        return True
    if cond == "geen_waarde":
        return value is None
    if cond == "voor_deadline":
        return peildatum < m.deadline
    if cond == "na_deadline":
        return peildatum >= m.deadline
    if value is None:
        return False
    gap = (m.target - value) if m.direction == "hoger" else (value - m.target)
    if cond == "doel_gehaald":
        return gap <= 0
    if cond == "binnen_marge":
        return 0 < gap <= m.margin
    raise MonitorError(f"unknown rule condition {cond!r}")  # pragma: no cover - Literal


def milestone_status(
    config: MonitorConfig, m: Milestone, peildatum: date, value: float | None
) -> dict[str, Any]:
    """The status of one milestone on a peildatum: the first rule that holds."""
    for i, rule in enumerate(config.rules):
        if all(_holds(c, m, peildatum, value) for c in rule.when):
            return {
                "id": m.id,
                "title": m.title,
                "indicator": m.indicator,
                "year": m.year,
                "target": m.target,
                "margin": m.margin,
                "direction": m.direction,
                "value": value,
                "status": rule.status,
                "rule": i,
                "reason_template": rule.reason,
            }
    raise MonitorError(  # the configuration check makes this unreachable
        f"no rule holds for milestone {m.id!r}"
    )


def milestone_statuses(
    config: MonitorConfig, peildatum: date, indicators: dict[str, float | None]
) -> list[dict[str, Any]]:
    """Every milestone's status on ``peildatum``."""
    return [
        milestone_status(config, m, peildatum, indicators.get(m.indicator))
        for m in config.milestones
    ]


def reason_text(
    status: dict[str, Any], config: MonitorConfig, number: Callable[[Any, int], str]
) -> str:
    """The reason of a milestone status in words; ``number`` formats (value, decimals)."""
    ind = config.indicators.get(status["indicator"])
    decimals = ind.decimals if ind else 1
    return status["reason_template"].format(
        indicator=ind.label if ind else status["indicator"],
        waarde=number(status["value"], decimals) if status["value"] is not None else "onbekend",
        doel=number(status["target"], decimals),
        marge=number(status["margin"], decimals),
        jaar=status["year"],
        eenheid=ind.unit if ind else "",
    )


# -- editions --------------------------------------------------------------------------------


def compute_series(
    conn: Connection,
    config: MonitorConfig,
    peildata: Sequence[date],
    table: MilieucategorieTable | None = None,
    pinned: dict[str, dict[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """Figures per peildatum (``pinned``: {peildatum: versions} to read instead of as-of)."""
    table = table or load_table()
    return [
        figures_at(conn, config, d, table, (pinned or {}).get(d.isoformat()) if pinned else None)
        for d in peildata
    ]


def check_peildata(peildata: Sequence[date], today: date) -> list[date]:
    """Sorted distinct peildata, none in the future (an error names it)."""
    if not peildata:
        raise MonitorError("an edition needs at least one peildatum")
    future = [d.isoformat() for d in peildata if d > today]
    if future:
        raise MonitorError(
            f"peildatum {', '.join(future)} is in the future (today is {today.isoformat()})"
        )
    return sorted(set(peildata))


def create_edition(
    conn: Connection,
    config: MonitorConfig,
    raw_config: dict[str, Any],
    peildata: Sequence[date],
    *,
    today: date,
    title: str = "",
    created_by: str | None = None,
    table: MilieucategorieTable | None = None,
) -> int:
    """Compute a series and store it as a new edition (in the caller's transaction); its id."""
    days = check_peildata(peildata, today)
    series = compute_series(conn, config, days, table)
    result = {"series": series}
    row = conn.execute(
        MonitorEdition.__table__.insert()
        .values(
            title=title or f"Ruimtemonitor {days[-1].year}",
            peildata=[d.isoformat() for d in days],
            layer_versions={s["peildatum"]: s["layers"] for s in series},
            software_version=software_version(),
            config=raw_config,
            config_hash=canonical_hash(raw_config),
            result=result,
            synthetic=any(s["synthetic"] for s in series),
            created_by=created_by,
        )
        .returning(MonitorEdition.id)
    )
    return int(row.scalar_one())


def get_edition(conn: Connection, edition_id: int) -> MonitorEdition:
    """A stored edition (:class:`EditionNotFound` when there is none)."""
    found = orm_session(conn).get(MonitorEdition, edition_id)
    if found is None:
        raise EditionNotFound(f"no monitor edition {edition_id}")
    return found


def list_editions(conn: Connection) -> list[MonitorEdition]:
    """Every edition, newest first, without its figures, configuration and versions (read
    :func:`get_edition` for those)."""
    stmt = (
        select(MonitorEdition)
        .options(
            defer(MonitorEdition.result, raiseload=True),
            defer(MonitorEdition.config, raiseload=True),
            defer(MonitorEdition.layer_versions, raiseload=True),
        )
        .order_by(MonitorEdition.id.desc())
    )
    return list(orm_session(conn).execute(stmt).scalars())


def previous_edition(conn: Connection, edition_id: int) -> MonitorEdition | None:
    """The edition stored before ``edition_id`` (None for the first)."""
    return (
        orm_session(conn)
        .execute(
            select(MonitorEdition)
            .where(MonitorEdition.id < edition_id)
            .order_by(MonitorEdition.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def edition_config(edition: MonitorEdition) -> MonitorConfig:
    """The configuration an edition was computed with."""
    return parse_config(edition.config, f"the configuration of edition {edition.id}")


def check_edition(
    conn: Connection, edition: MonitorEdition, table: MilieucategorieTable | None = None
) -> dict[str, Any]:
    """Compute an edition again from its pinned layer versions and configuration; compare.

    Returns ``{"identical": bool, "differences": [...], "software_version": ...}``; the stored
    edition is never changed.
    """
    config = edition_config(edition)
    days = [date.fromisoformat(d) for d in edition.peildata]
    again = compute_series(conn, config, days, table, pinned=edition.layer_versions)
    diffs = []
    for old, new in zip(edition.result["series"], again, strict=True):
        for key in sorted(set(old) | set(new)):
            if json.dumps(old.get(key), sort_keys=True) != json.dumps(new.get(key), sort_keys=True):
                diffs.append({"peildatum": old["peildatum"], "field": key})
    return {
        "edition": edition.id,
        "identical": not diffs,
        "differences": diffs,
        "stored_software_version": edition.software_version,
        "software_version": software_version(),
    }


def changes(previous: MonitorEdition | None, edition: MonitorEdition) -> dict[str, Any]:
    """What changed since the previous edition, on each one's last peildatum: indicator
    deltas, milestone status changes, and gemeenten whose reserveringen changed."""
    if previous is None:
        return {"previous": None, "indicators": {}, "milestones": {}, "gemeenten": {}}
    old, new = previous.result["series"][-1], edition.result["series"][-1]
    ind = {}
    for key, value in new["indicators"].items():
        before = old["indicators"].get(key)
        if value != before:
            ind[key] = {
                "before": before,
                "after": value,
                "delta": value - before if value is not None and before is not None else None,
            }
    before_status = {m["id"]: m["status"] for m in old.get("milestones", [])}
    ms = {
        m["id"]: {"before": before_status.get(m["id"]), "after": m["status"]}
        for m in new.get("milestones", [])
        if before_status.get(m["id"]) != m["status"]
    }
    old_rows = {r["statcode"]: r for r in old["per_gemeente"]}
    gem = {}
    for row in new["per_gemeente"]:
        prev = old_rows.get(row["statcode"], {})
        changed = {
            k: {"before": prev.get(k), "after": row[k]}
            for k in ("reserveringen_hard_ha", "reserveringen_zacht_ha", "hmc_benutting_pct")
            if prev.get(k) != row[k]
        }
        if changed:
            gem[row["statcode"]] = changed
    return {
        "previous": {"id": previous.id, "title": previous.title, "peildatum": old["peildatum"]},
        "indicators": ind,
        "milestones": ms,
        "gemeenten": gem,
    }
