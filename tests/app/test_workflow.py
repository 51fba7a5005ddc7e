"""The workflow concept → ingediend → vastgesteld / teruggestuurd through the API, proposals for
adopted features, the province's worklist, and write tokens of browser sessions."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text

from tests.app.conftest import TOKENS, auth
from tests.helpers import RESERVERING_FEATURE

pytestmark = pytest.mark.db

RES = "/api/layers/reserveringen/features"


def feature(naam: str = "Werkstroom", dx: float = 0.0, **props) -> dict:
    doc = copy.deepcopy(RESERVERING_FEATURE)
    doc["properties"].update(naam=naam, **props)
    ring = doc["geometry"]["coordinates"][0]
    doc["geometry"]["coordinates"][0] = [[x + dx, y] for x, y in ring]
    return doc


def etag(client, fid: int, who: str = "provincie") -> str:
    return client.get(f"{RES}/{fid}", headers=auth(who)).headers["etag"]


def act(client, fid: int, who: str, action: str, reason: str | None = None):
    body = {"action": action} | ({"reason": reason} if reason is not None else {})
    return client.post(
        f"{RES}/{fid}/workflow",
        json=body,
        headers=auth(who) | {"If-Match": etag(client, fid, who)},
    )


def public_names(client) -> set[str]:
    fc = client.get(f"{RES}?gemeente=GM0344&limit=1000").json()
    return {f["properties"]["naam"] for f in fc["features"]}


def rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM features")).scalar_one()


def test_a_gemeente_editor_saves_concepts_and_the_province_adopts(client, demo_engine):
    made = client.post(RES, json=feature("Concept Werkstroom"), headers=auth("utrecht"))
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    doc = client.get(f"{RES}/{fid}", headers=auth("utrecht")).json()
    assert doc["draft"] is True and doc["workflow"] == "concept"
    assert client.get(f"{RES}/{fid}").status_code == 404
    assert client.get(f"{RES}/{fid}", headers=auth("amersfoort")).status_code == 404
    assert "Concept Werkstroom" not in public_names(client)
    # The gemeente may not adopt, neither by a write nor by the action.
    assert act(client, fid, "utrecht", "vaststellen").status_code == 403
    assert act(client, fid, "utrecht", "indienen").status_code == 200
    assert client.get(f"{RES}/{fid}", headers=auth("utrecht")).json()["workflow"] == "ingediend"
    # Returning needs a reason; the reason reaches the gemeente.
    assert act(client, fid, "provincie", "terugsturen").status_code == 422
    back = act(client, fid, "provincie", "terugsturen", "Doel ontbreekt in het omgevingsplan")
    assert back.status_code == 200, back.text
    doc = client.get(f"{RES}/{fid}", headers=auth("utrecht")).json()
    assert doc["workflow"] == "teruggestuurd"
    assert doc["workflow_reason"] == "Doel ontbreekt in het omgevingsplan"
    # The gemeente changes it (a concept again), submits, the province adopts: public now.
    changed = client.put(
        f"{RES}/{fid}",
        json=feature("Werkstroom aangepast"),
        headers=auth("utrecht") | {"If-Match": etag(client, fid, "utrecht")},
    )
    assert changed.status_code == 200, changed.text
    assert client.get(f"{RES}/{fid}", headers=auth("utrecht")).json()["workflow"] == "concept"
    assert act(client, fid, "utrecht", "indienen").status_code == 200
    adopted = act(client, fid, "provincie", "vaststellen")
    assert adopted.status_code == 200, adopted.text
    public = client.get(f"{RES}/{fid}").json()
    assert public["properties"]["naam"] == "Werkstroom aangepast" and "draft" not in public
    history = client.get(f"{RES}/{fid}/history", headers=auth("provincie")).json()["versions"]
    assert [v["workflow"] for v in history] == [
        "concept",
        "ingediend",
        "teruggestuurd",
        "concept",
        "ingediend",
        "vastgesteld",
    ]
    assert [v["change"] for v in history][1:3] == ["indienen", "terugsturen"]


def test_a_gemeente_editor_cannot_adopt_by_writing(client, demo_engine):
    before = rows(demo_engine)
    resp = client.post(RES, json=feature() | {"draft": False}, headers=auth("utrecht"))
    assert resp.status_code == 403 and "only the province adopts" in resp.json()["detail"]
    assert rows(demo_engine) == before


def test_a_change_of_an_adopted_feature_is_a_proposal_until_adopted(client, demo_engine):
    fid = client.post(RES, json=feature("Vastgesteld origineel"), headers=auth("provincie")).json()[
        "id"
    ]
    tag = etag(client, fid)
    prop = client.put(
        f"{RES}/{fid}",
        json=feature("Voorstel van Utrecht", dx=0.0005, doel="reparatie"),
        headers=auth("utrecht") | {"If-Match": tag},
    )
    assert prop.status_code == 201, prop.text
    pid = prop.json()["id"]
    assert pid != fid
    assert client.get(f"{RES}/{pid}", headers=auth("utrecht")).json()["proposal_for"] == fid
    # The adopted state stays public and unchanged; a second proposal is refused.
    assert client.get(f"{RES}/{fid}").json()["properties"]["naam"] == "Vastgesteld origineel"
    assert etag(client, fid) == tag
    again = client.put(
        f"{RES}/{fid}", json=feature("Nog een"), headers=auth("utrecht") | {"If-Match": tag}
    )
    assert again.status_code == 409 and str(pid) in again.json()["detail"]
    # Submitted, it is on the worklist with its differences.
    assert act(client, pid, "utrecht", "indienen").status_code == 200
    assert client.get("/api/worklist", headers=auth("utrecht")).status_code == 403
    assert client.get("/api/worklist").status_code == 401
    items = client.get("/api/worklist", headers=auth("provincie")).json()["items"]
    item = next(i for i in items if i["fid"] == pid)
    assert item["proposal_for"] == fid and item["geometry_changed"] is True
    changes = {c["field"]: (c["before"], c["after"]) for c in item["changes"]}
    assert changes["naam"] == ("Vastgesteld origineel", "Voorstel van Utrecht")
    assert changes["doel"] == ("opslag", "reparatie")
    assert "gemeente" not in changes
    # Adopted: the feature takes the proposal's content under its own id; the proposal is gone.
    assert act(client, pid, "provincie", "vaststellen").status_code == 200
    now = client.get(f"{RES}/{fid}").json()
    assert now["properties"]["naam"] == "Voorstel van Utrecht"
    assert client.get(f"{RES}/{pid}", headers=auth("provincie")).status_code == 404
    assert all(
        i["fid"] != pid
        for i in client.get("/api/worklist", headers=auth("provincie")).json()["items"]
    )


def test_adopted_features_stay_with_the_province(client, demo_engine):
    fid = client.post(RES, json=feature("Blijft staan"), headers=auth("provincie")).json()["id"]
    tag = etag(client, fid)
    gone = client.delete(f"{RES}/{fid}", headers=auth("utrecht") | {"If-Match": tag})
    assert gone.status_code == 403 and "adopted" in gone.json()["detail"]
    assert etag(client, fid) == tag


def _session(client, who: str) -> None:
    resp = client.post(
        "/inloggen", data={"token": TOKENS[who], "next": "/"}, follow_redirects=False
    )
    assert resp.status_code == 303


def test_write_tokens_come_from_a_session_and_carry_its_rights(client, demo_engine):
    client.cookies.clear()
    assert client.get("/api/session/write-token").status_code == 401
    _session(client, "lezer")
    assert client.get("/api/session/write-token").status_code == 403
    _session(client, "utrecht")
    resp = client.get("/api/session/write-token")
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"
    token = resp.json()["token"]
    # The cookie alone never writes; the write token does, as the session's user.
    assert client.post(RES, json=feature("Met cookie")).status_code == 401
    made = client.post(
        RES, json=feature("Met schrijftoken"), headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    assert client.get(f"{RES}/{fid}", headers=auth("utrecht")).json()["workflow"] == "concept"
    # A tampered or foreign-signed token is refused.
    bad = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert (
        client.post(RES, json=feature(), headers={"Authorization": f"Bearer {bad}"}).status_code
        == 401
    )
    client.cookies.clear()


def test_the_worklist_page_is_for_the_province(client, demo_engine):
    client.cookies.clear()
    resp = client.get("/beheer", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/inloggen?next=/beheer"
    _session(client, "utrecht")
    assert client.get("/beheer").status_code == 403
    fid = client.post(RES, json=feature("Op de werklijst"), headers=auth("utrecht")).json()["id"]
    assert act(client, fid, "utrecht", "indienen").status_code == 200
    _session(client, "provincie")
    page = client.get("/beheer")
    assert page.status_code == 200 and "Op de werklijst" in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split(";")[1]
    client.cookies.clear()
