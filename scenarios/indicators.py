"""The Ruimte indicators of the MTS Circulaire samenleving, and the status per gemeente.

1. **Landgebruik** in the province per class, in thousands of ha (area of the landgebruik
   polygons inside the gemeenten, from EPSG:28992 geometry).
2. **HMC-benutting** (% of the space intended for HMC firms that HMC firms actually use)::

       100 × Σ_t min(netto_t, Σ_{v on t, cat(v) ≥ drempel} oppervlakte_v) ÷ Σ_t netto_t

   over the HMC terreinen t (max_milieucategorie ≥ the HMC threshold); a vestiging v is
   on t when its point lies in t's polygon; ``oppervlakte`` is its kavel (oppervlakte_ha).
   Vestigingen without an oppervlakte do not count (their number is reported). The share
   of the vestigingen on HMC terreinen that are HMC firms is reported beside it.
3. **Ruimtevraag versus beschikbare ruimte** per gemeente: demand, supply, coverage and
   status (groen / oranje / rood, thresholds from the spec), from :mod:`scenarios.balance`.
4. **Strategische locaties beschikbaar in 2035** (:func:`strategische_locaties`): the
   capaciteit_ha and number of locations available by the target year
   (:func:`available_by`) against the spec's target, groen / oranje / rood.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers.milieucategorie import MilieucategorieTable
from scenarios.current import hmc_mask
from scenarios.errors import ScenarioError
from scenarios.inputs import Inputs
from scenarios.milieuzonering import terrein_gemeente
from scenarios.units import Gemeenten
from spatial.overlay import split_by_zones

HA = 10_000.0


def landgebruik(inputs: Inputs, gemeenten: Gemeenten) -> dict | None:
    """Landgebruik per class (thousands of ha, and ha) inside the gemeenten; None without one.

    Examples
    --------
    >>> from scenarios.inputs import LayerData
    >>> square = np.array([shapely.box(0, 0, 1000, 1000)])
    >>> g = Gemeenten(np.array(["GM0001"]), np.array(["A"]), square, np.array([None]))
    >>> parts = np.array([shapely.box(0, 0, 1000, 600), shapely.box(0, 600, 1000, 1000)])
    >>> klassen = pd.DataFrame({"klasse": ["agrarisch", "water"]})
    >>> lg = LayerData("lg", "landgebruik", 1, parts, klassen)
    >>> rows = landgebruik(Inputs({"lg": lg}, "g", "t", landgebruik="lg"), g)["per_klasse"]
    >>> [(r["klasse"], r["ha"], r["duizend_ha"]) for r in rows]
    [('agrarisch', 60.0, 0.06), ('water', 40.0, 0.04)]
    """
    layer = inputs.get(inputs.landgebruik)
    if layer is None:
        return None
    pieces = split_by_zones(layer.geometries, gemeenten.geometries)
    klasse = layer.column("klasse")[pieces.feature].astype(str)
    ha = pd.Series(pieces.area / HA).groupby(klasse).sum().sort_index()
    rows = [{"klasse": k, "ha": float(v), "duizend_ha": float(v) / 1000.0} for k, v in ha.items()]
    total = float(ha.sum())
    return {
        "layer": layer.name,
        "per_klasse": rows,
        "total_ha": total,
        "total_duizend_ha": total / 1000.0,
    }


def hmc_benutting(
    inputs: Inputs, gemeenten: Gemeenten, table: MilieucategorieTable, threshold: str
) -> dict | None:
    """HMC utilisation % of the province and per gemeente (see the module docstring)."""
    terreinen = inputs.get(inputs.bedrijventerreinen)
    vestigingen = inputs.get(inputs.vestigingen)
    if terreinen is None or vestigingen is None:
        return None
    hmc_t = hmc_mask(terreinen.column("max_milieucategorie"), table, threshold)
    netto = np.nan_to_num(terreinen.numbers("netto_ha"), nan=0.0)
    tree = shapely.STRtree(terreinen.geometries)
    v_idx, t_idx = tree.query(vestigingen.geometries, predicate="intersects")
    first = np.unique(v_idx, return_index=True)[1]  # a point on a shared edge counts once
    v_idx, t_idx = v_idx[first], t_idx[first]
    on_hmc = hmc_t[t_idx]
    v_idx, t_idx = v_idx[on_hmc], t_idx[on_hmc]
    v_hmc = hmc_mask(vestigingen.column("milieucategorie"), table, threshold)[v_idx]
    area = vestigingen.numbers("oppervlakte_ha")[v_idx]
    has_area = np.isfinite(area)
    used = np.bincount(
        t_idx, weights=np.where(v_hmc & has_area, area, 0.0), minlength=len(terreinen)
    )
    used = np.minimum(used, netto)
    owner = terrein_gemeente(terreinen, gemeenten)
    per_gemeente = {}
    for code in gemeenten.statcodes:
        mask = hmc_t & (owner == code)
        denominator = float(netto[mask].sum())
        per_gemeente[str(code)] = {
            "hmc_netto_ha": denominator,
            "hmc_gebruikt_ha": float(used[mask].sum()),
            "pct": 100.0 * float(used[mask].sum()) / denominator if denominator > 0 else None,
        }
    denominator = float(netto[hmc_t].sum())
    numerator = float(used[hmc_t].sum())
    return {
        "definition": (
            "100 × Σ min(netto_ha, oppervlakte_ha van vestigingen met milieucategorie ≥ drempel) "
            "÷ Σ netto_ha, over bedrijventerreinen met max_milieucategorie ≥ drempel"
        ),
        "threshold": threshold,
        "hmc_terreinen": int(hmc_t.sum()),
        "hmc_netto_ha": denominator,
        "hmc_gebruikt_ha": numerator,
        "pct": 100.0 * numerator / denominator if denominator > 0 else None,
        "vestigingen_op_hmc_terreinen": int(len(v_idx)),
        "hmc_vestigingen_op_hmc_terreinen": int(v_hmc.sum()),
        "pct_vestigingen_hmc": 100.0 * float(v_hmc.sum()) / len(v_idx) if len(v_idx) else None,
        "vestigingen_zonder_oppervlakte": int((~has_area).sum()),
        "per_gemeente": per_gemeente,
    }


def ruimtevraag(rows: list[dict]) -> list[dict]:
    """Ruimtevraag versus beschikbare ruimte per gemeente, from the result rows."""
    keys = ("statcode", "naam", "demand_ha", "supply_ha", "uncovered_ha", "coverage", "status")
    return [{k: row[k] for k in keys} for row in rows]


def available_by(
    status: np.ndarray,
    beschikbaar_vanaf: np.ndarray | None,
    year: int | None,
    available_statuses: list[str],
) -> np.ndarray:
    """Which strategische locaties are available by ``year``: their status is one of
    ``available_statuses`` (available now), or their ``beschikbaar_vanaf`` (year) is
    ``year`` or earlier. ``year`` None: by status only (what is available today).

    The one definition of "available" (the monitor uses it too).

    Examples
    --------
    >>> available_by(np.array(["beschikbaar", "verkenning", "voorgesteld"]),
    ...              np.array([np.nan, 2030, 2040]), 2035, ["beschikbaar"]).tolist()
    [True, True, False]
    """
    out = np.isin(np.asarray(status).astype(str), available_statuses)
    if year is not None and beschikbaar_vanaf is not None:
        years = np.asarray(beschikbaar_vanaf, dtype=float)
        out |= np.nan_to_num(years, nan=np.inf) <= year
    return out


def location_statuses() -> list[str]:
    """The statuses of the strategische_locaties kind (``layers/data/kinds.yaml``)."""
    from layers.kinds import load_kinds

    return list(load_kinds()["strategische_locaties"].fields["status"].values)


def strategische_locaties(
    inputs: Inputs, gemeenten: Gemeenten, target: Any, known_statuses: list[str]
) -> dict | None:
    """Strategische locaties available by ``target.year`` (ha and count), per gemeente and in
    total, against ``target`` (:class:`scenarios.spec.StrategischeLocatiesTarget`); None
    without a strategische_locaties layer. A status outside ``known_statuses`` fails,
    naming it."""
    loc = inputs.get(inputs.strategische_locaties)
    if loc is None:
        return None
    status = loc.column("status").astype(str)
    unknown = sorted(set(status) - set(known_statuses))
    if unknown:
        raise ScenarioError(
            f"layer {loc.name!r} version {loc.version}: status {unknown} of strategische "
            f"locaties is not one of {', '.join(known_statuses)}"
        )
    years = loc.numbers("beschikbaar_vanaf")
    cap = np.nan_to_num(loc.numbers("capaciteit_ha"), nan=0.0)
    ok = available_by(status, years, target.year, target.available_statuses)
    owner = loc.column("gemeente").astype(str)
    per_gemeente = {}
    for code in gemeenten.statcodes.astype(str):
        mine = owner == code
        per_gemeente[code] = {
            "available_ha": float(cap[mine & ok].sum()),
            "available_count": int(np.count_nonzero(mine & ok)),
            "total_ha": float(cap[mine].sum()),
            "total_count": int(np.count_nonzero(mine)),
        }
    available_ha, available_count = float(cap[ok].sum()), int(np.count_nonzero(ok))
    shares = []
    if target.target_ha:
        shares.append(available_ha / target.target_ha)
    if target.target_count:
        shares.append(available_count / target.target_count)
    share = min(shares) if shares else None
    if share is None:
        state, reason = None, "geen doel in de spec (indicators.strategische_locaties)"
    elif share >= 1:
        state, reason = "groen", f"het doel voor {target.year} is gehaald"
    elif share >= target.oranje_from:
        state, reason = "oranje", f"minstens {target.oranje_from:.0%} van het doel gehaald"
    else:
        state, reason = "rood", f"minder dan {target.oranje_from:.0%} van het doel gehaald"
    return {
        "layer": loc.name,
        "year": target.year,
        "available_ha": available_ha,
        "available_count": available_count,
        "total_ha": float(cap.sum()),
        "total_count": len(cap),
        "target_ha": target.target_ha,
        "target_count": target.target_count,
        "share": share,
        "status": state,
        "reason": reason,
        "available_statuses": list(target.available_statuses),
        "per_gemeente": per_gemeente,
    }
