"""Dutch numbers and dates from one helper (app/nl_format.py), and the data-driven classes
of the balance choropleth (no database)."""

from __future__ import annotations

import datetime as dt

from app.charts import balance_bars
from app.maps import diverging_classes
from app.nl_format import datum, datum_tijd, gemeente, getal, jaar, page_templates, waarde
from layers.kinds import load_kinds


def test_numbers_the_dutch_way():
    assert getal(1760.0, 1) == "1.760,0"
    assert getal(191.53) == "191,53"
    assert getal(24.8) == "24,8"
    assert getal(3343) == "3.343"
    assert getal(1234567.891, 2) == "1.234.567,89"
    assert getal(-405.94, 1) == "-405,9"
    assert getal(-0.04, 1) == "0,0"
    assert getal(None) == getal("") == "–"
    assert getal(float("nan")) == "–"


def test_years_and_codes_are_not_numbers():
    kinds = load_kinds()
    assert jaar(2025) == jaar(2025.0) == "2025"
    locaties = kinds["strategische_locaties"]
    assert waarde(2030, "beschikbaar_vanaf", locaties) == "2030"
    assert waarde(12.5, "oppervlakte_ha", locaties) == "12,5"
    terreinen = kinds["bedrijventerreinen"]
    assert waarde("4.2", "max_milieucategorie", terreinen) == "4.2"
    assert waarde(12345, "fid") == "12345"
    assert waarde(12345.5, "bruto_ha") == "12.345,5"
    assert waarde(True, "x") == "ja"


def test_gemeente_names_beside_codes():
    names = {"GM0344": "Utrecht"}
    assert gemeente("GM0344", names) == "Utrecht (GM0344)"
    assert gemeente("GM9999", names) == "GM9999"
    kind = load_kinds()["reserveringen"]
    assert waarde("GM0344", "gemeente", kind, names) == "Utrecht (GM0344)"


def test_dates():
    assert datum(dt.date(2025, 1, 31)) == "31-01-2025"
    assert datum("2025-01-31") == "31-01-2025"
    assert datum(dt.date(2025, 1, 31), lang=True) == "31 januari 2025"
    assert datum_tijd(dt.datetime(2026, 12, 2, 16, 52)) == "02-12-2026 16:52"


def test_filters_in_every_page_template():
    env = page_templates().env
    text = env.from_string(
        "{{ 1760.0 | getal(1) }} {{ 2025 | jaar }} {{ 0.254 | procent }}"
    ).render()
    assert text == "1.760,0 2025 25,4%"


def test_chart_uses_the_same_numbers():
    svg = balance_bars([{"naam": "A", "balance_ha": -1760.04}, {"naam": "B", "balance_ha": 18.8}])
    assert "-1.760,0 ha" in svg and "18,8 ha" in svg


def test_diverging_classes_per_side_from_the_data():
    values = [-405.94, -120.0, -30.2, -3.0, -1.0, 0.2, 2.5, 10.0, 18.8, None]
    d = diverging_classes(values)
    labels = [c["label"] for c in d["classes"]]
    # Surpluses end at the largest surplus, deficits at the largest deficit.
    assert labels[0].startswith("Overschot") and labels[0].endswith("– 18,8 ha")
    assert any(label.endswith("– 405,9 ha") for label in labels if label.startswith("Tekort"))
    assert not any("405,9" in label for label in labels if label.startswith("Overschot"))
    assert any(label.startswith("In balans") for label in labels)
    assert labels[-1] == "Geen gegevens"
    assert all(c["fill"].startswith("#") for c in d["classes"])
    # Legend order: surpluses (largest first), in balance, deficits (smallest first).
    assert [c["side"] for c in d["classes"]] == [1, 1, 1, 0, -1, -1, -1, None]
    # Classes of one side are contiguous and increasing.
    deficits = [c for c in d["classes"] if c["side"] == -1]
    assert all(a["upTo"] == b["above"] for a, b in zip(deficits, deficits[1:], strict=False))


def test_diverging_without_surpluses_has_no_surplus_class():
    d = diverging_classes([-10.0, -5.0, -1.0])
    assert not any(c["side"] == 1 for c in d["classes"])
    assert [c["side"] for c in d["classes"]].count(0) == 1
