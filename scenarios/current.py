"""Current ruimtebeslag: the terreinen split over gemeenten, and their ha per gemeente.

Bruto ha come from the geometry (area ÷ 10,000 in EPSG:28992); netto, uitgegeven and
uitgeefbaar ha are the IBIS attributes, shared out over gemeenten by the terrein's area
in each (a terrein with 40% of its area in a gemeente brings 40% of its netto ha there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.milieucategorie import MilieucategorieTable
from scenarios.inputs import LayerData
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
    terreinen: LayerData, gemeenten: Gemeenten, table: MilieucategorieTable, hmc_threshold: str
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

    Returns
    -------
    pandas.DataFrame
        Columns ``terrein`` (position in the layer), ``gemeente`` (position in
        ``gemeenten``), ``share``, ``bruto_ha`` (area of the piece), ``netto_ha``,
        ``uitgegeven_ha``, ``uitgeefbaar_ha`` (attribute × share), ``hmc`` and the
        selection attributes. Parts outside every gemeente are left out.

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
    >>> p = terrein_pieces(t, g, load_table(), "4")
    >>> p[["gemeente", "bruto_ha", "netto_ha", "hmc"]].values.tolist()
    [[0, 0.5, 0.4, True], [1, 0.5, 0.4, True]]
    """
    pieces = split_by_zones(terreinen.geometries, gemeenten.geometries)
    columns: dict[str, np.ndarray] = {
        "terrein": pieces.feature,
        "gemeente": pieces.zone,
        "share": pieces.share,
        "bruto_ha": pieces.area / HA,
    }
    for column in SHARED_FIELDS:
        values = np.nan_to_num(terreinen.numbers(column), nan=0.0)
        columns[column] = values[pieces.feature] * pieces.share
    categories = terreinen.column("max_milieucategorie")
    columns["hmc"] = hmc_mask(categories, table, hmc_threshold)[pieces.feature]
    columns["max_milieucategorie"] = categories[pieces.feature]
    for column in SELECTION_FIELDS:
        columns[column] = terreinen.column(column)[pieces.feature]
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
