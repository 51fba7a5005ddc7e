"""Milieuzonering: the zone of each terrein from its category, and what lies inside it.

The zone of a terrein is the area within the VNG richtafstand of its maximale
milieucategorie (``layers/data/milieucategorieen.csv``): the rustig distance towards
rustige woonwijken, the gemengd distance towards gemengd gebied. A **conflict** is a
feature of a conflict layer (woongebieden, woningbouwplannen, reserveringen, …) within
the distance that applies to its omgevingstype; its overlap is the part of the feature
inside that zone, in ha. Conflicts limit HMC use of the terrein there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from layers.milieucategorie import MilieucategorieTable
from scenarios.current import hmc_mask
from scenarios.inputs import Inputs, LayerData
from scenarios.spec import ScenarioSpec
from scenarios.suitability import omgevingstypen
from scenarios.units import Gemeenten
from spatial.overlay import split_by_zones

HA = 10_000.0


@dataclass
class Zonering:
    """Zones (one per terrein considered) and conflicts (one per terrein × feature)."""

    zones: pd.DataFrame
    zone_geometries: np.ndarray
    conflicts: pd.DataFrame
    conflict_geometries: np.ndarray


#: Segments per quarter circle of the zones (the arc is within 0.03% of the distance).
ZONE_QUAD_SEGS = 64


def _grow(geoms: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """The zones: buffers at the richtafstand (distances are checked exactly apart from this)."""
    return shapely.buffer(geoms, distance, quad_segs=ZONE_QUAD_SEGS)


def terrein_gemeente(terreinen: LayerData, gemeenten: Gemeenten) -> np.ndarray:
    """Statcode of the gemeente holding the largest part of each terrein (None outside)."""
    pieces = split_by_zones(terreinen.geometries, gemeenten.geometries)
    out = np.full(len(terreinen), None, dtype=object)
    best = np.full(len(terreinen), -1.0)
    for f, z, a in zip(pieces.feature, pieces.zone, pieces.area, strict=True):
        if a > best[f]:
            best[f] = a
            out[f] = gemeenten.statcodes[z]
    return out


def milieuzonering(
    spec: ScenarioSpec, inputs: Inputs, gemeenten: Gemeenten, table: MilieucategorieTable
) -> Zonering:
    """Zones of the terreinen and their conflicts with the spec's conflict layers.

    Parameters
    ----------
    spec
        ``milieuzonering`` (which terreinen, which conflict layers) and ``hmc_threshold``.
    inputs
        The layers read.
    gemeenten
        The gemeenten (to name each terrein's gemeente).
    table
        The milieucategorie table.

    Returns
    -------
    Zonering
        ``zones``: terrein, gemeente, max_milieucategorie, richtafstanden; ``conflicts``:
        terrein, object layer and feature, omgevingstype, richtafstand, overlap ha, distance.
    """
    terreinen = inputs.get(inputs.bedrijventerreinen)
    if terreinen is None:
        raise ValueError("milieuzonering needs the bedrijventerreinen layer")
    codes = np.array(
        [table.normalise(c) for c in terreinen.column("max_milieucategorie")], dtype=object
    )
    keep = codes != None  # noqa: E711 - elementwise
    if spec.milieuzonering.terreinen == "hmc":
        keep &= hmc_mask(codes, table, spec.hmc_threshold)
    idx = np.flatnonzero(keep)
    geoms = terreinen.geometries[idx]
    rustig = np.array([table.richtafstand(c, "rustig") for c in codes[idx]], dtype=float)
    gemengd = np.array([table.richtafstand(c, "gemengd") for c in codes[idx]], dtype=float)
    owner = terrein_gemeente(terreinen, gemeenten)[idx]
    names = terreinen.column("naam")[idx]
    zone_geoms = (
        shapely.difference(_grow(geoms, rustig), geoms) if len(idx) else np.array([], dtype=object)
    )
    zones = pd.DataFrame(
        {
            "terrein": names,
            "terrein_fid": terreinen.fids[idx],
            "gemeente": owner,
            "max_milieucategorie": codes[idx],
            "richtafstand_rustig_m": rustig,
            "richtafstand_gemengd_m": gemengd,
        }
    )
    rows, conflict_geoms = [], []
    grown = {"rustig": _grow(geoms, rustig), "gemengd": _grow(geoms, gemengd)}
    limits = {"rustig": rustig, "gemengd": gemengd}
    for ref in spec.milieuzonering.conflict_layers:
        layer = inputs.get(ref.layer)
        if layer is None or not len(layer) or not len(idx):
            continue
        sel = np.flatnonzero(layer.where(ref.where))
        types = omgevingstypen(layer, ref)[sel]
        objects = layer.geometries[sel]
        tree = shapely.STRtree(objects)
        for omgevingstype in ("rustig", "gemengd"):
            t_idx, o_idx = tree.query(grown[omgevingstype], predicate="intersects")
            match = types[o_idx] == omgevingstype
            t_idx, o_idx = t_idx[match], o_idx[match]
            if not len(t_idx):
                continue
            distance = shapely.distance(geoms[t_idx], objects[o_idx])
            close = distance < limits[omgevingstype][t_idx]
            t_idx, o_idx, distance = t_idx[close], o_idx[close], distance[close]
            overlap = shapely.intersection(objects[o_idx], grown[omgevingstype][t_idx])
            area = shapely.area(overlap)
            for k in np.flatnonzero(area > 0):
                t, o = int(t_idx[k]), int(o_idx[k])
                feature = int(sel[o])
                rows.append(
                    {
                        "terrein": names[t],
                        "terrein_fid": int(terreinen.fids[idx[t]]),
                        "gemeente": owner[t],
                        "max_milieucategorie": codes[idx[t]],
                        "object_laag": layer.name,
                        "object_naam": _text(layer.column("naam")[feature]),
                        "object_fid": int(layer.fids[feature]),
                        "omgevingstype": omgevingstype,
                        "richtafstand_m": float(limits[omgevingstype][t]),
                        "afstand_m": float(distance[k]),
                        "overlap_ha": float(area[k]) / HA,
                    }
                )
                conflict_geoms.append(overlap[k])
    conflicts = pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
    order = (
        np.lexsort((conflicts["object_fid"], conflicts["object_laag"], conflicts["terrein_fid"]))
        if rows
        else []
    )
    return Zonering(
        zones=zones,
        zone_geometries=np.asarray(zone_geoms, dtype=object),
        conflicts=conflicts.iloc[order].reset_index(drop=True) if rows else conflicts,
        conflict_geometries=np.asarray(conflict_geoms, dtype=object)[order]
        if rows
        else np.array([], dtype=object),
    )


CONFLICT_COLUMNS = [
    "terrein",
    "terrein_fid",
    "gemeente",
    "max_milieucategorie",
    "object_laag",
    "object_naam",
    "object_fid",
    "omgevingstype",
    "richtafstand_m",
    "afstand_m",
    "overlap_ha",
]


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def conflict_summary(zonering: Zonering, gemeenten: Gemeenten, top: int = 10) -> dict:
    """Counts and ha of the conflicts: overall, per object layer, per gemeente, worst terreinen.

    ``overlap_ha`` adds up the overlap of each terrein × feature pair (a feature in the
    zones of two terreinen counts twice); ``area_ha`` counts each square metre once.
    """
    c = zonering.conflicts
    geoms = zonering.conflict_geometries
    by_layer = {}
    for name in sorted(c["object_laag"].unique()) if len(c) else []:
        mask = (c["object_laag"] == name).to_numpy()
        by_layer[name] = {
            "conflicts": int(mask.sum()),
            "overlap_ha": float(c.loc[mask, "overlap_ha"].sum()),
            "area_ha": float(shapely.area(shapely.union_all(geoms[mask]))) / HA,
        }
    per_gemeente = {}
    for code in gemeenten.statcodes:
        mask = (c["gemeente"] == code).to_numpy() if len(c) else np.zeros(0, dtype=bool)
        per_gemeente[str(code)] = {
            "conflicts": int(mask.sum()),
            "overlap_ha": float(c.loc[mask, "overlap_ha"].sum()) if mask.any() else 0.0,
            "terreinen": int(c.loc[mask, "terrein_fid"].nunique()) if mask.any() else 0,
        }
    worst = []
    if len(c):
        grouped = (
            c.groupby(["terrein_fid", "terrein", "gemeente", "max_milieucategorie"], dropna=False)
            .agg(conflicts=("overlap_ha", "size"), overlap_ha=("overlap_ha", "sum"))
            .reset_index()
            .sort_values(["overlap_ha", "terrein_fid"], ascending=[False, True], kind="stable")
        )
        worst = [
            {
                "terrein": r.terrein,
                "terrein_fid": int(r.terrein_fid),
                "gemeente": r.gemeente,
                "max_milieucategorie": r.max_milieucategorie,
                "conflicts": int(r.conflicts),
                "overlap_ha": float(r.overlap_ha),
            }
            for r in grouped.head(top).itertuples()
        ]
    return {
        "terreinen_with_zone": int(len(zonering.zones)),
        "terreinen_with_conflicts": int(c["terrein_fid"].nunique()) if len(c) else 0,
        "conflicts": int(len(c)),
        "overlap_ha": float(c["overlap_ha"].sum()) if len(c) else 0.0,
        "by_layer": by_layer,
        "per_gemeente": per_gemeente,
        "most_squeezed": worst,
    }
