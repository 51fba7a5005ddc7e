"""Ruimtevraag: extra ha per gemeente from growth of the current ruimtebeslag, plus claims.

For each demand category and each piece of a selected terrein in gemeente g::

    demand = growth_pct(g) / 100 × ha of the piece on the basis (bruto or netto)

where ``growth_pct(g)`` is the category's override for g, else for g's region, else the
category's own. The HMC part of the demand is the demand that grows from HMC terreinen
(new space for it must be HMC space). Claims add absolute ha to a gemeente, or to a
region, shared over its gemeenten in proportion to their current ha on the basis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.spec import Demand, DemandCategory, Selection
from scenarios.units import Gemeenten


def selected(pieces: pd.DataFrame, selection: Selection) -> np.ndarray:
    """Mask of the pieces whose terrein matches a category's selection.

    Examples
    --------
    >>> p = pd.DataFrame({"hmc": [True, False], "terreintype": ["zware_industrie", "gemengd"],
    ...                   "type_werklocatie": ["B", "B"], "planstatus": ["bestaand", "bestaand"]})
    >>> selected(p, Selection(hmc=True)).tolist()
    [True, False]
    """
    keep = np.ones(len(pieces), dtype=bool)
    if selection.hmc is not None:
        keep &= pieces["hmc"].to_numpy(dtype=bool) == selection.hmc
    for column in ("type_werklocatie", "terreintype", "planstatus"):
        wanted = getattr(selection, column)
        if wanted is not None:
            values = pieces[column].to_numpy(dtype=object)
            keep &= np.array([v in wanted for v in values], dtype=bool)
    return keep


def growth_per_gemeente(category: DemandCategory, gemeenten: Gemeenten) -> np.ndarray:
    """Growth in % for each gemeente: its override, else its region's, else the category's."""
    out = np.full(len(gemeenten), float(category.growth_pct))
    for i, (code, region) in enumerate(zip(gemeenten.statcodes, gemeenten.regions, strict=True)):
        if code in category.overrides:
            out[i] = category.overrides[code]
        elif region is not None and region in category.overrides:
            out[i] = category.overrides[region]
    return out


def demand_per_gemeente(pieces: pd.DataFrame, demand: Demand, gemeenten: Gemeenten) -> pd.DataFrame:
    """Extra ha per gemeente, per category, with the HMC part.

    Parameters
    ----------
    pieces
        Terrein pieces (:func:`scenarios.current.terrein_pieces`).
    demand
        The spec's demand.
    gemeenten
        The gemeenten (positions match ``pieces.gemeente``).

    Returns
    -------
    pandas.DataFrame
        ``demand_ha``, ``hmc_demand_ha``, ``growth_demand_ha``, ``claims_demand_ha`` and one
        ``demand_<category>_ha`` column per category, one row per gemeente position.

    Examples
    --------
    >>> import shapely
    >>> g = Gemeenten(np.array(["GM0001"]), np.array(["A"]), np.array([shapely.box(0, 0, 1, 1)]),
    ...               np.array([None]))
    >>> p = pd.DataFrame({"gemeente": [0, 0], "bruto_ha": [10.0, 5.0], "netto_ha": [8.0, 4.0],
    ...                   "hmc": [True, False], "type_werklocatie": ["B", "B"],
    ...                   "terreintype": [None, None], "planstatus": ["bestaand", "bestaand"]})
    >>> d = demand_per_gemeente(p, Demand(categories=[{"name": "alle", "growth_pct": 40}]), g)
    >>> d[["demand_ha", "hmc_demand_ha"]].values.tolist()
    [[6.0, 4.0]]
    """
    n = len(gemeenten)
    basis = f"{demand.basis}_ha"
    out: dict[str, np.ndarray] = {}
    total = np.zeros(n)
    hmc = np.zeros(n)
    gem = pieces["gemeente"].to_numpy(dtype=np.int64)
    ha = pieces[basis].to_numpy(dtype=float)
    is_hmc = pieces["hmc"].to_numpy(dtype=bool)
    for category in demand.categories:
        keep = selected(pieces, category.select)
        rate = growth_per_gemeente(category, gemeenten)[gem] / 100.0
        extra = np.where(keep, rate * ha, 0.0)
        per = np.bincount(gem, weights=extra, minlength=n)
        out[f"demand_{category.name}_ha"] = per
        total += per
        hmc += np.bincount(gem, weights=np.where(is_hmc, extra, 0.0), minlength=n)
    out["growth_demand_ha"] = total.copy()
    claims, claims_hmc = claims_per_gemeente(pieces, demand, gemeenten)
    out["claims_demand_ha"] = claims
    out["demand_ha"] = total + claims
    out["hmc_demand_ha"] = hmc + claims_hmc
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def claims_per_gemeente(
    pieces: pd.DataFrame, demand: Demand, gemeenten: Gemeenten
) -> tuple[np.ndarray, np.ndarray]:
    """Claims in ha per gemeente (all, and those that need HMC space)."""
    n = len(gemeenten)
    total, hmc = np.zeros(n), np.zeros(n)
    if not demand.claims:
        return total, hmc
    current = np.bincount(
        pieces["gemeente"].to_numpy(dtype=np.int64),
        weights=pieces[f"{demand.basis}_ha"].to_numpy(dtype=float),
        minlength=n,
    )
    index = gemeenten.index
    for claim in demand.claims:
        share = np.zeros(n)
        if claim.gemeente is not None:
            if claim.gemeente in index:
                share[index[claim.gemeente]] = 1.0
        else:
            members = np.array([r == claim.region for r in gemeenten.regions], dtype=bool)
            weights = np.where(members, current, 0.0)
            if weights.sum() > 0:
                share = weights / weights.sum()
            elif members.any():
                share = members / members.sum()
        total += claim.ha * share
        if claim.hmc:
            hmc += claim.ha * share
    return total, hmc
