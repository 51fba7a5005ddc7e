"""Balance of demand and supply per unit (gemeente, region, province), and its status.

With D the demand and S the supply, each split into an HMC part (h) and the rest (o)::

    balance      = S − D                                (tekort < 0 < overschot)
    uncovered_h  = max(0, D_h − S_h)
    left_h       = max(0, S_h − max(0, D_h))             HMC-capable supply left over
    uncovered_o  = max(0, D_o − S_o − (0 if protect_hmc_supply else left_h))
    uncovered    = uncovered_h + uncovered_o             what the allocation must place
    coverage     = (D − uncovered) ÷ D                   share of the demand that supply covers
    status       = groen if coverage ≥ groen_from, oranje if ≥ oranje_from, else rood

HMC demand can only be met by HMC-capable supply; when ``protect_hmc_supply`` is set
(the MTS: keep HMC space for HMC firms), HMC-capable supply is not used for other demand.
A unit without demand (D ≤ 0) is groen with coverage 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.spec import StatusThresholds

STATUSES = ("groen", "oranje", "rood")


def balance(
    frame: pd.DataFrame, protect_hmc_supply: bool, thresholds: StatusThresholds
) -> pd.DataFrame:
    """Balance, uncovered demand, coverage and status of each row.

    Parameters
    ----------
    frame
        Rows with ``demand_ha``, ``hmc_demand_ha``, ``supply_ha`` and ``hmc_supply_ha``.
    protect_hmc_supply
        Keep HMC-capable supply for HMC demand only.
    thresholds
        The status thresholds on coverage.

    Returns
    -------
    pandas.DataFrame
        ``balance_ha``, ``hmc_uncovered_ha``, ``other_uncovered_ha``, ``uncovered_ha``,
        ``coverage`` and ``status`` (same index as ``frame``).

    Examples
    --------
    >>> f = pd.DataFrame({"demand_ha": [10.0, 10.0], "hmc_demand_ha": [4.0, 0.0],
    ...                   "supply_ha": [8.0, 12.0], "hmc_supply_ha": [6.0, 12.0]})
    >>> columns = ["balance_ha", "uncovered_ha", "status"]
    >>> balance(f, True, StatusThresholds())[columns].values.tolist()
    [[-2.0, 4.0, 'rood'], [2.0, 10.0, 'rood']]
    >>> balance(f, False, StatusThresholds())[["uncovered_ha", "status"]].values.tolist()
    [[2.0, 'oranje'], [0.0, 'groen']]
    """
    d = frame["demand_ha"].to_numpy(dtype=float)
    dh = frame["hmc_demand_ha"].to_numpy(dtype=float)
    s = frame["supply_ha"].to_numpy(dtype=float)
    sh = frame["hmc_supply_ha"].to_numpy(dtype=float)
    do, so = d - dh, s - sh
    uncovered_h = np.maximum(0.0, dh - sh)
    left_h = np.maximum(0.0, sh - np.maximum(0.0, dh))
    usable = so if protect_hmc_supply else so + left_h
    uncovered_o = np.maximum(0.0, do - usable)
    uncovered = uncovered_h + uncovered_o
    positive = d > 0
    coverage = np.where(positive, (d - uncovered) / np.where(positive, d, 1.0), 1.0)
    out = pd.DataFrame(index=frame.index)
    out["balance_ha"] = s - d
    out["hmc_uncovered_ha"] = uncovered_h
    out["other_uncovered_ha"] = uncovered_o
    out["uncovered_ha"] = uncovered
    out["coverage"] = coverage
    out["status"] = status(coverage, thresholds)
    return out


def status(coverage: np.ndarray, thresholds: StatusThresholds) -> np.ndarray:
    """groen / oranje / rood per coverage value.

    Examples
    --------
    >>> status(np.array([1.0, 0.8, 0.1]), StatusThresholds()).tolist()
    ['groen', 'oranje', 'rood']
    """
    cov = np.round(np.asarray(coverage, dtype=float), 12)
    return np.where(
        cov >= thresholds.groen_from,
        "groen",
        np.where(cov >= thresholds.oranje_from, "oranje", "rood"),
    ).astype(object)
