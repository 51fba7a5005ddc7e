"""Paging (issue 14): offset pages are slices of one ordered list, keyset pages (the next links'
``cursor``) walk the same list, with sortby, ties and nulls, and bad cursors are a 400."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from layers.importer import ImportPolicy, ImportRequest, import_file
from tests.app.conftest import make_app
from tests.conftest import empty_data_tables
from tests.helpers import X0, Y0, square, terreinen, write

N = 230


@pytest.fixture(scope="module")
def client(engine, tmp_path_factory):
    empty_data_tables(engine)
    frame = terreinen(N)
    frame.geometry = [square(X0 + (i % 20) * 300.0, Y0 + (i // 20) * 300.0) for i in range(N)]
    rng = np.random.default_rng(5)
    # Ties (bruto in 7 values) and nulls (terstond on every third row) for the sort keys.
    frame["bruto_ha"] = 10.0 + rng.integers(0, 7, N)
    frame["netto_ha"] = 9.0
    frame["uitgegeven_ha"] = 6.0
    frame["uitgeefbaar_ha"] = 3.0
    frame["uitgeefbaar_terstond_ha"] = [None if i % 3 == 0 else 1.0 + i % 2 for i in range(N)]
    frame["uitgeefbaar_niet_terstond_ha"] = [None if i % 3 == 0 else 2.0 - i % 2 for i in range(N)]
    path = write(frame, tmp_path_factory.mktemp("paging") / "t.gpkg")
    import_file(
        engine, ImportRequest(path=path, kind="bedrijventerreinen", name="pages"), ImportPolicy()
    )
    with TestClient(make_app(engine)) as c:
        yield c
    empty_data_tables(engine)


def _walk(client, url: str) -> tuple[list[int], list[dict]]:
    """Follow the next links from ``url``; the ids in order and every page body."""
    ids: list[int] = []
    bodies = []
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        bodies.append(body)
        ids += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else ""
        assert len(bodies) < 50
    return ids, bodies


@pytest.mark.parametrize("base", ["/api/layers/pages/features", "/ogc/collections/pages/items"])
def test_next_links_walk_every_feature_once_by_cursor(client, base):
    everything = [f["id"] for f in client.get(f"{base}?limit=1000").json()["features"]]
    assert len(everything) == N and everything == sorted(everything)
    ids, bodies = _walk(client, f"{base}?limit=40")
    assert ids == everything
    assert len(bodies) == 6
    for body in bodies[1:]:
        self_link = next(link["href"] for link in body["links"] if link["rel"] == "self")
        assert "cursor=" in self_link and "offset=" not in self_link


@pytest.mark.parametrize("base", ["/api/layers/pages/features", "/ogc/collections/pages/items"])
def test_offset_pages_are_slices_of_the_same_order(client, base):
    everything = [f["id"] for f in client.get(f"{base}?limit=1000").json()["features"]]
    for offset in (0, 39, 200, 229, 230, 500):
        page = client.get(f"{base}?limit=40&offset={offset}").json()["features"]
        assert [f["id"] for f in page] == everything[offset : offset + 40]


@pytest.mark.parametrize(
    "sortby",
    [
        "bruto_ha",
        "-bruto_ha",
        "uitgeefbaar_terstond_ha,-bruto_ha",
        "-uitgeefbaar_terstond_ha",
        "naam",
        "-max_milieucategorie,uitgeefbaar_niet_terstond_ha",
    ],
)
def test_cursor_pages_follow_sortby_with_ties_and_nulls(client, sortby):
    base = f"/ogc/collections/pages/items?sortby={sortby}"
    everything = client.get(f"{base}&limit=1000").json()
    expected = [f["id"] for f in everything["features"]]
    assert len(expected) == N
    ids, bodies = _walk(client, f"{base}&limit=17")
    assert ids == expected
    assert all(b["numberMatched"] == N for b in bodies)
    assert [b["numberReturned"] for b in bodies][:-1] == [17] * (len(bodies) - 1)


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense!",
        "%00",
        _cursor({"a": 1}),
        _cursor([]),
        _cursor(["x"]),
        _cursor([True]),
        _cursor([1.5]),
        _cursor([2**70]),
        _cursor([[1], 5]),
        "A" * 3000,
    ],
)
@pytest.mark.parametrize("base", ["/api/layers/pages/features", "/ogc/collections/pages/items"])
def test_a_bad_cursor_is_a_clear_400(client, base, cursor):
    r = client.get(f"{base}?cursor={cursor}")
    assert r.status_code in (400, 422), r.text
    assert "cursor" in r.text or "NUL" in r.text


def test_cursor_of_another_sort_and_cursor_with_offset_are_refused(client):
    r = client.get(f"/ogc/collections/pages/items?sortby=bruto_ha&cursor={_cursor([5])}")
    assert r.status_code == 400 and "sort" in r.json()["detail"]
    r = client.get(f"/ogc/collections/pages/items?offset=5&cursor={_cursor([5])}")
    assert r.status_code == 400 and "not both" in r.json()["detail"]
    r = client.get(f"/api/layers/pages/features?offset=5&cursor={_cursor([5])}")
    assert r.status_code == 400
