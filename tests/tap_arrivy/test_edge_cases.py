"""Edge cases a server cannot easily produce, with requests-mock."""

import json

import pytest
import requests_mock as rm
from suite_common.moments import iso_utc_text
from suite_common.request_errors import CredentialsError
from tap_arrivy.client import as_id
from tap_arrivy.tap import TapArrivy

BASE = "https://arrivy.example/api"


def run_groups(capsys, **config):
    tap = TapArrivy(config={"auth_key": "k", "auth_token": "t", "api_url": BASE,
                            "requests_per_minute": 100000, **config})  # fmt: skip
    tap.streams["groups"].sync()
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    return [m["record"] for m in lines if m["type"] == "RECORD"]


def test_empty_first_page_ends_the_stream(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/groups", json=[])
        assert run_groups(capsys) == []
        assert mock.call_count == 1


def test_a_full_page_then_an_empty_one_is_asked_for_once_more(capsys):
    """A bare array says nothing of the list's extent: after a full page, an empty one may
    have been cut short, so it is asked for once more, and the second answer counts."""
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/groups", [
            {"json": [{"id": 1, "updated": "2024-01-01T00:00:00"}, {"id": 2}]},
            {"json": []},
            {"json": [{"id": 3}]},
            {"json": []},
        ])  # fmt: skip
        records = run_groups(capsys, page_size=2)
        assert [r["id"] for r in records] == ["1", "2", "3"]
        assert records[0]["updated"] == "2024-01-01T00:00:00+00:00"
        assert mock.call_count == 4, "page 2 asked for twice; page 3 short, so its end is final"


def test_an_empty_page_the_server_calls_the_last_ends_the_list(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/groups", [
            {"json": [{"id": 1}, {"id": 2}]},
            {"json": {"results": [], "has_next": False}},
        ])  # fmt: skip
        assert [r["id"] for r in run_groups(capsys, page_size=2)] == ["1", "2"]
        assert mock.call_count == 2


def test_an_empty_page_after_a_short_one_ends_the_list(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/groups", [
            {"json": [{"id": 1}, {"id": 2}]}, {"json": [{"id": 3}]}, {"json": []},
        ])  # fmt: skip
        assert [r["id"] for r in run_groups(capsys, page_size=5)] == ["1", "2", "3"]
        assert mock.call_count == 3


def test_401_is_a_credentials_error(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/groups", status_code=401, json={"code": "UNAUTHORIZED"})
        with pytest.raises(CredentialsError, match="401"):
            run_groups(capsys)


def test_values():
    assert iso_utc_text("2017-10-14T06:23:33") == "2017-10-14T06:23:33+00:00"
    assert iso_utc_text("2017-10-14T01:23:33.123456-05:00") == "2017-10-14T06:23:33.123456+00:00"
    assert iso_utc_text("not a date") == "not a date"
    assert as_id(5348024557502464) == "5348024557502464"
    assert as_id([1, "2"]) == ["1", "2"]
    assert as_id(True) is True


def test_a_server_that_ignores_the_page_is_not_read_forever(capsys, caplog):
    """No totals and the same full page for every page number: the list ends at the
    repeat with a warning, each record once."""
    page = [{"id": n} for n in range(1, 4)]
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/groups", json=page)
        records = run_groups(capsys, page_size=3)
        assert [r["id"] for r in records] == ["1", "2", "3"]
        assert mock.call_count == 2
    assert "sent the same page twice" in caplog.text
