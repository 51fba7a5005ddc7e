"""Current ruimtebeslag: the terreinen split over gemeenten, and their ha per gemeente.

Two choices (spec fields, else the planning settings):

``bruto_source``
    ``attribute`` (default): the terrein's ``bruto_ha`` (IBIS, the figure the province and
    PBL report); ``geometry``: its polygon area (area ÷ 10,000 in EPSG:28992).
``attribution``
    ``area_share`` (default): every figure of a terrein is shared out over the gemeenten by
    the part of its area in each (``figure × area(t ∩ g) / area(t)``; a terrein with 40% of
    its area in a gemeente brings 40% of its bruto and netto ha there; parts outside every
    gemeente count nowhere); ``attribute``: the whole terrein goes to the gemeente of its
    ``gemeente`` field, as IBIS counts (terreinen coded for a gemeente outside the run count
    nowhere).

Netto, uitgegeven and uitgeefbaar ha are the IBIS attributes, attributed the same way, so
the bruto, netto and HMC figures of a gemeente always describe the same terreinen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from layers.milieucategorie import MilieucategorieTable
from scenarios.inputs import LayerData
from scenarios.spec import Attribution, BrutoSource
from scenarios.units import Gemeenten
from spatial.overlay import split_by_zones

HA = 10_000.0
#: IBIS attributes shared out by area, and the name of their column in the pieces.
SHARED_FIELDS = {
    "netto_ha": "netto_ha",
    "uitgegeven_ha": "uitgegeven_ha",
    "uitgeefbaar_ha": "uitgeefbaar_ha",
}
SELECTION_FIELDS = ("type_werklocatie", "terreintype", "planstatus")
FIGURES = ("bruto_ha", "netto_ha", "uitgegeven_ha", "uitgeefbaar_ha")


@dataclass(frozen=True)
class FigureDefaults:
    """What a run uses where its spec names no bruto source or attribution.

    The app passes the planning settings (``RUIMTE_PLANNING_BRUTO_SOURCE``,
    ``RUIMTE_PLANNING_ATTRIBUTION``, ``RUIMTE_PLANNING_BRUTO_TOLERANCE_PCT``); these
    defaults are the same as the settings' own.
    """

    bruto_source: BrutoSource = "attribute"
    attribution: Attribution = "area_share"
    bruto_tolerance_pct: float = 5.0


def hmc_mask(codes: np.ndarray, table: MilieucategorieTable, threshold: str) -> np.ndarray:
    """True where a milieucategorie code is the HMC threshold or heavier.

    Examples
    --------
    >>> from layers.milieucategorie import load_table
    >>> hmc_mask(np.array(["3.2", "4", "5.1", None], dtype=object), load_table(), "4").tolist()
    [False, True, True, False]
    """
    limit = table.get(table.normalise(threshold) or threshold).value
    values = {row.code: row.value for row in table.rows}
    seen: dict[object, bool] = {}
    out = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        if code not in seen:
            norm = table.normalise(code)
            seen[code] = norm is not None and values[norm] >= limit
        out[i] = seen[code]
    return out


def terrein_pieces(
    terreinen: LayerData,
    gemeenten: Gemeenten,
    table: MilieucategorieTable,
    hmc_threshold: str,
    *,
    bruto_source: BrutoSource,
    attribution: Attribution,
) -> pd.DataFrame:
    """One row per part of a terrein in a gemeente, with its ha and attributes.

    Parameters
    ----------
    terreinen
        The bedrijventerreinen layer.
    gemeenten
        The gemeenten (sorted by statcode).
    table
        The milieucategorie table.
    hmc_threshold
        The HMC threshold category (e.g. ``"4"``).
    bruto_source
        ``attribute``: bruto ha from ``bruto_ha`` × share; ``geometry``: the piece's area.
    attribution
        ``area_share``: one piece per part of a terrein in a gemeente; ``attribute``: one
        piece per terrein, in the gemeente of its ``gemeente`` field, with share 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``terrein`` (position in the layer), ``gemeente`` (position in
        ``gemeenten``), ``share``, ``bruto_ha``, ``netto_ha``, ``uitgegeven_ha``,
        ``uitgeefbaar_ha`` (attribute × share), ``hmc`` and the selection attributes.
        Parts outside every gemeente (``attribute``: terreinen coded for a gemeente not in
        ``gemeenten``) are left out.

    Examples
    --------
    >>> import shapely
    >>> from layers.milieucategorie import load_table
    >>> g = Gemeenten(np.array(["GM0001", "GM0002"]), np.array(["A", "B"]),
    ...               np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]),
    ...               np.array([None, None]))
    >>> t = LayerData("t", "bedrijventerreinen", 1, np.array([shapely.box(50, 0, 150, 100)]),
    ...               pd.DataFrame({"netto_ha": [0.8], "uitgegeven_ha": [0.6],
    ...                             "uitgeefbaar_ha": [0.2], "max_milieucategorie": ["4.2"]}))
    >>> p = terrein_pieces(t, g, load_table(), "4", bruto_source="geometry",
    ...                    attribution="area_share")
    >>> p[["gemeente", "bruto_ha", "netto_ha", "hmc"]].values.tolist()
    [[0, 0.5, 0.4, True], [1, 0.5, 0.4, True]]
    >>> t.properties["bruto_ha"], t.properties["gemeente"] = [1.1], ["GM0002"]
    >>> terrein_pieces(t, g, load_table(), "4", bruto_source="attribute",
    ...                attribution="area_share")["bruto_ha"].tolist()
    [0.55, 0.55]
    >>> p = terrein_pieces(t, g, load_table(), "4", bruto_source="attribute",
    ...                    attribution="attribute")
    >>> p["gemeente"].tolist(), p["bruto_ha"].tolist(), p["netto_ha"].tolist()
    ([1], [1.1], [0.8])
    """
    if attribution == "attribute":
        index = gemeenten.index
        coded = [
            index.get(str(c), -1) if c is not None else -1 for c in terreinen.column("gemeente")
        ]
        feature = np.flatnonzero(np.asarray(coded, dtype=np.int64) >= 0)
        zone = np.asarray(coded, dtype=np.int64)[feature]
        share = np.ones(len(feature))
        area = shapely.area(terreinen.geometries[feature]).astype(float)
    else:
        pieces = split_by_zones(terreinen.geometries, gemeenten.geometries)
        feature, zone, share, area = pieces.feature, pieces.zone, pieces.share, pieces.area
    if bruto_source == "attribute":
        bruto = terreinen.numbers("bruto_ha")[feature] * share
    else:
        bruto = area / HA
    columns: dict[str, np.ndarray] = {
        "terrein": feature,
        "gemeente": zone,
        "share": share,
        "bruto_ha": bruto,
    }
    for column in SHARED_FIELDS:
        values = np.nan_to_num(terreinen.numbers(column), nan=0.0)
        columns[column] = values[feature] * share
    categories = terreinen.column("max_milieucategorie")
    columns["hmc"] = hmc_mask(categories, table, hmc_threshold)[feature]
    columns["max_milieucategorie"] = categories[feature]
    for column in SELECTION_FIELDS:
        columns[column] = terreinen.column(column)[feature]
    return pd.DataFrame(columns)


def current_per_gemeente(pieces: pd.DataFrame, n_gemeenten: int) -> pd.DataFrame:
    """Current ruimtebeslag per gemeente: all terreinen and the HMC part.

    Parameters
    ----------
    pieces
        From :func:`terrein_pieces`.
    n_gemeenten
        Number of gemeenten (rows of the result, by position).

    Returns
    -------
    pandas.DataFrame
        ``current_bruto_ha``, ``current_netto_ha``, ``current_uitgegeven_ha``,
        ``current_uitgeefbaar_ha`` and the same with ``hmc_`` instead of ``current_``;
        one row per gemeente position, zeros where a gemeente has no terreinen.
    """
    gem = pieces["gemeente"].to_numpy(dtype=np.int64)
    hmc = pieces["hmc"].to_numpy(dtype=bool)
    columns: dict[str, np.ndarray] = {}
    for figure in FIGURES:
        ha = pieces[figure].to_numpy(dtype=float)
        columns[f"current_{figure}"] = np.bincount(gem, weights=ha, minlength=n_gemeenten)
    for figure in FIGURES:
        ha = np.where(hmc, pieces[figure].to_numpy(dtype=float), 0.0)
        columns[f"hmc_{figure}"] = np.bincount(gem, weights=ha, minlength=n_gemeenten)
    # pieces hold each (terrein, gemeente) pair once, so counting pieces counts terreinen
    columns["terreinen"] = np.bincount(gem, minlength=n_gemeenten)
    return pd.DataFrame(columns, index=pd.RangeIndex(n_gemeenten))
