"""Access control: the authorization matrix, drafts on every read surface, history and restore,
optimistic concurrency, token lifecycle, rate limits and security headers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from app.models import ApiToken
from tests.app.conftest import TOKENS, auth, make_app

ROLES = ["anoniem", "lezer", "utrecht", "amersfoort", "provincie", "admin"]
RES = "/api/layers/reserveringen/features"


def headers(role: str, **extra) -> dict[str, str]:
    return {**(auth(role) if role in TOKENS else {}), **extra}


def reservering(gemeente="GM0344", naam="Matrix", draft=False, **props):
    ring = [[5.10, 52.08], [5.102, 52.08], [5.102, 52.081], [5.10, 52.081], [5.10, 52.08]]
    if gemeente == "GM0307":  # Amersfoort
        ring = [[5.38, 52.15], [5.382, 52.15], [5.382, 52.151], [5.38, 52.151], [5.38, 52.15]]
    doc = {
        "type": "Feature",
        "properties": {
            "naam": naam,
            "gemeente": gemeente,
            "doel": "reparatiehub",
            "status": "zacht",
            **props,
        },
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    if draft:
        doc["draft"] = True
    return doc


def create_as(client, role, doc, path=RES) -> int:
    resp = client.post(path, json=doc, headers=headers(role))
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def tag_of(client, fid, path=RES) -> str:
    return client.get(f"{path}/{fid}", headers=auth("provincie")).headers["etag"]


# -- the authorization matrix: every role × every write endpoint -------------------------------

# expected status per role: anoniem, lezer, utrecht (GM0344), amersfoort (GM0307), provincie, admin
MATRIX = {
    "create reservering GM0344": [401, 403, 201, 403, 201, 201],
    # A gemeente-editor's change of an adopted reservering is a new concept proposing it (201);
    # only the province changes, deletes or restores adopted features in place.
    "update reservering GM0344": [401, 403, 201, 403, 200, 200],
    "update reservering GM0307": [401, 403, 403, 201, 200, 200],
    "move reservering GM0344 to GM0307": [401, 403, 403, 403, 200, 200],
    "delete reservering GM0344": [401, 403, 403, 403, 204, 204],
    "restore reservering GM0344": [401, 403, 403, 403, 200, 200],
    "create bedrijventerrein": [401, 403, 403, 403, 201, 201],
    "publish a layer": [401, 403, 403, 403, 200, 200],
    "save a scenario spec": [401, 403, 403, 403, 201, 201],
}


def _attempt(client, action: str, role: str):
    if action == "create reservering GM0344":
        return client.post(RES, json=reservering(), headers=headers(role))
    if action.startswith("update reservering") or action.startswith("move"):
        gem = "GM0307" if action.endswith("GM0307") and action.startswith("update") else "GM0344"
        fid = create_as(client, "provincie", reservering(gem))
        new = reservering(
            "GM0307" if action.startswith("move") or gem == "GM0307" else "GM0344", naam="Gewijzigd"
        )
        return client.put(
            f"{RES}/{fid}", json=new, headers=headers(role, **{"If-Match": tag_of(client, fid)})
        )
    if action == "delete reservering GM0344":
        fid = create_as(client, "provincie", reservering())
        return client.delete(
            f"{RES}/{fid}", headers=headers(role, **{"If-Match": tag_of(client, fid)})
        )
    if action == "restore reservering GM0344":
        fid = create_as(client, "provincie", reservering())
        first = client.get(f"{RES}/{fid}/history", headers=auth("provincie")).json()["versions"][0][
            "version_from"
        ]
        client.put(
            f"{RES}/{fid}",
            json=reservering(naam="Later"),
            headers=headers("provincie", **{"If-Match": tag_of(client, fid)}),
        )
        return client.post(
            f"{RES}/{fid}/restore?version={first}",
            headers=headers(role, **{"If-Match": tag_of(client, fid)}),
        )
    if action == "create bedrijventerrein":
        doc = {
            "type": "Feature",
            "properties": {
                "naam": "Nieuw",
                "gemeente": "GM0344",
                "bruto_ha": 2,
                "netto_ha": 1.5,
                "uitgegeven_ha": 1,
                "uitgeefbaar_ha": 0.5,
                "max_milieucategorie": "3.1",
            },
            "geometry": reservering()["geometry"],
        }
        return client.post(
            "/api/layers/bedrijventerreinen/features", json=doc, headers=headers(role)
        )
    if action == "publish a layer":
        return client.patch("/api/layers/water", json={"published": True}, headers=headers(role))
    if action == "save a scenario spec":
        spec = {
            "name": f"matrix-{role}",
            "base": "pbl-2023-bedrijventerreinen-40",
            "title": "Matrix",
        }
        return client.post("/api/scenarios", json=spec, headers=headers(role))
    raise AssertionError(action)


@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(client, demo_engine, action, role):
    expected = MATRIX[action][ROLES.index(role)]
    before = _feature_rows(demo_engine)
    resp = _attempt(client, action, role)
    assert resp.status_code == expected, resp.text
    if expected >= 400:
        assert resp.headers["content-type"] == "application/problem+json"
        # nothing changed by the refused request (the set-up above is done by the province)
        setup_rows = {
            "create reservering GM0344": 0,
            "create bedrijventerrein": 0,
            "publish a layer": 0,
            "save a scenario spec": 0,
            "delete reservering GM0344": 1,
        }.get(action)
        if setup_rows is not None:
            assert _feature_rows(demo_engine) == before + setup_rows


def _feature_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM features")).scalar_one()


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_running_scenarios_is_for_the_province(client, role):
    resp = client.post(
        "/api/scenarios/ruimte-voor-economie-industrie-10/runs", headers=headers(role)
    )
    assert resp.status_code == {"anoniem": 401, "provincie": 201, "admin": 201}.get(role, 403), (
        resp.text
    )


def test_gemeente_editor_cannot_change_another_gemeentes_reservering(client, demo_engine):
    fid = create_as(client, "provincie", reservering("GM0307", naam="Van Amersfoort"))
    before = client.get(f"{RES}/{fid}", headers=auth("provincie")).json()
    tag = tag_of(client, fid)
    resp = client.put(
        f"{RES}/{fid}",
        json=reservering("GM0307", naam="Overgenomen"),
        headers=headers("utrecht", **{"If-Match": tag}),
    )
    assert resp.status_code == 403 and "GM0344 only" in resp.json()["detail"]
    assert (
        client.delete(f"{RES}/{fid}", headers=headers("utrecht", **{"If-Match": tag})).status_code
        == 403
    )
    assert client.get(f"{RES}/{fid}", headers=auth("provincie")).json() == before
    assert tag_of(client, fid) == tag


# -- drafts on every read surface -----------------------------------------------------------------

SEES_DRAFT = {
    "anoniem": False,
    "lezer": False,
    "utrecht": True,
    "amersfoort": False,
    "provincie": True,
    "admin": True,
}


@pytest.fixture(scope="module")
def draft_fid(client):
    return create_as(
        client, "utrecht", reservering("GM0344", naam="Concept Utrecht Circulair", draft=True)
    )


@pytest.mark.parametrize("role", ROLES)
def test_drafts_only_for_their_gemeente_and_the_province(client, draft_fid, role):
    h = headers(role)
    sees = SEES_DRAFT[role]
    listing = client.get(f"{RES}?gemeente=GM0344&limit=1000", headers=h).json()
    assert (draft_fid in [f["id"] for f in listing["features"]]) == sees
    single = client.get(f"{RES}/{draft_fid}", headers=h)
    assert single.status_code == (200 if sees else 404)
    if sees:
        assert single.json()["draft"] is True
    assert client.get(f"{RES}/{draft_fid}/history", headers=h).status_code == (200 if sees else 404)
    download = client.get("/api/layers/reserveringen/download?format=geojson", headers=h)
    assert ("Concept Utrecht Circulair" in download.text) == sees
    page = client.get("/kaart/gemeente/GM0344", headers=h)
    assert ("Concept Utrecht Circulair" in page.text) == sees
    overview = client.get("/kaart", headers=h)
    assert ("Concept Utrecht Circulair" in overview.text) == sees


def test_scenario_runs_leave_drafts_out(client, draft_fid, demo_engine):
    import scenarios
    from scenarios.runner import read_inputs

    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM features WHERE draft")).scalar_one() >= 1
        inputs = read_inputs(conn, scenarios.load_preset("pbl-2023-bedrijventerreinen-40"))
    fids = set(inputs.layers["reserveringen"].fids.tolist())
    assert fids and draft_fid not in fids


@pytest.mark.parametrize("role", ROLES)
def test_unpublished_layers_only_for_the_province(client, role):
    assert (
        client.patch(
            "/api/layers/water", json={"published": False}, headers=auth("provincie")
        ).status_code
        == 200
    )
    try:
        h = headers(role)
        sees = role in ("provincie", "admin")
        names = [lyr["name"] for lyr in client.get("/api/layers", headers=h).json()["layers"]]
        assert ("water" in names) == sees
        for url in (
            "/api/layers/water",
            "/api/layers/water/features",
            "/api/layers/water/download?format=gpkg",
        ):
            assert client.get(url, headers=h).status_code == (200 if sees else 404), url
        assert ("Water (synthetische demodata)" in client.get("/kaart", headers=h).text) == sees
    finally:
        client.patch("/api/layers/water", json={"published": True}, headers=auth("provincie"))


# -- history and restore --------------------------------------------------------------------------


def test_restore_gives_back_exactly_the_earlier_state(client):
    rd = {"crs": "http://www.opengis.net/def/crs/EPSG/0/28992"}
    fid = create_as(
        client, "utrecht", reservering(naam="Eerste versie", planreferentie="Visie 2040")
    )
    original = client.get(f"{RES}/{fid}", params=rd, headers=auth("utrecht")).json()
    changed = reservering(naam="Tweede versie", status="hard")
    changed["geometry"]["coordinates"][0][1] = [5.103, 52.08]
    tag = client.get(f"{RES}/{fid}", headers=auth("utrecht")).headers["etag"]
    assert (
        client.put(
            f"{RES}/{fid}", json=changed, headers={**auth("utrecht"), "If-Match": tag}
        ).status_code
        == 200
    )

    hist = client.get(f"{RES}/{fid}/history", params=rd, headers=auth("utrecht")).json()["versions"]
    assert [v["change"] for v in hist] == ["create", "update"]
    assert hist[0]["ended_change"] == "update" and hist[0]["ended_by"].startswith("utrecht")
    assert hist[0]["feature"]["properties"]["naam"] == "Eerste versie"
    assert hist[1]["feature"]["properties"]["naam"] == "Tweede versie"

    tag = client.get(f"{RES}/{fid}", headers=auth("utrecht")).headers["etag"]
    resp = client.post(
        f"{RES}/{fid}/restore?version={hist[0]['version_from']}",
        headers={**auth("utrecht"), "If-Match": tag},
    )
    assert resp.status_code == 200, resp.text
    restored = client.get(f"{RES}/{fid}", params=rd, headers=auth("utrecht")).json()
    assert restored["properties"] == original["properties"]
    assert restored["geometry"] == original["geometry"]
    hist = client.get(f"{RES}/{fid}/history", headers=auth("utrecht")).json()["versions"]
    assert [v["change"] for v in hist] == ["create", "update", "restore"]


def test_a_deleted_feature_can_be_restored(client):
    fid = create_as(client, "provincie", reservering(naam="Weg en terug"))
    first = client.get(f"{RES}/{fid}/history", headers=auth("provincie")).json()["versions"][0][
        "version_from"
    ]
    assert (
        client.delete(
            f"{RES}/{fid}", headers={**auth("provincie"), "If-Match": tag_of(client, fid)}
        ).status_code
        == 204
    )
    assert client.get(f"{RES}/{fid}").status_code == 404
    assert (
        client.post(f"{RES}/{fid}/restore?version={first}", headers=auth("provincie")).status_code
        == 200
    )
    assert client.get(f"{RES}/{fid}").json()["properties"]["naam"] == "Weg en terug"


# -- concurrency -----------------------------------------------------------------------------------


def test_two_concurrent_writers_one_wins_the_other_gets_412(client, demo_engine):
    fid = create_as(client, "provincie", reservering(naam="Gedeeld"))
    tag = tag_of(client, fid)
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def write(name):
        with TestClient(client.app) as c:
            barrier.wait()
            r = c.put(
                f"{RES}/{fid}",
                json=reservering(naam=name),
                headers={**auth("provincie"), "If-Match": tag},
            )
            results[name] = r.status_code

    threads = [threading.Thread(target=write, args=(n,)) for n in ("Schrijver A", "Schrijver B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 412]
    winner = next(n for n, s in results.items() if s == 200)
    assert client.get(f"{RES}/{fid}").json()["properties"]["naam"] == winner
    hist = client.get(f"{RES}/{fid}/history", headers=auth("provincie")).json()["versions"]
    assert [v["change"] for v in hist] == ["create", "update"]  # no lost, no double update


def test_missing_if_match_is_428(client):
    fid = create_as(client, "provincie", reservering())
    resp = client.put(f"{RES}/{fid}", json=reservering(), headers=auth("provincie"))
    assert resp.status_code == 428 and resp.headers["content-type"] == "application/problem+json"
    assert client.delete(f"{RES}/{fid}", headers=auth("provincie")).status_code == 428


# -- tokens, rate limits, headers ------------------------------------------------------------------


def test_revoked_and_expired_tokens_are_refused(client, demo_engine):
    from app.auth import create_token, revoke_token

    with demo_engine.begin() as conn:
        token, record = create_token(conn, "utrecht", expires_days=1)
    h = {"Authorization": f"Bearer {token}"}
    assert client.post(RES, json=reservering(), headers=h).status_code == 201
    with demo_engine.begin() as conn:
        revoke_token(conn, record.id)
    assert client.post(RES, json=reservering(), headers=h).status_code == 401
    with demo_engine.begin() as conn:
        token2, record2 = create_token(conn, "utrecht", expires_days=1)
        conn.execute(
            update(ApiToken)
            .where(ApiToken.id == record2.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    resp = client.get("/api/layers", headers={"Authorization": f"Bearer {token2}"})
    assert resp.status_code == 401 and resp.headers["www-authenticate"].startswith("Bearer")


def test_tokens_are_stored_hashed(demo_engine):
    with demo_engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert stored and not any(t in stored for t in TOKENS.values())
    assert all(len(h) == 64 for h in stored)


def test_write_rate_limit(demo_engine):
    with TestClient(make_app(demo_engine)) as c:
        c.app.state.rate_limiter.capacity = 3.0
        c.app.state.rate_limiter.per_second = 0.01
        codes = [
            c.post(
                RES, json=reservering(naam=f"snel {i}"), headers=auth("amersfoort") | {}
            ).status_code
            for i in range(5)
        ]
    # amersfoort may not write GM0344 (403), but every write counts: the 4th is refused with 429
    assert codes[:3] == [403, 403, 403] and codes[3:] == [429, 429]


def test_security_headers_on_pages(client):
    for url in ("/", "/kaart", "/api-docs"):
        resp = client.get(url)
        assert resp.headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in resp.headers["content-security-policy"]
        assert resp.headers["x-content-type-options"] == "nosniff"


def test_sql_injection_attempts_are_plain_values(client):
    for url in (
        f"{RES}?status=hard'%20OR%201=1--",
        f"{RES}?gemeente=GM0344%27--",
        "/api/layers/reserveringen%27%3B%20DROP%20TABLE%20features--/features",
        f"{RES}?naam=x%22%7D",
    ):
        resp = client.get(url)
        assert resp.status_code in (200, 404, 422), url
        if resp.status_code == 200:
            assert json.loads(resp.text)["numberReturned"] == 0
    assert client.get("/api/layers/gemeenten/features?limit=1").status_code == 200


def test_browser_session_shows_drafts_on_maps_but_cannot_write(client, draft_fid):
    with TestClient(client.app) as browser:
        assert "Concept Utrecht Circulair" not in browser.get("/kaart/gemeente/GM0344").text
        bad = browser.post("/inloggen", data={"token": "rc_nope"}, follow_redirects=False)
        assert bad.status_code == 401 and "onbekend" in bad.text
        foreign = browser.post(
            "/inloggen",
            data={"token": TOKENS["utrecht"]},
            headers={"Origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        ok = browser.post(
            "/inloggen",
            data={"token": TOKENS["utrecht"], "next": "/kaart/gemeente/GM0344"},
            follow_redirects=False,
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/kaart/gemeente/GM0344"
        cookie = ok.headers["set-cookie"]
        assert (
            "httponly" in cookie.lower()
            and "samesite=strict" in cookie.lower()
            and TOKENS["utrecht"] not in cookie
        )
        assert "Concept Utrecht Circulair" in browser.get("/kaart/gemeente/GM0344").text
        assert browser.get(f"{RES}/{draft_fid}").status_code == 200
        # a session reads; writing (also cross-site) needs the bearer token itself
        assert browser.post(RES, json=reservering()).status_code == 401
        browser.post("/uitloggen")
        assert browser.get(f"{RES}/{draft_fid}").status_code == 404


def test_session_ends_when_its_token_is_revoked(client, demo_engine, draft_fid):
    from app.auth import create_token, revoke_token

    with demo_engine.begin() as conn:
        token, record = create_token(conn, "utrecht", expires_days=1)
    with TestClient(client.app) as browser:
        browser.post("/inloggen", data={"token": token})
        assert browser.get(f"{RES}/{draft_fid}").status_code == 200
        with demo_engine.begin() as conn:
            revoke_token(conn, record.id)
        assert browser.get(f"{RES}/{draft_fid}").status_code == 404
