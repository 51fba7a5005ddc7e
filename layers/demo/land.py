"""Demo water, woongebieden and landgebruik.

Woongebieden are smooth blobs around the kernen, sized by population and scaled so the
total comes near the woonterrein target; they keep clear of water and of the
bedrijventerreinen (a gap that for HMC terreinen ranges from a conflict-making 60 m to
well beyond the richtafstand). Landgebruik is a partition of the gemeenten: water,
bedrijventerreinen, woongebieden and motorway/railway corridors as they are, the rest
cut into Voronoi cells that get plausible classes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from layers.demo.economy import HMC_FROM, Terreinen
from layers.demo.geo import blob, polygonal
from layers.demo.world import M2_PER_INWONER, World

# -- demo targets ---------------------------------------------------------------------

# Total woonterrein is per work area (``layers/data/demo/doelen.csv``); 15,700 ha for the
# reference province (CBS Bodemgebruik 2017: 15,731 ha).
#: Kernen from this many inhabitants get a separate centre (omgevingstype gemengd).
CENTRUM_FROM_INWONERS = 10_000
#: Share of a kern's blob (by radius) that is its mixed centre.
CENTRUM_RADIUS_SHARE = 0.45
#: Gap (m) between housing and a terrein: HMC terreinen a random distance in this range,
#: so that some sit within the richtafstand of housing and others well outside it.
HMC_HOUSING_GAP_M = (60.0, 700.0)
OTHER_HOUSING_GAP_M = 25.0

#: Rough demo proportions (ha) of the other landgebruik classes for the reference province
#: (other areas scale them by their area). Orders of magnitude for plausibility only, NOT CBS
#: figures; agrarisch takes the rest.
#: Verkeer is only the motorway and railway corridors (local roads lie inside the other
#: classes), so it has no target here.
LANDGEBRUIK_TARGETS_HA = {
    "detailhandel_horeca": 900.0,
    "voorzieningen": 2_400.0,
    "semi_bebouwd": 3_000.0,
    "recreatie": 7_000.0,
    "water": 4_500.0,
    "bos_natuur": 22_000.0,
}
#: Voronoi cells for the landgebruik tessellation (before cutting by gemeente) in the reference
#: province; other areas scale them by their area.
LANDGEBRUIK_CELLS = 700
#: Pieces smaller than this (m²) are dropped as slivers.
SLIVER_M2 = 50.0


def generate_water(world: World) -> tuple[pd.DataFrame, np.ndarray]:
    """Rivers, canals and lakes as ``constraints`` with category ``water``.

    Parameters
    ----------
    world
        The demo world (its water, clipped to the gemeenten).

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        Attributes (naam, category, omgevingstype) and polygons.
    """
    names = [naam for naam, _, _ in world.water]
    frame = pd.DataFrame({"naam": names, "category": "water", "omgevingstype": None})
    return frame, np.array([g for _, _, g in world.water], dtype=object)


def generate_woongebieden(world: World, terreinen: Terreinen) -> tuple[pd.DataFrame, np.ndarray]:
    """Housing around each kern: a mixed centre and a quiet rest, total near the target.

    Parameters
    ----------
    world
        The demo world.
    terreinen
        Housing keeps clear of these (see :data:`HMC_HOUSING_GAP_M`).

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        ``constraints`` attributes (naam, category woongebied, omgevingstype) and polygons.
    """
    rng = world.rng("woongebieden")
    kernen = sorted(world.kernen, key=lambda k: (-k.inwoners, k.naam))
    shapes = [blob(k.x, k.y, 1.0e6, rng) for k in kernen]
    hmc = terreinen.hoofdcategorie >= HMC_FROM
    gaps = np.where(hmc, rng.uniform(*HMC_HOUSING_GAP_M, size=len(hmc)), OTHER_HOUSING_GAP_M)
    keep_out = shapely.union_all(
        [world.water_union, *shapely.buffer(terreinen.geometries, gaps, quad_segs=4)]
    )
    shapely.prepare(keep_out)
    scale = 1.0
    for _ in range(3):
        rows, geoms = _woon_pieces(world, kernen, shapes, scale, keep_out)
        total = sum(g.area for g in geoms) / 10_000.0
        scale *= world.targets.woonterrein_ha / total
    frame = pd.DataFrame(rows)
    frame["category"] = "woongebied"
    return frame[["naam", "category", "omgevingstype"]], np.array(geoms, dtype=object)


def _woon_pieces(
    world: World,
    kernen: list,
    shapes: list[shapely.Polygon],
    scale: float,
    keep_out: shapely.Geometry,
) -> tuple[list[dict], list[shapely.Geometry]]:
    """Blobs at ``scale`` × nominal area, minus water, terreinen and bigger kernen."""
    rows: list[dict] = []
    geoms: list[shapely.Geometry] = []
    taken = keep_out
    for kern, unit in zip(kernen, shapes, strict=True):
        area = kern.inwoners * M2_PER_INWONER * scale
        f = np.sqrt(area / unit.area)
        shape = affinity.scale(unit, f, f, origin=(kern.x, kern.y))
        whole = polygonal(shapely.intersection(shape, world.province).difference(taken), SLIVER_M2)
        if whole is None:
            continue
        parts = [(kern.naam, "rustig", whole)]
        if kern.inwoners >= CENTRUM_FROM_INWONERS:
            inner = affinity.scale(
                shape, CENTRUM_RADIUS_SHARE, CENTRUM_RADIUS_SHARE, origin=(kern.x, kern.y)
            )
            centre = polygonal(shapely.intersection(whole, inner), SLIVER_M2)
            rest = polygonal(shapely.difference(whole, inner), SLIVER_M2)
            if centre is not None and rest is not None:
                parts = [(f"{kern.naam} (centrum)", "gemengd", centre), (kern.naam, "rustig", rest)]
        for naam, omgevingstype, geom in parts:
            rows.append({"naam": f"Woongebied {naam}", "omgevingstype": omgevingstype})
            geoms.append(geom)
        taken = shapely.union(taken, whole)
    return rows, geoms


# -- landgebruik ----------------------------------------------------------------------


def generate_landgebruik(
    world: World, terreinen: Terreinen, woon: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Land use covering every gemeente once, as a clean partition.

    All boundaries (gemeenten, water, terreinen, woongebieden, corridors, Voronoi cells)
    are noded together on a :data:`GRID_M` grid and polygonized; each face gets the class
    of the first feature holding it (water, bedrijventerrein, woonterrein, verkeer) or of
    its cell, and faces are dissolved per gemeente and source feature. Neighbouring pieces
    therefore share exactly the same edges: no slivers of overlap for later overlays.

    Parameters
    ----------
    world
        The demo world.
    terreinen
        Become class ``bedrijventerrein``, one piece each.
    woon
        Woongebied polygons; become class ``woonterrein`` (cut by gemeente).

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        Attributes (klasse, gemeente) and polygons.
    """
    rng = world.rng("landgebruik")
    cells = _cells(world, rng)
    water = np.asarray(shapely.get_parts(world.water_union), dtype=object)
    verkeer = (
        np.asarray(shapely.get_parts(world.verkeer), dtype=object)
        if world.verkeer is not None
        else []
    )
    # (class, polygons) in priority order; a face takes the first that holds it
    sources = [
        ("water", water),
        ("bedrijventerrein", terreinen.geometries),
        ("woonterrein", np.asarray(woon, dtype=object)),
        ("verkeer", np.asarray(verkeer, dtype=object)),
        (None, cells),
    ]
    faces = _faces([world.gemeenten.geometries, *[geoms for _, geoms in sources]])
    points = shapely.point_on_surface(faces)
    gemeente = world.gemeenten.locate(faces)
    # key per face: (klasse, source feature); water and verkeer make one piece per gemeente
    key: list[tuple | None] = [None] * len(faces)
    for klasse, geoms in sources:
        todo = np.array([i for i, k in enumerate(key) if k is None], dtype=int)
        if len(geoms) == 0 or len(todo) == 0:
            continue
        hit_point, hit_geom = shapely.STRtree(geoms).query(points[todo], predicate="within")
        for p, g in zip(todo[hit_point], hit_geom, strict=True):
            if key[p] is None:
                key[p] = (klasse, 0 if klasse in ("water", "verkeer") else int(g))
    groups: dict[tuple, list[int]] = {}
    for i, (code, k) in enumerate(zip(gemeente, key, strict=True)):
        if code is not None and k is not None:
            groups.setdefault((code, *k), []).append(i)
    rows: list[tuple[str, str]] = []
    geoms: list[shapely.Geometry] = []
    rest: list[tuple[str, shapely.Geometry]] = []
    for (code, klasse, _), members in sorted(groups.items(), key=lambda kv: kv[1][0]):
        piece = polygonal(shapely.coverage_union_all(faces[members]), SLIVER_M2)
        if piece is None:
            continue
        if klasse is None:
            rest.append((code, piece))
        else:
            rows.append((klasse, code))
            geoms.append(piece)
    classes = _classify(world, rest, explicit_ha=_sum_by_class(rows, geoms), rng=rng)
    for (code, piece), klasse in zip(rest, classes, strict=True):
        rows.append((klasse, code))
        geoms.append(piece)
    frame = pd.DataFrame(rows, columns=["klasse", "gemeente"])
    return frame, np.array(geoms, dtype=object)


#: Grid (m) on which the landgebruik linework is noded (snap rounding, robust overlay).
GRID_M = 0.01


def _faces(layers: list[np.ndarray]) -> np.ndarray:
    """The faces of all the polygons' boundaries noded together."""
    rings = [shapely.boundary(np.asarray(geoms, dtype=object)) for geoms in layers if len(geoms)]
    noded = shapely.union_all(np.concatenate(rings), grid_size=GRID_M)
    return np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))), dtype=object)


def _cells(world: World, rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells, denser near the kernen (where land use is more varied), in the province."""
    minx, miny, maxx, maxy = world.province.bounds
    n_cells = world.targets.scaled(LANDGEBRUIK_CELLS, by="area")
    n_uniform = int(n_cells * 0.6)
    pts = [
        np.column_stack([rng.uniform(minx, maxx, n_uniform), rng.uniform(miny, maxy, n_uniform)])
    ]
    weights = np.sqrt([k.inwoners for k in world.kernen])
    picks = rng.choice(len(world.kernen), size=n_cells - n_uniform, p=weights / weights.sum())
    for i in picks:
        k = world.kernen[i]
        sd = world.kern_radius(k) + 1_500.0
        pts.append(np.array([[k.x + rng.normal(0, sd), k.y + rng.normal(0, sd)]]))
    xy = np.round(np.concatenate(pts), 1)
    voronoi = shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=world.province.buffer(5_000.0), ordered=True
    )
    cells = shapely.intersection(
        np.asarray(shapely.get_parts(voronoi), dtype=object), world.province.buffer(100.0)
    )
    return cells[~shapely.is_empty(cells)]


def _sum_by_class(rows: list[tuple[str, str]], geoms: list[shapely.Geometry]) -> dict[str, float]:
    out: dict[str, float] = {}
    for (klasse, _), g in zip(rows, geoms, strict=True):
        out[klasse] = out.get(klasse, 0.0) + g.area / 10_000.0
    return out


def _classify(
    world: World,
    pieces: list[tuple[str, shapely.Geometry]],
    explicit_ha: dict[str, float],
    rng: np.random.Generator,
) -> list[str]:
    """A class per remaining piece: greedy by suitability until each class target is met."""
    geoms = np.array([g for _, g in pieces], dtype=object)
    area_ha = shapely.area(geoms) / 10_000.0
    pts = shapely.point_on_surface(geoms)
    kern_pts = shapely.points([(k.x, k.y) for k in world.kernen])
    radii = np.array([world.kern_radius(k) for k in world.kernen])
    d_kern = (
        np.min(shapely.distance(pts[:, None], kern_pts[None, :]) - radii[None, :], axis=1) / 1000.0
    )
    d_ridge = shapely.distance(pts, world.ridges) / 1000.0
    d_water = shapely.distance(pts, world.water_union) / 1000.0
    xy = shapely.get_coordinates(pts)
    corner = world.infrastructure.veen_corner
    veen = (
        ((xy[:, 0] < corner[0]) & (xy[:, 1] > corner[1])).astype(float)
        if corner is not None
        else np.zeros(len(xy))
    )
    noise = rng.normal(0.0, 1.0, size=(len(LANDGEBRUIK_TARGETS_HA), len(pieces)))
    small = area_ha / 100.0  # urban classes and water prefer small pieces
    scores = {
        "detailhandel_horeca": -d_kern - small + 0.3 * noise[0],
        "voorzieningen": -d_kern - small + 0.5 * noise[1],
        "semi_bebouwd": -np.abs(d_kern - 0.5) - small + 0.5 * noise[2],
        "recreatie": -np.abs(d_kern - 1.5) - 0.3 * d_ridge + (d_water < 0.5) + 0.8 * noise[3],
        "water": 3.0 * veen - d_water - small + 0.5 * noise[4],
        "bos_natuur": -d_ridge + 0.8 * noise[5],
    }
    klasse = np.full(len(pieces), "agrarisch", dtype=object)
    free = np.ones(len(pieces), dtype=bool)
    for name, target in LANDGEBRUIK_TARGETS_HA.items():
        remaining = target * world.targets.area_scale - explicit_ha.get(name, 0.0)
        for i in np.argsort(-scores[name], kind="stable"):
            if remaining <= 0:
                break
            if not free[i] or area_ha[i] / 2 > remaining:
                continue
            klasse[i] = name
            free[i] = False
            remaining -= area_ha[i]
    return list(klasse)
