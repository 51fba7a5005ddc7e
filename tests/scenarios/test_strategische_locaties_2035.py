"""The strategische-locaties-2035 indicator: available by the year, against the spec's target,
one test per colour, figures against an independent computation (issue 16, item 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from scenarios.errors import SpecError
from scenarios.indicators import available_by, location_statuses, strategische_locaties
from scenarios.inputs import Inputs, LayerData
from scenarios.spec import StrategischeLocatiesTarget
from scenarios.units import Gemeenten
from scenarios.validation import validate_spec

#: (gemeente, status, beschikbaar_vanaf, capaciteit_ha)
LOCATIONS = [
    ("GM0001", "beschikbaar", None, 10.0),  # available now
    ("GM0001", "verkenning", 2030, 20.0),  # by 2030
    ("GM0002", "voorgesteld", 2035, 5.0),  # just in time
    ("GM0002", "vastgelegd", 2040, 40.0),  # too late
    ("GM0002", "voorgesteld", None, 7.0),  # no year, not available
]


def _inputs() -> tuple[Inputs, Gemeenten]:
    frame = pd.DataFrame(
        LOCATIONS, columns=["gemeente", "status", "beschikbaar_vanaf", "capaciteit_ha"]
    )
    frame["naam"] = [f"Locatie {i}" for i in range(len(frame))]
    points = np.array([shapely.Point(i * 100, 0) for i in range(len(frame))], dtype=object)
    loc = LayerData("strategische_locaties", "strategische_locaties", 1, points, frame)
    gem = Gemeenten(
        statcodes=np.array(["GM0001", "GM0002"]),
        namen=np.array(["A", "B"]),
        geometries=np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object),
        regions=np.array([None, None], dtype=object),
    )
    inputs = Inputs(
        {"strategische_locaties": loc},
        gemeenten="gemeenten",
        bedrijventerreinen="bedrijventerreinen",
        strategische_locaties="strategische_locaties",
    )
    return inputs, gem


def _independent(year: int) -> tuple[float, int]:
    ha = count = 0
    for _, status, since, cap in LOCATIONS:
        if status in ("beschikbaar", "in_gebruik") or (since is not None and since <= year):
            ha, count = ha + cap, count + 1
    return ha, count


@pytest.mark.parametrize(
    ("target_ha", "target_count", "status"),
    [(35.0, 3, "groen"), (40.0, 3, "oranje"), (35.0, 5, "rood"), (None, None, None)],
)
def test_one_status_per_colour(target_ha, target_count, status):
    inputs, gem = _inputs()
    target = StrategischeLocatiesTarget(target_ha=target_ha, target_count=target_count)
    out = strategische_locaties(inputs, gem, target, location_statuses())
    ha, count = _independent(2035)
    assert out["available_ha"] == pytest.approx(ha, abs=0.01) == 35.0
    assert out["available_count"] == count == 3
    assert out["status"] == status
    if status is None:
        assert out["share"] is None and "geen doel" in out["reason"]
    else:  # the lowest share of the targets given decides
        assert out["share"] == pytest.approx(min(ha / target_ha, count / target_count))
    assert out["per_gemeente"]["GM0001"] == {
        "available_ha": 30.0,
        "available_count": 2,
        "total_ha": 30.0,
        "total_count": 2,
    }
    assert out["per_gemeente"]["GM0002"]["available_ha"] == 5.0


def test_another_year_counts_other_locations():
    inputs, gem = _inputs()
    out = strategische_locaties(
        inputs, gem, StrategischeLocatiesTarget(year=2040, target_ha=75), location_statuses()
    )
    assert (out["available_ha"], out["available_count"]) == _independent(2040) == (75.0, 4)
    assert out["status"] == "groen"


def test_available_by_status_only_without_a_year():
    status = np.array(["beschikbaar", "verkenning", "in_gebruik"])
    years = np.array([np.nan, 2030, np.nan])
    assert available_by(status, years, None, ["beschikbaar", "in_gebruik"]).tolist() == [
        True,
        False,
        True,
    ]


def test_an_unknown_available_status_is_a_spec_error_with_did_you_mean():
    spec = {
        "name": "x",
        "base_year": 2025,
        "horizon_year": 2035,
        "demand": {"categories": [{"name": "a", "growth_pct": 10}]},
        "indicators": {"strategische_locaties": {"available_statuses": ["beschikbar"]}},
    }
    with pytest.raises(SpecError, match=r"did you mean 'beschikbaar'"):
        validate_spec(spec)
    spec["indicators"] = {"strategische_locaties": {"oranje_from": 2}}
    with pytest.raises(SpecError, match=r"oranje_from"):
        validate_spec(spec)
