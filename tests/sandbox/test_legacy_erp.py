"""The legacy 4D ERP stand-in behaves as documented, checked with plain HTTP requests."""

import datetime
import json

import pytest
import requests

from sandbox.legacy_erp import LegacyErpStandIn, parse_erp_date, parse_filter


def body(response):
    """The body as Python reads it: the ERP writes NaN and Infinity, which strict parsers refuse."""
    return json.loads(response.text)


def session(server):
    client = requests.Session()
    assert client.get(f"{server.url}/rest/$info", timeout=5).status_code == 200
    return client


def test_info_opens_a_session_cookie_that_later_requests_need(erp_server):
    assert requests.get(f"{erp_server.url}/rest/Kunden", timeout=5).status_code == 401
    client = session(erp_server)
    assert "WASID4D" in client.cookies
    page = body(client.get(f"{erp_server.url}/rest/Kunden", params={"$top": 5}))
    assert page["__COUNT"] == 150 and len(page["__ENTITIES"]) == 5
    assert {"__KEY", "__STAMP", "__TIMESTAMP"} <= set(page["__ENTITIES"][0])


def test_too_many_sessions_is_402_and_reusing_one_is_fine(erp_server):
    clients = [session(erp_server) for _ in range(4)]
    refused = requests.get(f"{erp_server.url}/rest/$info", timeout=5)
    assert refused.status_code == 402
    assert clients[0].get(f"{erp_server.url}/rest/$info").status_code == 200, "reuse is allowed"


def test_two_session_cookies_make_the_server_fail(erp_server):
    client = session(erp_server)
    cookie = client.cookies["WASID4D"]
    twice = {"Cookie": f"WASID4D={cookie}; WASID4D={cookie}"}
    assert requests.get(f"{erp_server.url}/rest/Kunden", headers=twice).status_code == 500


def test_expired_session_needs_a_new_login(erp_server):
    client = session(erp_server)
    requests.post(f"{erp_server.url}/_sandbox/expire-sessions", timeout=5)
    assert client.get(f"{erp_server.url}/rest/Kunden").status_code == 401
    assert client.get(f"{erp_server.url}/rest/$info").status_code == 200
    assert client.get(f"{erp_server.url}/rest/Kunden").status_code == 200


def test_basic_auth_when_configured():
    server = LegacyErpStandIn(username="erp", password="pw").start()
    try:
        assert requests.get(f"{server.url}/rest/$info", timeout=5).status_code == 401
        assert requests.get(f"{server.url}/rest/$info", auth=("erp", "pw")).status_code == 200
    finally:
        server.stop()


def test_top_and_skip_page_through_a_table(erp_server):
    client = session(erp_server)
    keys, skip = [], 0
    while True:
        page = client.get(
            f"{erp_server.url}/rest/Artikel_Variante", params={"$top": 60, "$skip": skip}
        )
        entities = body(page)["__ENTITIES"]
        keys += [e["__KEY"] for e in entities]
        if len(entities) < 60:
            break
        skip += 60
    assert len(keys) == len(set(keys)) == 200


def test_filters_in_4d_syntax_and_the_unreliable_paging(erp_server):
    client = session(erp_server)
    condition = "'Datum >= \"2026-06-01\"' and 'bezahlt = true'"
    first = body(
        client.get(f"{erp_server.url}/rest/Belege", params={"$filter": condition, "$top": 10})
    )
    assert first["__COUNT"] > 10
    for entity in first["__ENTITIES"]:
        assert parse_erp_date(entity["Datum"]) >= datetime.date(2026, 6, 1) and entity["bezahlt"]
    second = body(
        client.get(
            f"{erp_server.url}/rest/Belege", params={"$filter": condition, "$top": 10, "$skip": 10}
        )
    )
    strays = [
        e
        for e in second["__ENTITIES"]
        if not e["bezahlt"] or parse_erp_date(e["Datum"]) < datetime.date(2026, 6, 1)
    ]
    assert len(strays) == 1, "later filtered pages carry a record that does not match"
    group = "('AbsNr = \"700001\"' or 'AbsNr = \"700002\"')"
    lines = body(client.get(f"{erp_server.url}/rest/Belege_Pos", params={"$filter": group}))
    assert sorted((e["AbsNr"], e["PosNr"]) for e in lines["__ENTITIES"]) == [
        (700001, 1),
        (700001, 2),
        (700001, 3),
        (700002, 1),
        (700002, 2),
        (700002, 3),
    ]


def test_bad_filter_unknown_table_and_unknown_field_errors(erp_server):
    client = session(erp_server)
    bad = client.get(f"{erp_server.url}/rest/Kunden", params={"$filter": "'Rabatt >'"})
    assert bad.status_code == 400 and "__ERROR" in bad.json()
    assert client.get(f"{erp_server.url}/rest/Nope").status_code == 404
    unknown = client.get(f"{erp_server.url}/rest/Kunden", params={"$filter": "'nope = 1'"})
    assert unknown.status_code == 400


def test_values_as_the_erp_writes_them(erp_server):
    client = session(erp_server)
    text = client.get(f"{erp_server.url}/rest/Belege").text
    assert "NaN" in text, "numeric fields may hold NaN"
    documents = json.loads(text)["__ENTITIES"]
    assert any(d["ZahlungsDat"] == "0!0!0" for d in documents)
    assert any(len(d["ZahlungsDat"].split("!")[2]) == 2 for d in documents), "two-digit years"
    variants = body(client.get(f"{erp_server.url}/rest/Artikel_Variante"))["__ENTITIES"]
    prices = variants[0]["Preise"]
    (collection,) = prices.values()
    assert set(prices) <= {"__ENTITIES", "Coll"} and {"Art", "Preis", "VE"} == set(collection[0])
    customers = client.get(f"{erp_server.url}/rest/Kunden").text
    assert "Infinity" in customers


def test_mutate_advances_change_columns(erp_server):
    changes = requests.post(f"{erp_server.url}/_sandbox/mutate", json={}, timeout=5).json()
    customers = erp_server.tables["Kunden"]
    updated = customers.record(changes["Kunden"]["updated"][0])
    assert updated["Rabatt"] == 7.5
    assert parse_erp_date(updated["last_modified"]) >= erp_server.today
    assert len(erp_server.tables["Belege_Pos"]) == 3 * len(erp_server.tables["Belege"])


@pytest.mark.parametrize(
    "text",
    ["'a = \"x\"' and", "('a = \"x\"'", "'a ~ 1'", "a = 1"],
)
def test_malformed_filters_are_refused(text):
    with pytest.raises(ValueError):
        parse_filter(text)
