"""Demo policy layers: strategische locaties, reserveringen and the circulaire hoofdstructuur.

Strategic locations sit mostly on HMC terreinen with water or rail (the MTS names these
first), the rest at city edges and in neighbourhoods. Every gemeente gets a few
reserveringen in its omgevingsplan (hard) or omgevingsvisie (zacht). The hoofdstructuur
links the main circular hubs (knooppunten) with chains (verbindingen) inside regional
circulaire deelgebieden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely
from shapely import LineString, Point

from layers.demo.area import spanning_tree
from layers.demo.economy import Terreinen
from layers.demo.geo import Obstacles, disc_part, parcel, polygonal
from layers.demo.world import World

#: How many strategic locations of each type (at most; fewer when no terrein fits) in the
#: reference province; other areas scale them by their number of terreinen.
STRATEGISCHE_TYPES = {
    "hmc_multimodaal": 8,
    "watergebonden": 6,
    "haven_industrie": 3,
    "stadsrand": 5,
    "ov_knooppunt": 3,
    "winkelcentrum": 3,
    "wijk": 5,
}
#: Knooppunten in the largest kernen, in the reference province (scaled like the locaties).
STEDELIJKE_KNOOPPUNTEN = 4
#: Reserveringen per gemeente (inclusive range).
RESERVERINGEN_PER_GEMEENTE = (2, 4)
#: Share of reserveringen that are hard (in a vastgesteld omgevingsplan).
HARD_SHARE = 0.4

TYPE_FUNCTIES = {
    "hmc_multimodaal": ("hergebruik_verwerking", "bouwhub", "sorteercentrum"),
    "watergebonden": ("bouwhub", "hergebruik_verwerking", "tijdelijke_opslag", "depot"),
    "haven_industrie": ("hergebruik_verwerking", "biobased_productie", "gft_verwerking"),
    "stadsrand": (
        "retourlogistiek",
        "bouwhub",
        "gft_verwerking",
        "tijdelijke_opslag",
        "biobased_productie",
    ),
    "ov_knooppunt": ("reparatie", "retourlogistiek"),
    "winkelcentrum": ("reparatie", "upcyclecentrum"),
    "wijk": ("reparatie", "ambachtscentrum", "upcyclecentrum"),
}
TYPE_NAMEN = {
    "hmc_multimodaal": "Circulaire hub",
    "watergebonden": "Watergebonden circulaire locatie",
    "haven_industrie": "Circulair industriecluster",
    "stadsrand": "Stadsrandlocatie",
    "ov_knooppunt": "Circulaire werklocatie station",
    "winkelcentrum": "Reparatie- en deelpunt winkelcentrum",
    "wijk": "Wijkwerkplaats",
}
FUNCTIE_NAMEN = {
    "reparatie": "Reparatiecentrum",
    "retourlogistiek": "Retourlogistiek",
    "hergebruik_verwerking": "Verwerking hergebruikte materialen",
    "biobased_productie": "Biobased productie",
    "tijdelijke_opslag": "Tijdelijke opslag",
    "ambachtscentrum": "Circulair ambachtscentrum",
    "upcyclecentrum": "Upcycle center",
    "sorteercentrum": "Sorteercentrum reststromen",
    "depot": "Depot bouwstoffen",
    "gft_verwerking": "GFT-verwerking",
    "bouwhub": "Bouwhub",
}
DOELEN = {
    "reparatie": "Ruimte voor reparatiebedrijven en een repaircafé voor de omliggende wijken",
    "retourlogistiek": "Retour- en reparatielogistiek voor webwinkels en groothandels in de regio",
    "hergebruik_verwerking": "Terugwinnen en verwerken van hergebruikte bouw- en sloopmaterialen",
    "biobased_productie": "Productie van biobased bouwmaterialen uit vezelgewassen en hout",
    "tijdelijke_opslag": "Tijdelijke opslag van secundaire grondstoffen en herbruikbare bouwdelen",
    "ambachtscentrum": "Circulair ambachtscentrum met werkplaatsen voor hergebruik",
    "upcyclecentrum": "Upcycle center bij de milieustraat",
    "sorteercentrum": "Sorteercentrum voor reststromen (textiel, kunststof, elektronica)",
    "depot": "Depot voor grond, bouwstoffen en herbruikbare materialen",
    "gft_verwerking": "Overslag en verwerking van GFT en GFE",
    "bouwhub": "Bouwhub voor gebundelde bouwlogistiek en hergebruik van materialen",
}
HEAVY_FUNCTIES = (
    "hergebruik_verwerking",
    "gft_verwerking",
    "depot",
    "sorteercentrum",
    "tijdelijke_opslag",
    "bouwhub",
)
LIGHT_FUNCTIES = (
    "reparatie",
    "ambachtscentrum",
    "upcyclecentrum",
    "retourlogistiek",
    "biobased_productie",
)
KETENS = ("bouw", "biobased", "textiel", "elektronica", "kunststof", "voedsel en GFT")


@dataclass
class StrategischeLocaties:
    """Generated strategic locations and the terrein (index) each one is on, if any."""

    frame: pd.DataFrame
    geometries: np.ndarray
    terrein: list[int | None]


def generate_strategische_locaties(
    world: World, terreinen: Terreinen, woon: np.ndarray
) -> StrategischeLocaties:
    """Strategic locations for circular business, mostly on HMC terreinen.

    Parameters
    ----------
    world
        The demo world.
    terreinen
        HMC terreinen with water and/or rail host the first three types.
    woon
        Woongebieden: city-edge locations keep clear of them; neighbourhood ones lie in them.

    Returns
    -------
    StrategischeLocaties
        Polygons with naam, type, functie, capaciteit_ha, status, gemeente, beschikbaar_vanaf.
    """
    rng = world.rng("strategische_locaties")
    rows: list[dict] = []
    geoms: list[shapely.Geometry] = []
    on_terrein: list[int | None] = []
    for typ, geom, idx, place in _terrein_locations(world, terreinen, rng) + _kern_locations(
        world, terreinen, woon, rng
    ):
        functie = TYPE_FUNCTIES[typ][int(rng.integers(len(TYPE_FUNCTIES[typ])))]
        early = typ in ("hmc_multimodaal", "watergebonden", "haven_industrie")
        status = rng.choice(
            ["vastgelegd", "beschikbaar", "in_gebruik"] if early else ["verkenning", "voorgesteld"]
        )
        rows.append(
            {
                "naam": f"{TYPE_NAMEN[typ]} {place}",
                "type": typ,
                "functie": functie,
                "capaciteit_ha": round(geom.area / 10_000.0, 1),
                "status": str(status),
                "beschikbaar_vanaf": int(
                    rng.integers(2025, 2029) if early else rng.integers(2027, 2036)
                ),
            }
        )
        geoms.append(geom)
        on_terrein.append(idx)
    arr = np.array(geoms, dtype=object)
    frame = pd.DataFrame(rows)
    frame.insert(5, "gemeente", world.gemeenten.locate(arr))
    return StrategischeLocaties(frame=frame, geometries=arr, terrein=on_terrein)


def _terrein_locations(world: World, terreinen: Terreinen, rng: np.random.Generator) -> list[tuple]:
    """Parts of HMC terreinen: multimodal ones first, then waterside, then heavy industry."""
    f = terreinen.frame
    hmc = terreinen.hmc
    water, spoor = f["ontsluiting_water"].to_numpy(), f["ontsluiting_spoor"].to_numpy()
    heavy = hmc & (terreinen.hoofdcategorie >= 5)
    groups = {
        "hmc_multimodaal": np.flatnonzero(hmc & water & spoor),
        "watergebonden": np.flatnonzero(hmc & water & ~spoor),
        "haven_industrie": np.flatnonzero(
            heavy | (hmc & (f["terreintype"] == "zware_industrie").to_numpy())
        ),
    }
    used: set[int] = set()
    out = []
    for typ, candidates in groups.items():
        candidates = [int(i) for i in candidates if int(i) not in used]
        order = sorted(candidates, key=lambda i: -f["bruto_ha"].iat[i])
        for i in order[: world.targets.scaled(STRATEGISCHE_TYPES[typ])]:
            geom = terreinen.geometries[i]
            share = rng.uniform(0.15, 0.4)
            p = geom.representative_point()
            part = disc_part(geom, p.x, p.y, min(geom.area * share, 25 * 10_000.0))
            if part is None:
                continue
            used.add(i)
            out.append((typ, part, i, f["naam"].iat[i]))
    return out


def _kern_locations(
    world: World, terreinen: Terreinen, woon: np.ndarray, rng: np.random.Generator
) -> list[tuple]:
    """City-edge plots outside housing, and small plots in centres and neighbourhoods."""
    big = sorted(
        [k for k in world.kernen if k.inwoners >= 30_000], key=lambda k: (-k.inwoners, k.naam)
    )
    medium = sorted(
        [k for k in world.kernen if k.inwoners >= 15_000], key=lambda k: (-k.inwoners, k.naam)
    )
    avoid = Obstacles([*shapely.get_parts(world.water_union), *terreinen.geometries, *woon])
    water = Obstacles(shapely.get_parts(world.water_union))
    out = []
    for typ, pool, dist, size_ha, obstacles in (
        ("stadsrand", big, (1.0, 1.5), (3.0, 12.0), avoid),
        ("ov_knooppunt", big, (0.0, 0.15), (1.0, 4.0), water),
        ("winkelcentrum", big, (0.3, 0.6), (0.5, 2.0), water),
        ("wijk", medium, (0.4, 0.8), (0.3, 1.0), water),
    ):
        wanted = world.targets.scaled(STRATEGISCHE_TYPES[typ])
        chosen = rng.choice(len(pool), size=min(wanted, len(pool)), replace=False)
        for j in sorted(int(c) for c in chosen):
            kern = pool[j]
            gem = world.gemeenten.geometry(kern.statcode)
            for _ in range(60):
                r = world.kern_radius(kern) * rng.uniform(*dist)
                t = rng.uniform(0.0, 2.0 * np.pi)
                geom = parcel(
                    kern.x + np.cos(t) * r,
                    kern.y + np.sin(t) * r,
                    rng.uniform(*size_ha) * 10_000.0,
                    rng,
                )
                if gem.contains(geom) and obstacles.clear_of(geom, 20.0):
                    out.append((typ, geom, None, kern.naam))
                    avoid.add(geom)
                    break
    return out


# -- reserveringen --------------------------------------------------------------------


def generate_reserveringen(
    world: World, terreinen: Terreinen, woon: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """A few reserveringen in every gemeente: on or next to terreinen, or at a kern's edge.

    Parameters
    ----------
    world
        The demo world.
    terreinen
        Reserveringen extend or subdivide these.
    woon
        Reserveringen next to a terrein or kern keep clear of housing.

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        ``reserveringen`` attributes and polygons.
    """
    rng = world.rng("reserveringen")
    avoid = Obstacles([*shapely.get_parts(world.water_union), *terreinen.geometries, *woon])
    f = terreinen.frame
    rows: list[dict] = []
    geoms: list[shapely.Geometry] = []
    for code in sorted(str(c) for c in world.gemeenten.statcodes):
        gem = world.gemeenten.geometry(code).buffer(-20.0)
        shapely.prepare(gem)
        naam_gemeente = world.gemeenten.name(code)
        mine = np.flatnonzero((f["gemeente"] == code).to_numpy())
        n = int(rng.integers(RESERVERINGEN_PER_GEMEENTE[0], RESERVERINGEN_PER_GEMEENTE[1] + 1))
        for _ in range(n):
            placed = _place_reservering(world, code, gem, mine, terreinen, avoid, rng)
            if placed is None:
                continue
            geom, heavy, place = placed
            functie = str(rng.choice(HEAVY_FUNCTIES if heavy else LIGHT_FUNCTIES))
            rows.append(_reservering_row(code, naam_gemeente, functie, place, rng))
            geoms.append(geom)
    return pd.DataFrame(rows), np.array(geoms, dtype=object)


def _place_reservering(
    world: World,
    code: str,
    gem: shapely.Geometry,
    mine: np.ndarray,
    terreinen: Terreinen,
    avoid: Obstacles,
    rng: np.random.Generator,
) -> tuple[shapely.Geometry, bool, str] | None:
    """A polygon for one reservering: part of a terrein, next to one, or at a kern's edge."""
    mode = rng.random()
    if len(mine) and mode < 0.3:
        i = int(rng.choice(mine))
        geom = terreinen.geometries[i]
        p = geom.representative_point()
        part = disc_part(
            geom, p.x + rng.normal(0, 50), p.y + rng.normal(0, 50), min(geom.area * 0.3, 8e4)
        )
        if part is not None:
            return part, bool(terreinen.hmc[i]), str(terreinen.frame["naam"].iat[i])
    for _ in range(80):
        size = rng.uniform(1.0, 10.0) * 10_000.0
        if len(mine) and mode < 0.75:
            i = int(rng.choice(mine))
            anchor = terreinen.geometries[i].representative_point()
            reach = (
                np.sqrt(terreinen.geometries[i].area) * 0.7
                + np.sqrt(size) * 0.7
                + rng.uniform(30, 300)
            )
            heavy, place = bool(terreinen.hmc[i]), str(terreinen.frame["naam"].iat[i])
        else:
            kern = world.kernen_of(code)[int(rng.integers(len(world.kernen_of(code))))]
            anchor = Point(kern.x, kern.y)
            reach = world.kern_radius(kern) * rng.uniform(1.0, 1.6) + np.sqrt(size) * 0.6
            heavy, place = False, kern.naam
        t = rng.uniform(0.0, 2.0 * np.pi)
        geom = parcel(anchor.x + np.cos(t) * reach, anchor.y + np.sin(t) * reach, size, rng)
        if gem.contains(geom) and avoid.clear_of(geom, 10.0):
            avoid.add(geom)
            return geom, heavy, place
    return None


def _reservering_row(
    code: str, naam_gemeente: str, functie: str, place: str, rng: np.random.Generator
) -> dict:
    """Attributes of one reservering: hard ones in the omgevingsplan, zacht ones in the visie."""
    hard = rng.random() < HARD_SHARE
    if hard:
        van = date(int(rng.integers(2023, 2026)), int(rng.integers(1, 13)), 1)
        tot = date(van.year + 10, 12, 31)
        plan = f"Omgevingsplan gemeente {naam_gemeente}"
    else:
        van = date(int(rng.integers(2022, 2026)), int(rng.integers(1, 13)), 1)
        tot = date(2040, 12, 31)
        plan = f"Omgevingsvisie {naam_gemeente} 2040"
    return {
        "naam": f"{FUNCTIE_NAMEN[functie]} {place}",
        "gemeente": code,
        "doel": DOELEN[functie],
        "functie": functie,
        "status": "hard" if hard else "zacht",
        "planreferentie": plan,
        "geldig_van": van.isoformat(),
        "geldig_tot": tot.isoformat(),
    }


# -- hoofdstructuur -------------------------------------------------------------------


def generate_hoofdstructuur(
    world: World, terreinen: Terreinen, locaties: StrategischeLocaties
) -> tuple[pd.DataFrame, np.ndarray]:
    """Knooppunten (points), verbindingen (lines) and deelgebieden (polygons).

    Parameters
    ----------
    world
        The demo world.
    terreinen
        For the access (modaliteit) of knooppunten on a terrein.
    locaties
        Strategic locations of the first three types become knooppunten.

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        ``hoofdstructuur`` attributes (naam, element, schaalniveau, keten, modaliteit) and
        geometries.
    """
    rng = world.rng("hoofdstructuur")
    nodes = _knooppunten(world, terreinen, locaties, rng)
    rows = [
        {
            "naam": n["naam"],
            "element": "knooppunt",
            "schaalniveau": n["schaal"],
            "keten": n["keten"],
            "modaliteit": n["mod"],
        }
        for n in nodes
    ]
    geoms: list[shapely.Geometry] = [n["point"] for n in nodes]
    for row, geom in _verbindingen(world, nodes, rng):
        rows.append(row)
        geoms.append(geom)
    for row, geom in _deelgebieden(world, nodes):
        rows.append(row)
        geoms.append(geom)
    return pd.DataFrame(rows), np.array(geoms, dtype=object)


def _knooppunten(
    world: World, terreinen: Terreinen, locaties: StrategischeLocaties, rng: np.random.Generator
) -> list[dict]:
    """Hubs at the strategic locations on terreinen and in the four largest kernen."""
    f = terreinen.frame
    nodes = []
    for k, row in enumerate(locaties.frame.itertuples()):
        i = locaties.terrein[k]
        if i is None:
            continue
        water, spoor = bool(f["ontsluiting_water"].iat[i]), bool(f["ontsluiting_spoor"].iat[i])
        mod = (
            "multimodaal" if water and spoor else "water" if water else "spoor" if spoor else "weg"
        )
        nodes.append(
            {
                "naam": f"Knooppunt {f['naam'].iat[i]}",
                "point": locaties.geometries[k].representative_point(),
                "schaal": "provincie" if row.type == "hmc_multimodaal" else "regio",
                "keten": ", ".join(sorted(rng.choice(KETENS, size=2, replace=False))),
                "mod": mod,
                "water": water,
                "spoor": spoor,
                "gemeente": row.gemeente,
            }
        )
    for kern in sorted(world.kernen, key=lambda k: (-k.inwoners, k.naam))[
        : world.targets.scaled(STEDELIJKE_KNOOPPUNTEN)
    ]:
        nodes.append(
            {
                "naam": f"Stedelijk knooppunt {kern.naam}",
                "point": Point(kern.x, kern.y),
                "schaal": "gemeente",
                "keten": ", ".join(sorted(rng.choice(KETENS, size=2, replace=False))),
                "mod": "weg",
                "water": False,
                "spoor": True,
                "gemeente": kern.statcode,
            }
        )
    return nodes


def _verbindingen(
    world: World, nodes: list[dict], rng: np.random.Generator
) -> list[tuple[dict, LineString]]:
    """Chains between hubs: a minimum spanning tree plus a few extra links, gently curved."""
    if len(nodes) < 2:
        return []
    xy = np.array([[n["point"].x, n["point"].y] for n in nodes])
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    edges = spanning_tree(dist)
    extra = [
        (i, j) for i in range(len(nodes)) for j in range(i + 1, len(nodes)) if (i, j) not in edges
    ]
    extra.sort(key=lambda e: dist[e])
    edges += extra[:3]
    out = []
    for i, j in edges:
        a, b = nodes[i], nodes[j]
        if a["water"] and b["water"] and a["spoor"] and b["spoor"]:
            mod = "multimodaal"
        elif a["water"] and b["water"]:
            mod = "water"
        elif a["spoor"] and b["spoor"]:
            mod = "spoor"
        else:
            mod = "weg"
        keten = str(rng.choice(KETENS))
        length = dist[i, j]
        mid = (xy[i] + xy[j]) / 2 + np.array(
            [-(xy[j] - xy[i])[1], (xy[j] - xy[i])[0]]
        ) * rng.uniform(-0.12, 0.12)
        line = LineString(np.round([xy[i], mid, xy[j]], 1))
        row = {
            "naam": f"Keten {keten}: {_short(a['naam'])} – {_short(b['naam'])}",
            "element": "verbinding",
            "schaalniveau": "provincie" if length > 15_000 else "regio",
            "keten": keten,
            "modaliteit": mod,
        }
        out.append((row, line))
    return out


def _short(naam: str) -> str:
    return naam.replace("Knooppunt ", "").replace("Stedelijk knooppunt ", "")


def _deelgebieden(world: World, nodes: list[dict]) -> list[tuple[dict, shapely.Geometry]]:
    """Per region with hubs: the area within 2.5 km of its hubs, inside the region."""
    by_region: dict[str, list[dict]] = {}
    for node in nodes:
        region = world.regions.get(str(node["gemeente"]), "Overig")
        by_region.setdefault(region, []).append(node)
    out = []
    for region in sorted(by_region):
        members = by_region[region]
        codes = [
            str(c)
            for c in world.gemeenten.statcodes
            if world.regions.get(str(c), "Overig") == region
        ]
        area = shapely.union_all([world.gemeenten.geometry(c) for c in codes])
        hull = shapely.convex_hull(shapely.MultiPoint([n["point"] for n in members])).buffer(
            2_500.0, quad_segs=8
        )
        geom = polygonal(shapely.intersection(hull, area), 10_000.0)
        if geom is None:
            continue
        row = {
            "naam": f"Circulair deelgebied {region}",
            "element": "deelgebied",
            "schaalniveau": "regio",
            "keten": ", ".join(sorted({k for n in members for k in n["keten"].split(", ")})),
            "modaliteit": "multimodaal" if any(n["water"] for n in members) else "weg",
        }
        out.append((row, geom))
    return out
