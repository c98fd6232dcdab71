"""The page loop every REST stream of the suite reads with.

- Pages are requested one ahead on a thread (`suite_common.prefetch`) while the current
  page's records are processed, so a sync takes the longer of API time and tap time, not
  their sum; `prefetch_pages = False` on a stream turns it off.
- The SDK's request loop (retries, request metrics) runs a page at a time, the paginator
  advanced before a page is handed over, so the caller knows whether another follows.
- A list ends, with a warning, when the server sends the very same page again: a server
  that ignores the paging parameter would otherwise be read forever when it sends no totals.
- An empty page that came too early is asked for again (`suite_common.paging`).
"""

from __future__ import annotations

import functools
import hashlib
import typing as t
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import PageContext

from suite_common.paging import PageTotals, Verdict, empty_page_verdict
from suite_common.prefetch import prefetched
from suite_common.request_errors import unreachable
from suite_common.sdk_adapter import sdk_request

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class PageLoop(RESTStream):
    """Mixin for an SDK REST stream: its records read by the suite's page loop (see the
    module docstring)."""

    service = "the API"
    """Name used in messages, e.g. "CallRail"."""
    prefetch_pages = True
    """Request the next page while this one's records are processed."""
    default_page_size: int | None = None
    """Records per request when the `page_size` setting is not set."""
    max_page_size: int | None = None
    """The most records per request the API allows, if it says."""

    @property
    def page_size(self) -> int | None:
        """Records per request: the `page_size` setting (one name in every tap), else the
        stream's default, at most `max_page_size`."""
        size = self.config.get("page_size") or self.default_page_size
        if size is None:
            return self.max_page_size
        return min(int(size), self.max_page_size or int(size))

    def page_totals(self, response: requests.Response) -> PageTotals:
        """What a page says about its list (a tap reads its API's totals here); by
        default only its size."""
        return PageTotals(records=len(list(self.parse_response(response))))

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Records of every page; when there is more than one page, the next is requested
        while this one's records are processed (`prefetch_pages`)."""
        paginator = self.get_new_paginator() or SinglePagePaginator()
        pages = self.request_pages(context, paginator)
        first = next(pages, None)
        if first is None:
            return
        if self.prefetch_pages and not paginator.finished:
            pages = prefetched(pages, name=f"{self.name}-pages")
        yield from first
        for records in pages:
            yield from records

    def request_pages(
        self, context: Context | None, paginator: BaseAPIPaginator
    ) -> t.Iterator[list[dict]]:
        """The records of each page in turn: the SDK's request loop (retries, request
        metrics), a page at a time, the paginator advanced before the page is handed over so
        that the caller knows whether another page follows."""

        def send_page(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            response = self.send_request(prepared_request, context)
            self.check_not_cut_short(response, paginator)
            return response

        decorated_request = self.request_decorator(send_page)
        previous_page = b""
        with self.get_http_request_counter() as request_counter:
            request_counter.with_context(context)
            while not paginator.finished:
                prepared_request = self.page_request(context, paginator)
                try:
                    response = decorated_request(prepared_request, context)
                except requests.exceptions.ConnectionError as exc:
                    tries = self.backoff_max_tries()
                    raise unreachable(exc, str(prepared_request.url), tries) from None
                request_counter.increment()
                self.update_sync_costs(prepared_request, response, context)
                records = list(self.parse_response(response))
                if not records and not paginator.continue_if_empty(response):
                    self.log("Pagination stopped: a page came back without records")
                    return
                page = hashlib.blake2b(response.content, digest_size=16).digest()
                if records and page == previous_page:
                    self.logger.warning(
                        "%s: %s sent the same page twice, as if it ignored the page asked "
                        "for; the list ends here (set max_pages to read a fixed number)",
                        self.name,
                        self.service,
                    )
                    return
                previous_page = page
                paginator.advance(response)
                if records:
                    yield records

    def check_not_cut_short(self, response: requests.Response, paginator: t.Any) -> None:
        """An empty page that came too early is asked for again (see suite_common.paging):
        raised as retriable, so the SDK's backoff asks; a page still empty after the retries
        fails the run with the bookmark unmoved."""
        history = getattr(paginator, "history", None)
        if history is None:
            return
        page = self.page_totals(response)
        if page.records:
            return
        verdict = empty_page_verdict(page, history, self.page_size)
        path = urlsplit(response.url).path
        if verdict is Verdict.MORE:
            message = f"{self.service} sent an empty page on {path} with more to come"
            raise RetriableAPIError(message, response)
        if verdict is Verdict.ASK_AGAIN and response.url not in self.empty_pages_asked_again:
            self.empty_pages_asked_again.add(response.url)
            message = f"{self.service} sent an empty page on {path} after a full one"
            raise RetriableAPIError(f"{message}; asking once more", response)

    @functools.cached_property
    def empty_pages_asked_again(self) -> set[str]:
        """URLs of empty pages already asked for once more."""
        return set()

    def page_request(
        self, context: Context | None, paginator: BaseAPIPaginator
    ) -> requests.PreparedRequest:
        """The request for the paginator's current page, built from `get_http_request`
        (which the taps override) as the SDK builds it."""
        page = PageContext(stream_context=context, next_page_token=paginator.current_value)
        request = self.get_http_request(page=page)
        body = {"json" if self.payload_as_json else "data": request.data}
        return self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
            **body,
        )

    def send_request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One try of a request, as the SDK sends it (a stream adds its own waits)."""
        return sdk_request(self, prepared_request, context)
