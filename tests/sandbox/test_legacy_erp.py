"""The legacy 4D ERP stand-in behaves as documented, checked with plain HTTP requests."""

import datetime
import json
from urllib.parse import quote, urlencode

import pytest
import requests

from sandbox.legacy_erp import LegacyErpStandIn, parse_erp_date, parse_filter


def body(response):
    """The body as Python reads it: the ERP writes NaN and Infinity, which strict parsers refuse."""
    return json.loads(response.text)


def get(client, url, **params):
    """A request with its query percent-encoded as 4D reads it (spaces as %20)."""
    return client.get(f"{url}?{urlencode(params, quote_via=quote)}", timeout=5)


def session(server):
    client = requests.Session()
    assert client.get(f"{server.url}/rest/$info", timeout=5).status_code == 200
    return client


def test_a_request_without_a_valid_session_opens_one_and_sets_its_cookie(erp_server):
    """4D's REST documentation: a request without a valid session cookie opens a new
    session (another licence); the answer carries its cookie, not a 401."""
    fresh = requests.get(f"{erp_server.url}/rest/Kunden", params={"$top": 1}, timeout=5)
    assert fresh.status_code == 200 and "WASID4D" in fresh.cookies
    dead = requests.get(
        f"{erp_server.url}/rest/Kunden", headers={"Cookie": "WASID4D=DEAD"}, timeout=5
    )
    assert dead.status_code == 200 and dead.cookies["WASID4D"] != "DEAD"
    assert erp_server.opened == 2
    for _ in range(2):
        requests.get(f"{erp_server.url}/rest/Kunden", timeout=5)
    full = requests.get(f"{erp_server.url}/rest/Kunden", timeout=5)
    assert full.status_code == 402, "each session-less request took a slot"
    erp_server.refuse_dead_sessions = True
    assert requests.get(f"{erp_server.url}/rest/Kunden", timeout=5).status_code == 401


def test_filter_encoding_and_date_comparisons_as_the_live_server_answered(erp_server):
    """Source: louisepaul75/py-erp, legacy_erp/base.py (`$filter` percent-encoded by hand,
    spaces as %20) and tests/test_legacy_erp_filters.py (`>`/`<` on a date field and any
    filter on __TIMESTAMP gave 500; `>=` with YYYY-MM-DD works)."""
    client = session(erp_server)
    url = f"{erp_server.url}/rest/Kunden"
    condition = "'last_modified >= \"2020-01-01\"'"
    encoded = "%27last_modified%20%3E%3D%20%222020-01-01%22%27"
    assert client.get(f"{url}?$filter={encoded}").status_code == 200
    plus = encoded.replace("%20", "+")
    assert client.get(f"{url}?$filter={plus}").status_code == 400
    assert client.get(url, params={"$filter": condition}).status_code == 400  # form encoding
    strict = "%27last_modified%20%3E%20%222020-01-01%22%27"
    assert client.get(f"{url}?$filter={strict}").status_code == 500
    stamp = "%27__TIMESTAMP%20%3E%3D%20%222020-01-01%22%27"
    assert client.get(f"{url}?$filter={stamp}").status_code == 500


def test_fields_as_the_old_sync_read_them(erp_server):
    """Source: py-erp docs/stories/invoice_integration_project.md (Belege), config/
    inventory_sync.yaml (Stamm_Lagerorte), transformers/product_storage.py
    (Artikel_Lagerorte)."""
    client = session(erp_server)
    document = body(client.get(f"{erp_server.url}/rest/Belege", params={"$top": 1}))
    first = document["__ENTITIES"][0]
    assert isinstance(first["PapierNr"], int) and first["MWSt_Art"] in ("JA", "NEIN")
    place = body(client.get(f"{erp_server.url}/rest/Stamm_Lagerorte"))["__ENTITIES"][0]
    assert {"ID_Lagerort", "Lagerort", "Land_LKZ", "Ort_Gebaeude", "Regal", "Fach"} <= set(place)
    stock = body(client.get(f"{erp_server.url}/rest/Artikel_Lagerorte"))["__ENTITIES"][0]
    assert {"UUID", "ID_Artikel_Stamm", "UUID_Stamm_Lagerorte", "Bestand"} <= set(stock)


def test_info_opens_a_session_cookie_that_later_requests_use(erp_server):
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


def test_an_expired_session_is_replaced_by_a_new_cookie(erp_server):
    client = session(erp_server)
    old = client.cookies["WASID4D"]
    requests.post(f"{erp_server.url}/_sandbox/expire-sessions", timeout=5)
    answer = client.get(f"{erp_server.url}/rest/Kunden")
    assert answer.status_code == 200 and answer.cookies["WASID4D"] != old
    assert client.get(f"{erp_server.url}/rest/Kunden").cookies.get("WASID4D") is None


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
    first = body(get(client, f"{erp_server.url}/rest/Belege", **{"$filter": condition, "$top": 10}))
    assert first["__COUNT"] > 10
    for entity in first["__ENTITIES"]:
        assert parse_erp_date(entity["Datum"]) >= datetime.date(2026, 6, 1) and entity["bezahlt"]
    second = body(
        get(
            client,
            f"{erp_server.url}/rest/Belege",
            **{"$filter": condition, "$top": 10, "$skip": 10},
        )
    )
    strays = [
        e
        for e in second["__ENTITIES"]
        if not e["bezahlt"] or parse_erp_date(e["Datum"]) < datetime.date(2026, 6, 1)
    ]
    assert len(strays) == 1, "later filtered pages carry a record that does not match"
    group = "('AbsNr = \"700001\"' or 'AbsNr = \"700002\"')"
    lines = body(get(client, f"{erp_server.url}/rest/Belege_Pos", **{"$filter": group}))
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
    bad = get(client, f"{erp_server.url}/rest/Kunden", **{"$filter": "'Rabatt >'"})
    assert bad.status_code == 400 and "__ERROR" in bad.json()
    assert client.get(f"{erp_server.url}/rest/Nope").status_code == 404
    unknown = get(client, f"{erp_server.url}/rest/Kunden", **{"$filter": "'nope = 1'"})
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


def test_a_deleted_record_is_no_longer_listed_and_a_document_takes_its_positions(erp_server):
    """4D's REST server lists live entities only; a document's positions go with it."""
    client = session(erp_server)

    def listed(table, **params):
        found = body(get(client, f"{erp_server.url}/rest/{table}", **{"$top": 10000, **params}))
        return [entity["__KEY"] for entity in found["__ENTITIES"]]

    customer = erp_server.delete("Kunden", 3)[0][1]
    assert customer["__KEY"] not in listed("Kunden") and len(listed("Kunden")) == 149
    gone = erp_server.delete("Belege", 10)
    document, positions = gone[0][1], [record for table, record in gone[1:]]
    assert len(positions) == 3 and {p["AbsNr"] for p in positions} == {document["AbsNr"]}
    assert str(document["AbsNr"]) not in [str(k) for k in listed("Belege")]
    left = listed("Belege_Pos", **{"$filter": f"'AbsNr = {document['AbsNr']}'"})
    assert left == []
    erp_server.delete("Belege_Pos", 11 * 3 + 1)  # one line of a live document
    lines = listed("Belege_Pos", **{"$filter": f"'AbsNr = {700011}'"})
    assert lines == ["700011.1", "700011.3"]
