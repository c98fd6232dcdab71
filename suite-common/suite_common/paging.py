"""Page-number paging that ends where the server says the list ends.

A page shorter than the page size asked for is not the end of a list: servers cap page
sizes below what a client asks for (CallRail: "most endpoints support a maximum of 250";
Arrivy ignores `page_size`). Taking a short page for the last one lost everything after
page 1. So a list ends when the server's totals say the page just read was the last
(`total_pages`, or `total_records` reached), when a page comes back empty, or at the
`max_pages` cap; otherwise the next page is asked for.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk.pagination import BaseAPIPaginator

if t.TYPE_CHECKING:
    import requests


@dataclasses.dataclass(frozen=True)
class PageTotals:
    """What one page says about the list: its own size and the server's totals, if any."""

    records: int
    total_pages: int | None = None
    total_records: int | None = None
    last: bool = False
    """The server says outright that this page is the last (e.g. `has_next: false`)."""


def number_or_none(value: t.Any) -> int | None:
    """A total as the server sent it, or None when it sent none (or something else)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class PageNumberPaginator(BaseAPIPaginator[int]):
    """`page` 1, 2, …, until the totals, an empty page or `max_pages` end the list."""

    def __init__(
        self, totals: t.Callable[[requests.Response], PageTotals], max_pages: int | None = None
    ) -> None:
        super().__init__(1)
        self.totals = totals
        self.max_pages = max_pages
        self.records_read = 0
        self.largest_page = 0
        """The most records one page held: a page this full may have more after it."""
        self.last_page = 0
        """How many records the page read last held."""

    def get_next(self, response: requests.Response) -> int | None:
        page = self.totals(response)
        self.records_read += page.records
        self.largest_page = max(self.largest_page, page.records)
        self.last_page = page.records
        if page.records == 0 or self.is_last(page):
            return None
        if self.max_pages and self.count >= self.max_pages:
            return None
        return self.current_value + 1

    def is_last(self, page: PageTotals) -> bool:
        """Whether the server's totals say the page just read was the last."""
        if page.last:
            return True
        if page.total_pages:
            return self.current_value >= page.total_pages
        if page.total_records:
            return self.records_read >= page.total_records
        return False
