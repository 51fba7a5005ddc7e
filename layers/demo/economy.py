"""Demo bedrijventerreinen (IBIS-like) and the vestigingen on them.

The totals aim at the reference figures in DOMAIN.md; the placement rules make the
map look like the province: most terreinen at the edge of a kern, HMC terreinen along
a freight waterway or a railway, none overlapping each other, water or a gemeente border.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from layers.demo.area import Kern
from layers.demo.geo import Obstacles, parcel, point_along, random_points
from layers.demo.world import World

# -- demo targets (reference figures in DOMAIN.md) ------------------------------------

# The number of terreinen and the bruto, uitgeefbaar and woonterrein totals are per work area
# (``layers/data/demo/doelen.csv``, :class:`layers.demo.area.Targets`); for the reference
# province 300 terreinen, 4,400 ha bruto (CBS Bodemgebruik 2017: 4,410 ha) and 140 ha
# uitgeefbaar (Stec 2019: about 124 ha hard planaanbod on 31 terreinen).

#: Netto as a share of bruto (plots, without roads and green).
NETTO_SHARE = (0.75, 0.85)
#: Terreinen with issuable land by planstatus in the reference province (the rest is fully
#: issued); other areas scale them by their number of terreinen.
PLANSTATUS_COUNTS = {
    "harde_plancapaciteit": 4,
    "in_aanleg": 8,
    "bestaand_met_aanbod": 22,
    "transformatie": 6,
}
#: Share of terreinen with a hoge milieucategorie (hoofdcategorie 4 or more).
HMC_SHARE = 0.175
#: Hoofdcategorie from which a terrein counts as HMC (a setting in scenarios; fixed here).
HMC_FROM = 4
#: SKBN: about two-thirds of the firms on a terrein sit below the category it allows.
SHARE_BELOW_CATEGORY = 2 / 3
#: Vestigingen per ha uitgegeven (a few thousand in all).
VESTIGINGEN_PER_HA = 1.0

# fmt: off
TOPONIEMEN = (
    "De Wetering", "Het Broek", "De Meent", "De Hoef", "Het Veld", "De Weide", "Molenzoom",
    "De Schans", "Het Gors", "De Liede", "De Waard", "Het Zand", "De Brink", "De Kamp",
    "Laagraven", "De Grift", "De Geer", "Achterdijk", "Polderweg", "Nijverheid", "Ambachtsweg",
    "Handelsweg", "Zuidpoort", "Noordpoort", "Westpoort", "Oostpoort", "De Smidse", "Rietveld",
    "Het Hoefslag", "De Koppeling", "Middelwaard", "Overweg", "Veldzicht", "De Hooge Kamp",
    "Het Wed", "De Ham", "Kleine Vaart", "Groenewoud", "De Horn", "Het Goor",
)
WATER_TOPONIEMEN = (
    "Haven", "Kade", "Kanaalzone", "Werf", "Vaartse Kade", "Waterfront", "Laad- en Loswal",
)
SPOOR_TOPONIEMEN = ("Spoorzone", "Emplacement", "Spoorhaven", "Stationsweg-Zuid")

#: Illustrative SBI codes per milieucategorie (typical activities; not the VNG list itself).
SBI_BY_CATEGORIE: dict[str, tuple[tuple[str, str], ...]] = {
    "1": (("62.01", "Software"), ("70.22", "Advies"), ("71.11", "Architecten")),
    "2": (("46.90", "Groothandel"), ("43.22", "Installatietechniek"), ("95.21", "Reparatie"),
          ("47.91", "Webwinkel")),
    "3.1": (("45.20", "Autoservice"), ("41.20", "Bouw"), ("52.10", "Opslag"),
            ("18.12", "Drukkerij")),
    "3.2": (("25.62", "Metaalbewerking"), ("49.41", "Transport"), ("16.23", "Houtbouw"),
            ("22.29", "Kunststoffen")),
    "4.1": (("38.32", "Recycling"), ("23.63", "Betonmortel"), ("16.10", "Houtzagerij")),
    "4.2": (("23.61", "Betonwaren"), ("10.91", "Veevoeders"), ("38.11", "Afvalinzameling")),
    "5.1": (("38.21", "Compostering"), ("20.59", "Chemie")),
    "5.2": (("20.14", "Chemie"), ("23.32", "Keramiek")),
    "5.3": (("23.51", "Cement"), ("24.10", "Staal")),
}
ACHTERNAMEN = (
    "De Jong", "Jansen", "De Vries", "Van den Berg", "Bakker", "Visser", "Smit", "Meijer",
    "De Boer", "Mulder", "De Groot", "Bos", "Vos", "Peters", "Hendriks", "Van Leeuwen", "Dekker",
    "Brouwer", "De Wit", "Dijkstra", "Van Dijk", "Kok", "Verhoeven", "Van der Linden",
    "Schouten", "Willemsen",
)
# fmt: on


@dataclass
class Terreinen:
    """Generated terreinen: geometries, attribute frame, and what later layers need."""

    geometries: np.ndarray
    frame: pd.DataFrame

    @property
    def hoofdcategorie(self) -> np.ndarray:
        """Maximale milieucategorie as an integer (IBIS keeps only the hoofdcategorie)."""
        return self.frame["max_milieucategorie"].astype(int).to_numpy()

    @property
    def hmc(self) -> np.ndarray:
        """Mask of the HMC terreinen."""
        return self.hoofdcategorie >= HMC_FROM


def generate_terreinen(world: World) -> Terreinen:
    """Place the terreinen and give them IBIS-like attributes.

    Parameters
    ----------
    world
        The gemeenten, kernen, water and rail to place them in.

    Returns
    -------
    Terreinen
        About ``world.targets.terreinen`` non-overlapping terreinen, each inside one gemeente.
    """
    rng = world.rng("bedrijventerreinen")
    corridors = {str(c): _corridor(world, str(c)) for c in world.gemeenten.statcodes}
    plan = _plan(world, corridors, rng)
    placed = _place(world, plan, corridors, rng)
    frame = _attributes(world, placed, rng)
    return Terreinen(
        geometries=np.array([p["geom"] for p in placed], dtype=object),
        frame=frame,
    )


def _plan(
    world: World, corridors: dict[str, shapely.Geometry | None], rng: np.random.Generator
) -> pd.DataFrame:
    """How many terreinen per gemeente, their target sizes and their categories."""
    codes = [str(c) for c in world.gemeenten.statcodes]
    weights = np.array(
        [
            np.sqrt(world.gemeenten.geometry(c).area / 1e6)
            * (max(world.inwoners(c), 1000) / 1000) ** 0.25
            * world.economic_weight(c)
            for c in codes
        ]
    )
    target_bruto = world.targets.bruto_ha
    counts = _largest_remainder(weights / weights.sum() * world.targets.terreinen, minimum=2)
    rows = []
    for code, n in zip(codes, counts, strict=True):
        boost = world.economic_weight(code)
        for _ in range(n):
            rows.append(
                {
                    "gemeente": code,
                    "size": rng.lognormal(np.log(6.0), 0.9) * boost**1.5,
                    "cap": 60 * boost**2,
                }
            )
    plan = pd.DataFrame(rows)
    sizes = plan["size"].to_numpy()
    sizes = np.clip(sizes * target_bruto / sizes.sum(), 1.2, plan["cap"].to_numpy())
    plan["size"] = sizes * target_bruto / sizes.sum()
    corridor = np.array([corridors[c] is not None for c in plan["gemeente"]])
    p = np.sqrt(plan["size"].to_numpy()) * np.where(corridor, 4.0, 1.0)
    n_hmc = int(round(HMC_SHARE * len(plan)))
    hmc = rng.choice(len(plan), size=n_hmc, replace=False, p=p / p.sum())
    cat = np.where(rng.random(len(plan)) < 0.22, 2, 3)
    cat[hmc] = np.where(rng.random(n_hmc) < 0.25, 5, 4)
    plan["hoofdcategorie"] = cat
    return plan.sort_values("size", ascending=False, kind="stable").reset_index(drop=True)


def _largest_remainder(quota: np.ndarray, minimum: int) -> np.ndarray:
    """Whole numbers summing to ``round(quota.sum())``, each at least ``minimum``."""
    total = int(round(quota.sum()))
    counts = np.maximum(np.floor(quota).astype(int), minimum)
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    i = 0
    while counts.sum() < total:
        counts[order[i % len(order)]] += 1
        i += 1
    return counts


def _corridor(world: World, statcode: str) -> shapely.Geometry | None:
    """Banks of freight waterways and railways within a gemeente (lines), or None."""
    gem = world.gemeenten.geometry(statcode).buffer(-300.0)
    water_lines = shapely.intersection(shapely.boundary(world.vaarwegen), gem)
    rail = shapely.intersection(world.rail, gem)
    both = shapely.union_all([water_lines, rail])
    return None if both.is_empty or both.length < 500 else both


def _place(
    world: World,
    plan: pd.DataFrame,
    corridors: dict[str, shapely.Geometry | None],
    rng: np.random.Generator,
) -> list[dict]:
    """Find a spot for each planned terrein; largest first."""
    water = Obstacles(shapely.get_parts(world.water_union))
    taken = Obstacles()
    inner = {
        str(c): world.gemeenten.geometry(str(c)).buffer(-25.0) for c in world.gemeenten.statcodes
    }
    for g in inner.values():
        shapely.prepare(g)
    placed = []
    for row in plan.itertuples():
        code = row.gemeente
        kernen = world.kernen_of(code)
        weights = np.array([k.inwoners for k in kernen], dtype=float) ** 0.7
        area = row.size * 10_000.0
        for _attempt in range(5):
            corridor = corridors[code] if row.hoofdcategorie >= HMC_FROM else None
            geom, kern = _try_place(
                world, corridor, kernen, weights, area, inner[code], water, taken, rng
            )
            if geom is not None:
                break
            area *= 0.8
        if geom is None:
            continue
        taken.add(geom)
        placed.append(
            {"geom": geom, "gemeente": code, "kern": kern, "hoofdcategorie": row.hoofdcategorie}
        )
    return placed


def _try_place(
    world: World,
    corridor: shapely.Geometry | None,
    kernen: list[Kern],
    weights: np.ndarray,
    area: float,
    container: shapely.Geometry,
    water: Obstacles,
    taken: Obstacles,
    rng: np.random.Generator,
) -> tuple[shapely.Geometry | None, Kern | None]:
    """Up to 80 candidate spots: along a corridor (HMC), around a kern, anywhere in the gemeente."""
    half = np.sqrt(area) / 2.0
    for attempt in range(80):
        kern = kernen[int(rng.choice(len(kernen), p=weights / weights.sum()))]
        angle = None
        if corridor is not None and attempt < 50:
            x, y, angle = point_along(corridor, rng)
            side = angle + np.pi / 2 * rng.choice([-1.0, 1.0])
            d = 80.0 + rng.uniform(0.0, 250.0) + half * 0.8
            x, y = x + np.cos(side) * d, y + np.sin(side) * d
        elif attempt < 60:
            r = world.kern_radius(kern) * rng.uniform(0.45, 1.5) + half
            t = rng.uniform(0.0, 2.0 * np.pi)
            x, y = kern.x + np.cos(t) * r, kern.y + np.sin(t) * r
        else:
            x, y = random_points(container, 1, rng)[0]
        geom = parcel(x, y, area, rng, angle=angle)
        if container.contains(geom) and water.clear_of(geom, 15.0) and taken.clear_of(geom, 25.0):
            return geom, kern
    return None, None


def _attributes(world: World, placed: list[dict], rng: np.random.Generator) -> pd.DataFrame:
    """IBIS-like attributes, consistent with each other and with the geometry."""
    n = len(placed)
    geoms = np.array([p["geom"] for p in placed], dtype=object)
    cat = np.array([p["hoofdcategorie"] for p in placed])
    hmc = cat >= HMC_FROM
    d_water = shapely.distance(geoms, world.vaarwegen)
    d_rail = shapely.distance(geoms, world.rail)
    d_road = shapely.distance(geoms, world.motorways)
    u = rng.random((n, 4))
    water = np.where(hmc, d_water <= 300.0, (d_water <= 150.0) & (u[:, 0] < 0.6))
    spoor = np.where(hmc, (d_rail <= 350.0) & (u[:, 1] < 0.9), (d_rail <= 200.0) & (u[:, 1] < 0.25))
    weg = (d_road <= 4_000.0) | (u[:, 2] < 0.9)

    bruto = np.round(shapely.area(geoms) / 10_000.0, 2)
    netto = np.round(bruto * rng.uniform(*NETTO_SHARE, size=n), 2)
    planstatus, uitgeefbaar = _supply(netto, hmc, rng, world)
    uitgegeven = np.round(netto - uitgeefbaar, 2)
    uitgeefbaar = np.round(netto - uitgegeven, 2)
    terstond_share = np.where(
        planstatus == "harde_plancapaciteit", rng.uniform(0.0, 0.3, n), rng.uniform(0.4, 1.0, n)
    )
    terstond = np.round(uitgeefbaar * terstond_share, 2)
    niet_terstond = np.round(uitgeefbaar - terstond, 2)

    terreintype = np.full(n, "gemengd", dtype=object)
    terreintype[hmc & ((cat >= 5) | (u[:, 3] < 0.4))] = "zware_industrie"
    big_near_road = ~hmc & (bruto >= 25.0) & (d_road <= 2_500.0)
    terreintype[big_near_road & (u[:, 3] < 0.6)] = "distributie"
    terreintype[~hmc & (cat == 2) & (u[:, 3] > 0.85)] = "hoogwaardig"
    werklocatie = np.where((terreintype == "hoogwaardig") & (u[:, 0] < 0.5), "C", "B")

    frame = pd.DataFrame(
        {
            "naam": _names(placed, water, spoor, terreintype, rng),
            "rin_nummer": _rin_numbers(placed),
            "gemeente": [p["gemeente"] for p in placed],
            "bruto_ha": bruto,
            "netto_ha": netto,
            "uitgegeven_ha": uitgegeven,
            "uitgeefbaar_ha": uitgeefbaar,
            "uitgeefbaar_terstond_ha": terstond,
            "uitgeefbaar_niet_terstond_ha": niet_terstond,
            "max_milieucategorie": cat.astype(str),
            "type_werklocatie": werklocatie,
            "terreintype": terreintype,
            "planstatus": np.where(planstatus == "bestaand_met_aanbod", "bestaand", planstatus),
            "ontsluiting_water": water.astype(bool),
            "ontsluiting_spoor": spoor.astype(bool),
            "ontsluiting_weg": weg.astype(bool),
        }
    )
    return frame


def _supply(
    netto: np.ndarray, hmc: np.ndarray, rng: np.random.Generator, world: World
) -> tuple[np.ndarray, np.ndarray]:
    """Planstatus per terrein and nog uitgeefbaar ha, totalling about the demo target."""
    target_uitgeefbaar = world.targets.uitgeefbaar_ha
    n = len(netto)
    status = np.full(n, "bestaand", dtype=object)
    free = np.ones(n, dtype=bool)
    for name, reference_count in PLANSTATUS_COUNTS.items():
        count = world.targets.scaled(reference_count)
        eligible = free.copy()
        if name == "harde_plancapaciteit":
            eligible &= netto <= 20.0
        if name == "transformatie":
            eligible &= ~hmc
        idx = rng.choice(
            np.flatnonzero(eligible), size=min(count, int(eligible.sum())), replace=False
        )
        status[idx] = name
        free[idx] = False
    share = np.zeros(n)
    share[status == "harde_plancapaciteit"] = 1.0
    share[status == "in_aanleg"] = rng.uniform(0.3, 0.7, (status == "in_aanleg").sum())
    share[status == "bestaand_met_aanbod"] = rng.uniform(
        0.03, 0.25, (status == "bestaand_met_aanbod").sum()
    )
    fixed = float((netto * share)[status == "harde_plancapaciteit"].sum())
    flexible = status != "harde_plancapaciteit"
    rest = float((netto * share)[flexible].sum())
    if rest > 0:
        share[flexible] = np.minimum(
            share[flexible] * max(target_uitgeefbaar - fixed, 0.0) / rest, 0.9
        )
    return status, np.round(netto * share, 2)


def _names(
    placed: list[dict],
    water: np.ndarray,
    spoor: np.ndarray,
    terreintype: np.ndarray,
    rng: np.random.Generator,
) -> list[str]:
    """Unique Dutch names: a toponym (by access), a type prefix and the kern."""
    prefix = {
        "zware_industrie": "Industrieterrein ",
        "distributie": "Distributiepark ",
        "hoogwaardig": "Bedrijvenpark ",
    }
    names: list[str] = []
    seen: set[str] = set()
    for i, p in enumerate(placed):
        pool = WATER_TOPONIEMEN if water[i] else SPOOR_TOPONIEMEN if spoor[i] else TOPONIEMEN
        base = (
            f"{prefix.get(terreintype[i], '')}{pool[int(rng.integers(len(pool)))]} {p['kern'].naam}"
        )
        name, k = base, 2
        while name in seen:
            name = f"{base} {_roman(k)}"
            k += 1
        seen.add(name)
        names.append(name)
    return names


def _roman(k: int) -> str:
    return {2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII", 9: "IX"}.get(
        k, str(k)
    )


def _rin_numbers(placed: list[dict]) -> list[str]:
    """Obviously synthetic RIN numbers: ``DEMO-<gemeentenummer>-<volgnummer>``."""
    seq: dict[str, int] = {}
    out = []
    for p in placed:
        seq[p["gemeente"]] = seq.get(p["gemeente"], 0) + 1
        out.append(f"DEMO-{p['gemeente'][2:]}-{seq[p['gemeente']]:03d}")
    return out


# -- vestigingen ----------------------------------------------------------------------


def generate_vestigingen(world: World, terreinen: Terreinen) -> tuple[pd.DataFrame, np.ndarray]:
    """Firms as points inside the terreinen, with SBI code and milieucategorie.

    Parameters
    ----------
    world
        The demo world (for the random stream).
    terreinen
        The terreinen to fill.

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        Attributes (naam, sbi_code, milieucategorie, gemeente, bedrijventerrein,
        oppervlakte_ha) and the points. On HMC terreinen about
        :data:`SHARE_BELOW_CATEGORY` of the firms sit below the terrein's category.
    """
    rng = world.rng("vestigingen")
    frames, points = [], []
    for i, row in enumerate(terreinen.frame.itertuples()):
        n = (
            int(rng.poisson(row.uitgegeven_ha * VESTIGINGEN_PER_HA))
            if row.uitgegeven_ha >= 0.5
            else 0
        )
        if n == 0:
            continue
        xy = random_points(terreinen.geometries[i], n, rng)
        cats = _firm_categories(int(row.max_milieucategorie), n, rng)
        sbi = [SBI_BY_CATEGORIE[c][int(rng.integers(len(SBI_BY_CATEGORIE[c])))] for c in cats]
        area = np.round(rng.dirichlet(np.full(n, 1.5)) * row.uitgegeven_ha, 2)
        frames.append(
            pd.DataFrame(
                {
                    "naam": [
                        f"{ACHTERNAMEN[int(rng.integers(len(ACHTERNAMEN)))]} {s[1]} B.V."
                        for s in sbi
                    ],
                    "sbi_code": [s[0] for s in sbi],
                    "milieucategorie": cats,
                    "gemeente": row.gemeente,
                    "bedrijventerrein": row.naam,
                    "oppervlakte_ha": area,
                }
            )
        )
        points.append(shapely.points(xy))
    frame = pd.concat(frames, ignore_index=True)
    return frame, np.concatenate(points)


#: How often each lower category occurs among firms below their terrein's category.
_BELOW_WEIGHTS = {"1": 0.1, "2": 0.35, "3.1": 0.35, "3.2": 0.2, "4.1": 0.08, "4.2": 0.05}


def _firm_categories(hoofdcategorie: int, n: int, rng: np.random.Generator) -> list[str]:
    """Milieucategorie per firm on a terrein of ``hoofdcategorie``."""
    at_level = [c for c in SBI_BY_CATEGORIE if int(float(c)) == hoofdcategorie]
    below = [c for c in SBI_BY_CATEGORIE if int(float(c)) < hoofdcategorie]
    below_w = np.array([_BELOW_WEIGHTS.get(c, 0.05) for c in below])
    share_below = {2: 0.3, 3: 0.45}.get(hoofdcategorie, SHARE_BELOW_CATEGORY)
    out = []
    for go_below in rng.random(n) < share_below:
        pool, w = (below, below_w) if go_below and below else (at_level, np.ones(len(at_level)))
        out.append(pool[int(rng.choice(len(pool), p=w / w.sum()))])
    return out
