"""The suite's three paging styles, and when an empty page is not the end of a list.

- `PageNumberPaginator`: `page` 1, 2, … (Arrivy, most of CallRail).
- `OffsetPaginator`: an offset moved on by the records each page brought (4D's `$skip`).
- `NextUrlPaginator`: the URL the server gives for the next page (CallRail's calls).

A page shorter than the page size asked for is not the end of a list: servers cap page
sizes below what a client asks for (CallRail: "most endpoints support a maximum of 250";
Arrivy ignores `page_size`; 4D applies limits of its own). Taking a short page for the last
one lost everything after page 1. So a list ends when the server's totals say the page
just read was the last, when a page comes back empty, or at the `max_pages` cap.

An empty page is itself suspect when it comes too early (`empty_page_verdict`): where the
server's totals say more follows, it was cut short and is asked for again (the run fails,
bookmark unmoved, if it stays empty); where the server sends no totals and the page before
looked full, it is asked for once more; otherwise the list has ended.
"""

from __future__ import annotations

import dataclasses
import enum
import typing as t

from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator

if t.TYPE_CHECKING:
    import requests


@dataclasses.dataclass(frozen=True)
class PageTotals:
    """What one page says about the list: its own size and the server's totals, if any."""

    records: int
    total_pages: int | None = None
    total_records: int | None = None
    last: bool = False
    """The server says outright that this page is the last (e.g. `has_next_page: false`)."""
    more: bool = False
    """The server says outright that more pages follow (e.g. `has_next_page: true`)."""

    @property
    def has_totals(self) -> bool:
        """Whether the server said anything about the list's extent."""
        return self.last or self.more or (self.total_pages, self.total_records) != (None, None)


Totals = t.Callable[["requests.Response"], PageTotals]
"""Reads a page's `PageTotals` from its response."""


def number_or_none(value: t.Any) -> int | None:
    """A total as the server sent it, or None when it sent none (or something else)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclasses.dataclass
class PageHistory:
    """The pages of a list read so far: what an early empty page is judged against."""

    pages: int = 0
    records: int = 0
    """Records read; for offset paging, the records passed (the offset reached)."""
    last_page: int = 0
    """How many records the page read last held."""
    largest_page: int = 0
    """The most records one page held: a page this full may have more after it."""

    def note(self, records: int, passed: int | None = None) -> None:
        self.pages += 1
        self.records += records if passed is None else passed
        self.last_page = records
        self.largest_page = max(self.largest_page, records)

    def last_looked_full(self, page_size: int | None) -> bool:
        """Whether the page read last held as many records as asked for, or as the fullest
        page before it (the server's own cap)."""
        if self.pages == 0:
            return False
        if page_size and self.last_page >= page_size:
            return True
        return self.pages > 1 and self.last_page >= self.largest_page


class Verdict(enum.Enum):
    """What an empty page means."""

    END = "the list ended"
    MORE = "the server's totals say more follows: cut short, ask again until it is not empty"
    ASK_AGAIN = "no totals, and the page before looked full: ask once more"


def empty_page_verdict(page: PageTotals, history: PageHistory, page_size: int | None) -> Verdict:
    """What an empty page means, after the pages in `history` (see the module docstring)."""
    totals_say_more = (
        page.more
        or (page.total_pages is not None and history.pages + 1 < page.total_pages)
        or (page.total_records is not None and history.records < page.total_records)
    )
    if totals_say_more and not page.last:
        return Verdict.MORE
    if page.has_totals or not history.last_looked_full(page_size):
        return Verdict.END
    return Verdict.ASK_AGAIN


class PagedListMixin:
    """What the suite's paginators share: their `PageHistory` and the `max_pages` cap."""

    history: PageHistory
    max_pages: int | None
    count: int

    def capped(self) -> bool:
        """Whether `max_pages` pages were read (the SDK counts this one before `get_next`)."""
        return bool(self.max_pages) and self.count >= t.cast(int, self.max_pages)


class PageNumberPaginator(PagedListMixin, BaseAPIPaginator[int]):
    """`page` 1, 2, …, until the totals, an empty page or `max_pages` end the list."""

    def __init__(self, totals: Totals, max_pages: int | None = None) -> None:
        super().__init__(1)
        self.totals = totals
        self.max_pages = max_pages
        self.history = PageHistory()

    def get_next(self, response: requests.Response) -> int | None:
        page = self.totals(response)
        self.history.note(page.records)
        if page.records == 0 or self.is_last(page) or self.capped():
            return None
        return self.current_value + 1

    def is_last(self, page: PageTotals) -> bool:
        """Whether the server's totals say the page just read was the last."""
        if page.last:
            return True
        if page.total_pages:
            return self.current_value >= page.total_pages
        if page.total_records:
            return self.history.records >= page.total_records
        return False


class OffsetPaginator(PagedListMixin, BaseAPIPaginator[int]):
    """Offset 0, then on by the records each page brought, until `total_records` were
    passed, a page comes back empty, or `max_pages`: never at a page shorter than the page
    size, since the server may apply a limit of its own. A page may carry a stray extra
    record (4D's filtering with paging), so a page moves the offset by at most the page
    size."""

    def __init__(self, totals: Totals, page_size: int | None, max_pages: int | None = None) -> None:
        super().__init__(0)
        self.totals = totals
        self.page_size = page_size
        self.max_pages = max_pages
        self.history = PageHistory()

    def get_next(self, response: requests.Response) -> int | None:
        page = self.totals(response)
        passed = min(page.records, self.page_size or page.records)
        self.history.note(page.records, passed)
        following = self.current_value + passed
        if not page.records or self.capped():
            return None
        if page.total_records is not None and following >= page.total_records:
            return None
        return following


class NextUrlPaginator(PagedListMixin, BaseHATEOASPaginator):
    """The URL the server gives for the next page (`next_url`), until it gives none, a page
    comes back empty, or `max_pages`."""

    def __init__(
        self,
        totals: Totals,
        next_url: t.Callable[[requests.Response], str | None],
        max_pages: int | None = None,
    ) -> None:
        super().__init__()
        self.totals = totals
        self.next_url = next_url
        self.max_pages = max_pages
        self.history = PageHistory()

    def get_next_url(self, response: requests.Response) -> str | None:
        page = self.totals(response)
        self.history.note(page.records)
        if not page.records or self.capped():
            return None
        return self.next_url(response)
