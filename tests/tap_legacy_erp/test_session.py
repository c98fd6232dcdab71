"""The 4D session: reused, opened again when it expires, 402 retried then one clear line,
basic auth, and the edge cases a server cannot easily be made to produce (requests-mock)."""

from __future__ import annotations

import decimal
import logging
import socket
import threading

import pytest
import requests
import requests_mock as requests_mock_module
from tap_legacy_erp.tap import TapLegacyErp

from sandbox.legacy_erp import LegacyErpStandIn
from tests.support.singer_run import run_tap
from tests.tap_legacy_erp.conftest import truth

pytestmark = pytest.mark.stand_in


def occupy_sessions(server: LegacyErpStandIn) -> list[requests.Session]:
    clients = []
    for _ in range(server.max_sessions):
        client = requests.Session()
        assert client.get(f"{server.url}/rest/$info", timeout=5).ok
        clients.append(client)
    return clients


@pytest.mark.parametrize("answer", ["a new session", "401"])
def test_a_run_outliving_several_session_expiries_stays_within_the_limit(
    erp_server, erp_config, answer
):
    """4D's REST docs: a request without a valid session opens a new one, answered with its
    cookie, which the tap adopts; a server that answers 401 instead gets `$info` first."""
    erp_server.expire_every = 7
    erp_server.refuse_dead_sessions = answer == "401"
    run = run_tap("tap-legacy-erp", {**erp_config, "page_size": 20})
    assert run.returncode == 0, run.stderr[-2000:]
    keys = [r["__KEY"] for r in run.records("adressen")]
    assert sorted(keys) == sorted(r["__KEY"] for r in truth(erp_server, "Adressen"))
    assert len(keys) == len(set(keys))
    assert len(run.records("belege_pos")) == len(truth(erp_server, "Belege_Pos"))
    expiries = erp_server._data_requests // 7
    assert expiries >= 5 and "(402)" not in run.stderr
    # One new session per expiry (a request in flight on another thread may open a second),
    # not one per request: without adopting the new cookie every request opened one.
    assert erp_server.opened <= 2 * expiries + 1 < erp_server._data_requests / 2
    if answer == "401":
        assert "session was refused" in run.stderr
    else:
        assert "the server opened a new one" in run.stderr
        assert "session was refused" not in run.stderr
    assert len(erp_server.sessions) <= 1, "the sessions left behind were adopted or expired"


def test_runs_reuse_one_session_kept_in_an_owner_only_file(erp_config, tmp_path):
    server = LegacyErpStandIn(documents=10, max_sessions=1).start()
    try:
        session_file = tmp_path / "erp-session"
        config = {**erp_config, "base_url": server.url, "session_file": str(session_file)}
        runs = [run_tap("tap-legacy-erp", config, select=["belege"]) for _ in range(3)]
        assert [run.returncode for run in runs] == [0, 0, 0], runs[-1].stderr[-2000:]
        assert [len(run.records("belege")) for run in runs] == [10, 10, 10]
        assert "Opened a 4D session" in runs[0].stderr
        for run in runs[1:]:
            assert "confirmed the session of an earlier run" in run.stderr
            assert "Opened a 4D session" not in run.stderr
        assert len(server.sessions) == 1
        assert session_file.read_text().startswith("WASID4D=")
        assert session_file.stat().st_mode & 0o777 == 0o600
        server.sessions.clear()  # expired on the server: the next run opens a new one
        again = run_tap("tap-legacy-erp", config, select=["belege"])
        assert again.returncode == 0 and "Opened a 4D session" in again.stderr
    finally:
        server.stop()


def test_too_many_sessions_is_retried_and_then_one_clear_line(erp_server, erp_config):
    occupy_sessions(erp_server)
    run = run_tap("tap-legacy-erp", {**erp_config, "max_retries": 3}, select=["kunden"])
    assert run.returncode == 1
    (line,) = run.error_lines("tap-legacy-erp")
    assert "maximum number of sessions reached (402), 3 times" in line
    assert "close idle sessions" in line
    assert "Traceback" not in run.stderr


def test_a_session_freed_during_the_402_backoff_is_taken(erp_server, erp_config):
    occupy_sessions(erp_server)
    timer = threading.Timer(0.5, erp_server.sessions.clear)
    timer.start()
    config = {**erp_config, "backoff_base_seconds": 0.3, "max_retries": 6}
    run = run_tap("tap-legacy-erp", config, select=["kunden"])
    timer.join()
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("kunden")) == 150


def test_basic_auth_right_and_wrong():
    server = LegacyErpStandIn(documents=20, username="erp", password="canary-erp-pw-7731").start()
    try:
        base = {"base_url": server.url, "backoff_base_seconds": 0.02}
        good = run_tap(
            "tap-legacy-erp",
            {**base, "username": "erp", "password": "canary-erp-pw-7731"},
            select=["belege"],
        )
        assert good.returncode == 0, good.stderr[-2000:]
        assert len(good.records("belege")) == 20
        bad = run_tap(
            "tap-legacy-erp",
            {**base, "username": "erp", "password": "canary-wrong-9917"},
            select=["belege"],
        )
        assert bad.returncode == 1
        (line,) = bad.error_lines("tap-legacy-erp")
        assert "refused the username and password (401" in line
        everything = bad.stderr + str(bad.messages) + good.stderr + str(good.messages)
        assert "canary-erp-pw-7731" not in everything and "canary-wrong-9917" not in everything
    finally:
        server.stop()


def test_an_unreachable_server_ends_in_one_line():
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = {
        "base_url": f"http://127.0.0.1:{port}",
        "backoff_base_seconds": 0.01,
        "max_retries": 2,
    }
    run = run_tap("tap-legacy-erp", config, select=["kunden"])
    assert run.returncode == 1
    (line,) = run.error_lines("tap-legacy-erp")
    assert f"cannot reach the ERP at 127.0.0.1:{port}/rest/$info" in line
    assert "check base_url" in line


# Edge cases through requests-mock ---------------------------------------------------------

BASE = "http://erp.invalid"


def tap_with(config: dict | None = None) -> TapLegacyErp:
    settings = {"base_url": BASE, "backoff_base_seconds": 0.0, "session_file": ""}
    return TapLegacyErp(config={**settings, **(config or {})})


def records_of(tap: TapLegacyErp, stream: str) -> list[dict]:
    instance = tap.streams[stream]
    return [instance.post_process(r) for r in instance.get_records(None)]


@pytest.fixture
def mocked():
    with requests_mock_module.Mocker() as mock:
        yield mock


def test_the_fallback_cookie_name_is_sent_as_the_only_session_cookie(mocked):
    mocked.get(f"{BASE}/rest/$info", cookies={"4DSID_WSZ-DB": "ABC"}, json={})
    page = mocked.get(
        f"{BASE}/rest/Stamm_Lagerorte",
        json={"__COUNT": 1, "__ENTITIES": [{"__KEY": "L1", "modified_date": "01!02!2024"}]},
    )
    records = records_of(tap_with(), "stamm_lagerorte")
    assert [r["modified_date"] for r in records] == ["2024-02-01"]
    assert page.last_request.headers["Cookie"] == "4DSID_WSZ-DB=ABC"


def test_info_without_a_session_cookie_goes_on_without_one(mocked, caplog):
    """As the old production client did (py-erp legacy_erp/base.py `login`)."""
    mocked.get(f"{BASE}/rest/$info", json={})
    page = mocked.get(
        f"{BASE}/rest/Stamm_Lagerorte", json={"__COUNT": 1, "__ENTITIES": [{"ID_Lagerort": 1}]}
    )
    with caplog.at_level(logging.WARNING):
        records = records_of(tap_with(), "stamm_lagerorte")
    assert [r["ID_Lagerort"] for r in records] == [1]
    assert "Cookie" not in page.last_request.headers
    assert "going on without a session" in caplog.text


def test_text_money_is_read_exactly_and_unreadable_values_are_reported_not_zeroed(mocked, caplog):
    mocked.get(f"{BASE}/rest/$info", cookies={"WASID4D": "S1"}, json={})
    mocked.get(
        f"{BASE}/rest/Kunden",
        content=(
            b'{"__COUNT": 2, "__ENTITIES": ['
            b'{"__KEY": "1", "Rabatt": "12,50", "Kreditlimit": -Infinity},'
            b' {"__KEY": "2", "Rabatt": "n/a", "Kreditlimit": 1e3, "Zahlungsart": "NaN-Karte"}]}'
        ),
    )
    caplog.set_level(logging.INFO)
    records = records_of(tap_with(), "kunden")
    assert records[0]["Rabatt"] == decimal.Decimal("12.50")
    assert records[0]["Kreditlimit"] is None and records[1]["Rabatt"] is None
    assert records[1]["Zahlungsart"] == "NaN-Karte", "text that spells NaN is left alone"
    assert str(records[1]["Kreditlimit"]) == "1E+3"
    assert "Rabatt ('n/a')" in caplog.text and "1 in Kreditlimit" in caplog.text


def test_a_two_digit_year_pivots_at_50_and_a_bad_date_is_reported(mocked, caplog):
    mocked.get(f"{BASE}/rest/$info", cookies={"WASID4D": "S1"}, json={})
    mocked.get(
        f"{BASE}/rest/Stamm_Lagerorte",
        json={
            "__COUNT": 4,
            "__ENTITIES": [
                {"__KEY": "a", "modified_date": "24!12!49"},
                {"__KEY": "b", "modified_date": "24!12!50"},
                {"__KEY": "c", "modified_date": "31!02!2024"},
                {"__KEY": "d", "modified_date": "0!0!0"},
            ],
        },
    )
    records = records_of(tap_with(), "stamm_lagerorte")
    assert [r["modified_date"] for r in records] == ["2049-12-24", "2050-12-24", None, None]
    assert "modified_date ('31!02!2024')" in caplog.text


def test_a_short_page_is_not_the_end_while_count_says_more(mocked):
    """The server may apply a page limit of its own (py-erp client.py `fetch_table`): paging
    goes on by the records received until __COUNT, or an empty page."""
    mocked.get(f"{BASE}/rest/$info", cookies={"WASID4D": "S1"}, json={})
    pages = [
        {"__COUNT": 5, "__ENTITIES": [{"__KEY": "0"}, {"__KEY": "1"}, {"__KEY": "2"}]},
        {"__COUNT": 5, "__ENTITIES": [{"__KEY": "3"}]},
        {"__COUNT": 5, "__ENTITIES": [{"__KEY": "4"}]},
    ]
    mocked.get(f"{BASE}/rest/Stamm_Lagerorte", [{"json": page} for page in pages])
    keys = [r["__KEY"] for r in records_of(tap_with({"page_size": 3}), "stamm_lagerorte")]
    assert keys == ["0", "1", "2", "3", "4"]
    skips = [r.qs["$skip"] for r in mocked.request_history if "Stamm" in r.url]
    assert skips == [["0"], ["3"], ["4"]]


def test_without_a_count_paging_ends_at_an_empty_page(mocked):
    mocked.get(f"{BASE}/rest/$info", cookies={"WASID4D": "S1"}, json={})
    pages = [{"__ENTITIES": [{"__KEY": "0"}]}, {"__ENTITIES": [{"__KEY": "1"}]}, {"__ENTITIES": []}]
    mocked.get(f"{BASE}/rest/Stamm_Lagerorte", [{"json": page} for page in pages])
    keys = [r["__KEY"] for r in records_of(tap_with({"page_size": 3}), "stamm_lagerorte")]
    assert keys == ["0", "1"]


def test_session_opened_once_for_concurrent_requests(mocked):
    mocked.get(f"{BASE}/rest/$info", cookies={"WASID4D": "S1"}, json={})
    session = tap_with().erp_session
    threads = [threading.Thread(target=session.cookie) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert session.opened == 1 and mocked.call_count == 1


def test_the_environment_picks_the_server_named_in_base_url(mocked):
    info = mocked.get("http://erp.invalid/test/rest/$info", cookies={"WASID4D": "T"}, json={})
    mocked.get("http://erp.invalid/test/rest/Stamm_Lagerorte", json={"__ENTITIES": []})
    tap = TapLegacyErp(
        config={"base_url": "http://erp.invalid/{environment}", "environment": "test"}
    )
    assert records_of(tap, "stamm_lagerorte") == []
    assert info.called_once
