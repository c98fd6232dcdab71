"""suite_common.paging: the three paging styles and the empty-page verdict, without a
server (a response stands for a page: its JSON says how many records and totals)."""

from __future__ import annotations

import json

import pytest
import requests
from suite_common.paging import (
    NextUrlPaginator,
    OffsetPaginator,
    PageHistory,
    PageNumberPaginator,
    PageTotals,
    Verdict,
    empty_page_verdict,
    number_or_none,
)


def page(records: int, **body: object) -> requests.Response:
    response = requests.Response()
    response._content = json.dumps({"records": records, **body}).encode()
    response.status_code = 200
    return response


def totals(response: requests.Response) -> PageTotals:
    body = response.json()
    return PageTotals(
        records=body["records"],
        total_pages=body.get("total_pages"),
        total_records=body.get("total_records"),
        last=body.get("last", False),
        more=body.get("more", False),
    )


def walk(paginator, pages: list[requests.Response]) -> list:
    """The tokens the paginator asks for, reading `pages` in turn until it finishes."""
    asked = [paginator.current_value]
    for response in pages:
        paginator.advance(response)
        if paginator.finished:
            break
        asked.append(paginator.current_value)
    return asked


def test_page_numbers_go_on_past_a_short_page_until_an_empty_one():
    assert walk(PageNumberPaginator(totals), [page(5), page(3), page(5), page(0)]) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "last_page",
    [
        page(3, total_pages=2),
        page(3, total_records=8),
        page(3, last=True),
    ],
    ids=["total_pages", "total_records", "last"],
)
def test_page_numbers_end_where_the_totals_say(last_page):
    assert walk(PageNumberPaginator(totals), [page(5), last_page, page(5)]) == [1, 2]


def test_max_pages_reads_that_many_pages_in_every_style():
    full = [page(5, next="https://api.example/next")] * 5
    assert walk(PageNumberPaginator(totals, max_pages=2), full) == [1, 2]
    assert walk(OffsetPaginator(totals, 5, max_pages=2), full) == [0, 5]
    urls = NextUrlPaginator(totals, lambda r: r.json()["next"], max_pages=2)
    assert len(walk(urls, full)) == 2


def test_an_offset_moves_by_the_records_a_page_brought_at_most_the_page_size():
    pages = [page(5), page(6), page(2), page(0)]  # 6: a stray extra record
    assert walk(OffsetPaginator(totals, 5), pages) == [0, 5, 10, 12]


def test_an_offset_ends_when_the_total_was_passed():
    pages = [page(5, total_records=12), page(5, total_records=12), page(2, total_records=12)]
    assert walk(OffsetPaginator(totals, 5), pages) == [0, 5, 10]


def test_a_next_url_is_followed_until_none_is_given():
    pages = [page(2, next="https://api.example/p2"), page(2, next=None), page(2)]
    urls = NextUrlPaginator(totals, lambda r: r.json()["next"])
    assert [u.geturl() if u else u for u in walk(urls, pages)] == [None, "https://api.example/p2"]


def history(*pages: int) -> PageHistory:
    seen = PageHistory()
    for records in pages:
        seen.note(records)
    return seen


@pytest.mark.parametrize(
    ("empty", "before", "page_size", "verdict"),
    [
        (PageTotals(0), (), 5, Verdict.END),  # an empty list
        (PageTotals(0), (5,), 5, Verdict.ASK_AGAIN),  # as many as asked for
        (PageTotals(0), (4, 4), 5, Verdict.ASK_AGAIN),  # as many as the fullest: a cap
        (PageTotals(0), (4, 2), 5, Verdict.END),  # short: the end
        (PageTotals(0), (4,), 5, Verdict.END),  # one short page
        (PageTotals(0, total_pages=3), (5,), 5, Verdict.MORE),  # page 2 of 3
        (PageTotals(0, total_pages=2), (5,), 5, Verdict.END),  # page 2 of 2
        (PageTotals(0, total_records=12), (5, 5), 5, Verdict.MORE),
        (PageTotals(0, total_records=10), (5, 5), 5, Verdict.END),
        (PageTotals(0, more=True), (5,), 5, Verdict.MORE),
        (PageTotals(0, last=True), (5,), 5, Verdict.END),  # the server says so
        (PageTotals(0, total_pages=0), (), 5, Verdict.END),
        (PageTotals(0), (5,), None, Verdict.END),  # no size asked, one page: nothing to go by
    ],
)
def test_what_an_empty_page_means(empty, before, page_size, verdict):
    assert empty_page_verdict(empty, history(*before), page_size) is verdict


def test_totals_are_read_as_the_server_may_send_them():
    assert [number_or_none(v) for v in (3, "3", None, "x", True, 2.5)] == [
        3,
        3,
        None,
        None,
        None,
        None,
    ]
