"""Edge cases a server cannot easily produce, with requests-mock."""

import json

import pytest
import requests_mock as rm
from tap_callrail.tap import TapCallRail

BASE = "https://callrail.example/v3"


def run_in_process(capsys, config):
    TapCallRail(config={"api_key": "k", "api_url": BASE, **config}).sync_all()
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    return [m for m in lines if m["type"] == "RECORD"]


def accounts_page(page, count, total_pages):
    return {
        "page": page,
        "per_page": 2,
        "total_pages": total_pages,
        "total_records": 0,
        "accounts": [{"id": f"ACC{page}{n}", "name": "a"} for n in range(count)],
    }


@pytest.fixture
def only_accounts():
    return {"page_size": 2, "account_ids": ["none"]}


def test_without_totals_paging_goes_on_past_short_pages_to_an_empty_one(capsys, only_accounts):
    with rm.Mocker() as mock:
        mock.get(
            f"{BASE}/a.json",
            [
                {"json": accounts_page(1, 2, 0)},
                {"json": accounts_page(2, 1, 0)},
                {"json": accounts_page(3, 1, 0)},
                {"json": accounts_page(4, 0, 0)},
            ],
        )
        run_in_process(capsys, only_accounts)
        assert [r.qs.get("page") for r in mock.request_history] == [["1"], ["2"], ["3"], ["4"]]


def test_a_page_capped_below_per_page_is_not_the_last(capsys, only_accounts):
    """CallRail's docs: "most endpoints" allow 250 a page; one that allows fewer sends
    shorter pages, and its total_pages counts them."""
    capped = {"page_size": 250, "account_ids": ["none"]}
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/a.json", [{"json": accounts_page(n, 2, 3)} for n in (1, 2, 3)])
        run_in_process(capsys, capped)
        assert [r.qs.get("page") for r in mock.request_history] == [["1"], ["2"], ["3"]]


def test_total_records_ends_paging_when_total_pages_is_missing(capsys, only_accounts):
    def page(number, count):
        body = accounts_page(number, count, 0)
        del body["total_pages"]
        return {"json": {**body, "total_records": 3}}

    with rm.Mocker() as mock:
        mock.get(f"{BASE}/a.json", [page(1, 2), page(2, 1), page(3, 1)])
        run_in_process(capsys, only_accounts)
        assert mock.call_count == 2


def test_an_empty_page_before_the_last_is_asked_for_again(capsys, only_accounts):
    with rm.Mocker() as mock:
        mock.get(
            f"{BASE}/a.json",
            [
                {"json": accounts_page(1, 2, 3)},
                {"json": accounts_page(2, 0, 3)},
                {"json": accounts_page(2, 2, 3)},
                {"json": accounts_page(3, 1, 3)},
            ],
        )
        run_in_process(capsys, {**only_accounts, "backoff_base_seconds": 0.01})
        assert [r.qs.get("page") for r in mock.request_history] == [["1"], ["2"], ["2"], ["3"]]


def test_an_empty_last_page_ends_paging(capsys, only_accounts):
    with rm.Mocker() as mock:
        mock.get(
            f"{BASE}/a.json", [{"json": accounts_page(1, 2, 2)}, {"json": accounts_page(2, 0, 2)}]
        )
        run_in_process(capsys, only_accounts)
        assert mock.call_count == 2


def test_max_pages_caps_paging(capsys, only_accounts):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/a.json", [{"json": accounts_page(n, 2, 50)} for n in range(1, 6)])
        run_in_process(capsys, {**only_accounts, "max_pages": 3})
        assert mock.call_count == 3


def test_403_fails_the_stream_asked_not_the_run(capsys):
    """A key without the permission for one list: that stream fails (the others go on, see
    tests/suite_common/test_isolation.py); 401 is the refused key that stops the run."""
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/a.json", status_code=403, json={"error": "Forbidden"})
        from suite_common.isolation import StreamsFailedError

        with pytest.raises(StreamsFailedError, match=r"accounts \(CallRail refused access"):
            run_in_process(capsys, {})
