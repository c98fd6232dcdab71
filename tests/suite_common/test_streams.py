"""suite_common.streams: SuiteRESTStream's page size and page loop, against a minimal tap
of its own (requests-mock stands for a server that cuts a page short)."""

from __future__ import annotations

import json
import sys

import pytest
import requests_mock as rm
from singer_sdk import typing as th
from singer_sdk.exceptions import RetriableAPIError
from suite_common.paging import PageNumberPaginator, PageTotals
from suite_common.schemas import BundledSchema, bundled_schema
from suite_common.settings import retry_settings, timeout_setting
from suite_common.state import SkipNullBookmarks
from suite_common.streams import SuiteRESTStream
from suite_common.tap import SuiteTap

BASE = "https://api.example"


class Items(SkipNullBookmarks, SuiteRESTStream):
    name = "items"
    path = "/items"
    url_base = BASE
    primary_keys = ("id",)
    replication_key = "updated"
    default_page_size = 50
    max_page_size = 100
    schema = th.PropertiesList(
        th.Property("id", th.IntegerType), th.Property("updated", th.StringType)
    ).to_dict()

    def page_totals(self, response):
        body = response.json()
        return PageTotals(len(body["items"]), total_pages=body.get("total_pages"))

    def get_new_paginator(self):
        return PageNumberPaginator(self.page_totals, self.config.get("max_pages"))

    def get_url_params(self, context, next_page_token):
        return {"page": next_page_token, "per_page": self.page_size}

    def parse_response(self, response):
        yield from response.json()["items"]

    def backoff_wait_generator(self):
        while True:
            yield 0.0


class ItemsTap(SuiteTap):
    name = "tap-items"
    config_jsonschema = th.PropertiesList(
        th.Property("page_size", th.IntegerType),
        th.Property("max_pages", th.IntegerType),
        *retry_settings(),
        timeout_setting(60),
    ).to_dict()

    def discover_streams(self):
        return [Items(self)]


def sync(capsys, **config) -> list[dict]:
    """The messages of one sync (the suite's writer writes to stdout's buffer)."""
    tap = ItemsTap(config={"max_retries": 3, **config})
    tap.streams["items"].sync()
    tap.streams["items"].finalize_state_progress_markers()
    sys.stdout.flush()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def page(*ids: int, updated: str | None = "2024-01-01", **totals) -> dict:
    return {"json": {"items": [{"id": n, "updated": updated} for n in ids], **totals}}


@pytest.mark.parametrize(
    ("config", "size"), [({}, 50), ({"page_size": 20}, 20), ({"page_size": 500}, 100)]
)
def test_the_page_size_is_the_setting_else_the_default_at_most_the_maximum(config, size):
    assert ItemsTap(config=config).streams["items"].page_size == size


def test_an_empty_page_the_totals_call_early_is_asked_for_again(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/items", [
            page(1, 2, total_pages=3), page(total_pages=3), page(3, total_pages=3),
            page(4, total_pages=3),
        ])  # fmt: skip
        records = [m["record"]["id"] for m in sync(capsys) if m["type"] == "RECORD"]
    assert records == [1, 2, 3, 4]
    assert [r.qs["page"] for r in mock.request_history] == [["1"], ["2"], ["2"], ["3"]]


def test_a_page_that_stays_empty_fails_the_run_with_the_bookmark_unmoved(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/items", [page(1, total_pages=3), page(total_pages=3)])
        with pytest.raises(RetriableAPIError, match="empty page on /items with more to come"):
            sync(capsys)
        assert mock.call_count == 1 + 3, "asked for again until the retries ran out"


def test_a_record_without_a_change_value_leaves_the_bookmark(capsys):
    with rm.Mocker() as mock:
        mock.get(f"{BASE}/items", [page(1), page(2, updated=None), page()])
        messages = sync(capsys, page_size=1)
    state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    assert state["bookmarks"]["items"]["replication_key_value"] == "2024-01-01"
    assert [m["record"]["id"] for m in messages if m["type"] == "RECORD"] == [1, 2]


class Bundled(BundledSchema):
    name = "things"


def test_a_bundled_schema_is_found_by_stream_name(tmp_path):
    (tmp_path / "things.json").write_text('{"properties": {"id": {"type": "integer"}}}')
    Bundled.schemas_dir = tmp_path
    assert Bundled().schema_filepath == tmp_path / "things.json"
    assert bundled_schema(tmp_path, "things") == {"properties": {"id": {"type": "integer"}}}
    assert bundled_schema(tmp_path, "absent") is None
