"""Synthetic demo data: every layer a scenario or map needs, generated offline and stored.

``ruimte demo-data`` calls :func:`load_demo_data`. It

1. settles the gemeenten: a file with real boundaries, else the real CBS 2025 boundaries
   shipped with the package (:mod:`layers.boundaries`; no network needed);
2. generates the other layers inside those gemeenten, deterministically from the seed
   (same seed and gemeenten → byte-for-byte the same features);
3. checks every layer exactly as a file import is checked (:func:`layers.importer.prepare`);
4. stores all layers in one transaction, marked synthetic: a failure stores nothing.

The generators live in the submodules of ``layers/demo/``; the demo targets (totals taken from the
reference figures in ``docs/DOMAIN.md``) are named constants there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, select

from layers import boundaries
from layers.demo.economy import HMC_FROM, generate_terreinen, generate_vestigingen
from layers.demo.gemeenten import GemeentenChoice, file_gemeenten, package_gemeenten
from layers.demo.geo import as_multipolygons
from layers.demo.land import generate_landgebruik, generate_water, generate_woongebieden
from layers.demo.policy import (
    generate_hoofdstructuur,
    generate_reserveringen,
    generate_strategische_locaties,
)
from layers.demo.world import World
from layers.errors import InvalidFeatures, LayerError, LayerExists
from layers.importer import (
    ImportPolicy,
    Prepared,
    PrepareOptions,
    StageProgress,
    frame_source,
    prepare,
    store_quality,
)
from layers.kinds import load_kinds
from layers.models import Layer
from layers.store import Provenance, store_layer
from spatial.crs import RD_NEW, crs_label

#: The demo layers, in the order they are stored; later code may rely on these names.
DEMO_LAYERS: dict[str, str] = {
    "gemeenten": "gemeenten",
    "bedrijventerreinen": "bedrijventerreinen",
    "strategische_locaties": "strategische_locaties",
    "reserveringen": "reserveringen",
    "hoofdstructuur": "hoofdstructuur",
    "woongebieden": "constraints",
    "water": "constraints",
    "landgebruik": "landgebruik",
    "vestigingen": "vestigingen",
}
DEMO_LICENCE = "CC0 1.0 (synthetic demo data)"
DEMO_FORMAT = "generated"

TITLES = {
    "gemeenten": "Gemeenten (CBS 2025)",
    "bedrijventerreinen": "Bedrijventerreinen (synthetische demodata)",
    "strategische_locaties": "Strategische locaties circulaire economie (synthetische demodata)",
    "reserveringen": "Reserveringen circulaire economie (synthetische demodata)",
    "hoofdstructuur": "Circulaire hoofdstructuur (synthetische demodata)",
    "woongebieden": "Woongebieden (synthetische demodata)",
    "water": "Water (synthetische demodata)",
    "landgebruik": "Landgebruik (synthetische demodata)",
    "vestigingen": "Vestigingen op bedrijventerreinen (synthetische demodata)",
}
DESCRIPTIONS = {
    "bedrijventerreinen": (
        "bedrijventerreinen met IBIS-achtige kenmerken (bruto, netto, uitgegeven, uitgeefbaar, "
        "maximale milieucategorie, ontsluiting); totaal rond {bruto} ha bruto"
    ),
    "strategische_locaties": (
        "strategische locaties voor circulaire bedrijvigheid, vooral op bedrijventerreinen "
        "met een hoge milieucategorie en ontsluiting over water of spoor"
    ),
    "reserveringen": (
        "ruimtereserveringen voor de circulaire samenleving in omgevingsplannen (hard) en "
        "omgevingsvisies (zacht), enkele per gemeente"
    ),
    "hoofdstructuur": (
        "circulaire hoofdstructuur: knooppunten (ruimtelijke schakels), verbindingen (ketens) "
        "en circulaire deelgebieden"
    ),
    "woongebieden": "woongebieden rond de kernen (rustig of gemengd), voor milieuzonering",
    "water": "grote rivieren, kanalen en plassen, grof getekend",
    "landgebruik": (
        "landgebruik in klassen die het hele werkgebied dekken (bedrijventerrein en woonterrein "
        "gelijk aan de demolagen)"
    ),
    "vestigingen": (
        "vestigingen als punten op de bedrijventerreinen, met SBI-code en milieucategorie"
    ),
}


@dataclass
class DemoOptions:
    """What ``ruimte demo-data`` was asked for."""

    seed: int = 2025
    gemeenten_path: Path | None = None
    """A file with real gemeente boundaries (statcode, naam)."""
    gemeenten_layer: str | None = None
    online: bool = True
    """No effect: the real boundaries ship with the package, so the demo needs no network
    (kept so that ``--offline`` and existing callers keep working)."""
    replace: bool = False
    """Store new versions of demo layers that exist already (else refuse)."""
    province: str = boundaries.DEFAULT_AREA
    """The work area whose gemeenten frame the demo: a province (CBS code or name) or ``NL``."""


@dataclass
class DemoLayer:
    """One generated layer: what to store and how to describe it."""

    name: str
    kind: str
    frame: pd.DataFrame
    geometries: np.ndarray
    summary: str
    synthetic: bool = True


@dataclass
class DemoData:
    """All demo layers, checked and ready to store."""

    gemeenten: GemeentenChoice
    layers: list[DemoLayer]
    prepared: dict[str, Prepared]
    area_text: str = "het werkgebied"
    """Where the data is plausible for, in running Dutch (``de provincie Gelderland``)."""
    bruto_ha: float = 0.0
    """The demo target of bruto bedrijventerrein (ha)."""


def load_demo_data(
    engine: Engine,
    options: DemoOptions,
    policy: ImportPolicy,
    progress: StageProgress | None = None,
) -> list[str]:
    """Generate, check and store the demo layers in one transaction.

    Parameters
    ----------
    engine
        The database.
    options
        Seed, gemeenten source, online or not, replace or not.
    policy
        The import policy (work area, limits): demo layers pass the same checks as files.
    progress
        Called with (stage, done, total): ``check`` per generated layer, ``store`` per stored one.

    Returns
    -------
    list[str]
        One summary line per layer, then notes (e.g. which gemeenten were used and why).

    Raises
    ------
    LayerExists
        When demo layers exist and ``options.replace`` is False; nothing is changed.
    """
    started = time.perf_counter()
    with engine.connect() as conn:
        existing = (
            conn.execute(select(Layer.name).where(Layer.name.in_(list(DEMO_LAYERS))))
            .scalars()
            .all()
        )
    if existing and not options.replace:
        raise LayerExists(
            f"demo layer(s) already exist: {', '.join(sorted(existing))}; use --replace to "
            "store the demo data as new versions of them (nothing was changed)"
        )
    data = generate_demo_data(options, policy, progress)
    total = len(data.layers)
    with engine.begin() as conn:
        for done, layer in enumerate(data.layers):
            prepared = data.prepared[layer.name]
            info = store_layer(
                conn,
                name=layer.name,
                kind=layer.kind,
                title=_title(layer, data.gemeenten),
                description=_description(layer, options.seed, data),
                geometry_type=prepared.geometry_type,
                features=prepared.features,
                provenance=_provenance(layer, options.seed, data.gemeenten, prepared),
                extra_fields=prepared.extra_fields,
                new_version=options.replace,
            )
            store_quality(conn, info, prepared, policy)
            if progress:
                progress("store", done + 1, total)
    lines = [layer.summary for layer in data.layers]
    lines += [f"note: {note}" for note in data.gemeenten.notes]
    lines.append(
        f"stored {total} demo layers in {time.perf_counter() - started:.1f} s (seed {options.seed})"
    )
    return lines


def generate_demo_data(
    options: DemoOptions, policy: ImportPolicy, progress: StageProgress | None = None
) -> DemoData:
    """Generate every demo layer and check it as an import would (nothing is stored).

    Parameters
    ----------
    options
        Seed and gemeenten source.
    policy
        The import policy the layers are checked against.
    progress
        Called with (``check``, done, total) per layer.

    Returns
    -------
    DemoData
        The layers and their checked features.

    Raises
    ------
    InvalidFeatures
        When a generated layer fails a check (a bug in the generator).
    """
    kinds = load_kinds()
    total = len(DEMO_LAYERS)
    choice = choose_gemeenten(options, policy)
    strict = PrepareOptions(keep_extra=False, allow_extra=False)
    prepared: dict[str, Prepared] = {}
    # a boundary file may hold more columns than statcode and naam: drop them
    drop_extra = PrepareOptions(keep_extra=False)
    gem = prepare(
        choice.source, kinds["gemeenten"], drop_extra, policy, what="demo gemeenten refused"
    )
    prepared["gemeenten"] = gem
    if progress:
        progress("check", 1, total)
    frame = gem.features.attributes
    world = World.build(
        options.seed,
        frame["statcode"].to_numpy(),
        frame["naam"].to_numpy(),
        gem.features.geometries,
        area=options.province,
    )
    layers = [
        DemoLayer(
            "gemeenten",
            "gemeenten",
            frame,
            gem.features.geometries,
            _summary_gemeenten(gem, choice),
            synthetic=False,
        )
    ]
    for layer in _generate(world):
        source = frame_source(layer.frame, layer.geometries, RD_NEW, DEMO_FORMAT)
        try:
            prepared[layer.name] = prepare(
                source, kinds[layer.kind], strict, policy, what=f"demo layer {layer.name} refused"
            )
        except InvalidFeatures as exc:
            raise LayerError(f"{exc.message}: {'; '.join(exc.lines[:5])}") from exc
        layers.append(layer)
        if progress:
            progress("check", len(layers), total)
    layers.sort(key=lambda layer: list(DEMO_LAYERS).index(layer.name))
    return DemoData(
        gemeenten=choice,
        layers=layers,
        prepared=prepared,
        area_text=boundaries.work_area(options.province).in_text,
        bruto_ha=world.targets.bruto_ha,
    )


def choose_gemeenten(options: DemoOptions, policy: ImportPolicy) -> GemeentenChoice:
    """The gemeenten: from the file when one is given, else the CBS 2025 ones of the package."""
    if options.gemeenten_path is not None:
        return file_gemeenten(
            Path(options.gemeenten_path),
            options.gemeenten_layer,
            load_kinds()["gemeenten"],
            policy.max_bytes,
            options.province,
        )
    return package_gemeenten(options.province)


def _generate(world: World) -> Iterator[DemoLayer]:
    """The layers after the gemeenten, in the order their dependencies allow."""
    terreinen = generate_terreinen(world)
    yield _layer("bedrijventerreinen", terreinen.frame, terreinen.geometries)
    yield _layer("water", *generate_water(world))
    woon_frame, woon_geoms = generate_woongebieden(world, terreinen)
    yield _layer("woongebieden", woon_frame, woon_geoms)
    locaties = generate_strategische_locaties(world, terreinen, woon_geoms)
    yield _layer("strategische_locaties", locaties.frame, locaties.geometries)
    yield _layer("reserveringen", *generate_reserveringen(world, terreinen, woon_geoms))
    yield _layer("hoofdstructuur", *generate_hoofdstructuur(world, terreinen, locaties))
    yield _layer("landgebruik", *generate_landgebruik(world, terreinen, woon_geoms))
    yield _layer("vestigingen", *generate_vestigingen(world, terreinen))


def _layer(name: str, frame: pd.DataFrame, geoms: np.ndarray) -> DemoLayer:
    """A generated layer; polygon layers get one geometry type (MultiPolygon)."""
    kind = DEMO_LAYERS[name]
    if load_kinds()[kind].geometry == "polygon" or name == "strategische_locaties":
        geoms = as_multipolygons(geoms)
    return DemoLayer(name, kind, frame, geoms, _summary(name, frame, geoms))


# -- descriptions and summaries -------------------------------------------------------


def _provenance(
    layer: DemoLayer, seed: int, choice: GemeentenChoice, prepared: Prepared
) -> Provenance:
    """Provenance: synthetic, CC0, generator and seed; the real gemeenten keep their own source."""
    if layer.name == "gemeenten":
        frame_note = f"real boundaries used as the frame of ruimte demo-data (seed {seed})"
        caveat = [boundaries.CAVEAT] if choice.origin == "package" else []
        return Provenance(
            source=choice.label,
            source_format=choice.source.format,
            source_crs=crs_label(prepared.source_crs),
            source_date=(
                date.fromisoformat(boundaries.SOURCE_DATE) if choice.origin == "package" else None
            ),
            licence=choice.licence,
            attribution=choice.attribution,
            synthetic=False,
            note="; ".join([frame_note, *choice.notes, *caveat, *prepared.notes])[:4000],
        )
    note = f"synthetic, generated within the real gemeenten of {choice.label}"
    return Provenance(
        source=f"ruimte demo-data (seed {seed})",
        source_format=DEMO_FORMAT,
        source_crs=crs_label(RD_NEW),
        licence=DEMO_LICENCE,
        attribution="Ruimte Circulair demo-data generator",
        synthetic=True,
        note=note[:4000],
    )


def _title(layer: DemoLayer, choice: GemeentenChoice) -> str:
    """Dutch layer title; the gemeenten say where their borders come from."""
    if layer.name == "gemeenten" and choice.origin == "file":
        return "Gemeenten"
    return TITLES[layer.name]


def _description(layer: DemoLayer, seed: int, data: DemoData) -> str:
    """Dutch description: real for the gemeenten, plainly synthetic for the rest."""
    choice = data.gemeenten
    if layer.name == "gemeenten" and choice.origin == "package":
        return (
            "Echte gemeentegrenzen van CBS 2025 (gebiedsindelingen, gegeneraliseerd), "
            f"gebruikt als kader voor de synthetische demodata (seed {seed}). Bron: "
            f"{boundaries.ATTRIBUTION}. Gegeneraliseerd (ongeveer 10% van de hoekpunten, "
            "1 m-raster): geschikt voor kaarten en optellingen per gemeente, niet voor "
            "werk op perceelniveau."
        )
    if layer.name == "gemeenten":
        return (
            f"Gemeentegrenzen ({choice.label}), gebruikt als kader voor de synthetische "
            f"demodata (seed {seed})."
        )
    what = DESCRIPTIONS[layer.name].format(bruto=f"{data.bruto_ha:,.0f}".replace(",", "."))
    return (
        f"Synthetische demodata, gegenereerd door ruimte demo-data (seed {seed}) binnen "
        f"de echte gemeentegrenzen: {what}. Verzonnen, maar plausibel "
        f"voor {data.area_text}; niet gebruiken voor echte besluiten."
    )


def _summary_gemeenten(gem: Prepared, choice: GemeentenChoice) -> str:
    """Summary line of the gemeenten: count, area and where they came from."""
    km2 = float(shapely.area(gem.features.geometries).sum()) / 1e6
    origin = {
        "package": f"real, CBS 2025 boundaries shipped with the package; {boundaries.ATTRIBUTION}",
        "file": f"real, from {choice.label}",
    }[choice.origin]
    return f"gemeenten: {len(gem.features.geometries)} features, {_num(km2)} km² ({origin})"


def _summary(name: str, frame: pd.DataFrame, geoms: np.ndarray) -> str:
    """One line with the figures that matter for the layer."""
    ha = float(shapely.area(geoms).sum()) / 10_000.0
    parts = [f"{len(geoms)} features"]
    if name == "bedrijventerreinen":
        hmc = int((frame["max_milieucategorie"].astype(int) >= HMC_FROM).sum())
        parts += [
            f"{_num(frame['bruto_ha'].sum())} ha bruto",
            f"{_num(frame['netto_ha'].sum())} ha netto",
            f"{_num(frame['uitgeefbaar_ha'].sum())} ha uitgeefbaar",
            f"{hmc} HMC",
        ]
    elif name == "strategische_locaties":
        parts.append(f"{_num(frame['capaciteit_ha'].sum())} ha capaciteit")
    elif name == "reserveringen":
        hard = int((frame["status"] == "hard").sum())
        parts += [f"{_num(ha)} ha", f"{hard} hard / {len(frame) - hard} zacht"]
    elif name == "hoofdstructuur":
        counts = frame["element"].value_counts()
        parts += [f"{counts.get(e, 0)} {e}" for e in ("knooppunt", "verbinding", "deelgebied")]
    elif name == "landgebruik":
        by_class = (
            pd.Series(shapely.area(geoms) / 10_000.0).groupby(frame["klasse"].to_numpy()).sum()
        )
        parts += [
            f"{_num(ha)} ha",
            f"bedrijventerrein {_num(by_class.get('bedrijventerrein', 0.0))} ha",
            f"woonterrein {_num(by_class.get('woonterrein', 0.0))} ha",
        ]
    elif name == "vestigingen":
        parts.append(f"on {frame['bedrijventerrein'].nunique()} terreinen")
    else:
        parts.append(f"{_num(ha)} ha")
    return f"{name}: {', '.join(parts)} (synthetic)"


def _num(value: float) -> str:
    return f"{value:,.1f}"
