"""CallRail API v3 client: authentication, paging, retries and the rate limit.

The SDK has no proactive rate limiter, and CallRail counts requests per account (1,000 an
hour by default), so every request first takes a slot from one `RateLimiter` (suite-common)
that the tap shares between all its streams. A 429 still happens if someone else uses the
same key; it is retried after `Retry-After` when CallRail sends one, else after an
exponential wait with jitter. 5xx answers, timeouts and dropped connections are retried the
same way. A 401 or 403 ends the run with a message that names the `api_key` setting and never
shows the key.

Paging (CallRail's API v3 documentation, "Offset Pagination" and "Relative Pagination"): a
list ends at its `total_pages` (or `total_records`), or at an empty page, never at a page
shorter than asked for, since some lists cap `per_page` below 250. Calls use relative
pagination, and their `next_page` URL is requested as it is given ("do not modify"): it
names the account by its numeric id and carries the sort as `api_sort[]`.
"""

from __future__ import annotations

import typing as t
from pathlib import Path
from urllib.parse import ParseResult, urlsplit

import requests
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import HTTPRequest
from suite_common.paging import PageNumberPaginator, PageTotals, number_or_none
from suite_common.response_body import json_body
from suite_common.schemas import BundledSchema
from suite_common.streams import SuiteRESTStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import PageContext

MAX_PER_PAGE = 250


def next_page_url(response: requests.Response) -> str | None:
    """Relative pagination's `next_page`, while `has_next_page`."""
    body = json_body(response)
    if not body.get("has_next_page") or not body.get("next_page"):
        return None
    return str(body["next_page"])


class CallRailStream(BundledSchema, SuiteRESTStream):
    """Shared behaviour of every CallRail stream."""

    service = "CallRail"
    default_page_size = MAX_PER_PAGE
    max_page_size = MAX_PER_PAGE
    schemas_dir = Path(__file__).parent / "schemas"
    credentials_name = "the API key"

    list_key: str = ""
    """The key of the record list in the response body."""

    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(
            key="Authorization", value=f'Token token="{self.config["api_key"]}"', location="header"
        )

    def get_new_paginator(self) -> BaseAPIPaginator:
        return PageNumberPaginator(self.page_totals, self.config.get("max_pages"))

    def page_totals(self, response: requests.Response) -> PageTotals:
        """Offset pagination's `total_pages` and `total_records`; relative pagination's
        `has_next_page`."""
        body = json_body(response)
        if not isinstance(body, dict):
            return PageTotals(records=0)
        has_next = body.get("has_next_page")
        return PageTotals(
            records=len(body.get(self.list_key) or []),
            total_pages=number_or_none(body.get("total_pages")),
            total_records=number_or_none(body.get("total_records")),
            last=has_next is False,
            more=has_next is True,
        )

    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """A `next_page` URL is requested exactly as CallRail gave it; it must point at the
        API's own host, since the key goes with it."""
        token = page.next_page_token
        if not isinstance(token, ParseResult):
            return super().get_http_request(page=page)
        expected = urlsplit(self.url_base).netloc
        if token.netloc != expected:
            raise FatalAPIError(
                f"CallRail's next_page points at {token.netloc}, not {expected}: "
                "refusing to send the API key there; check api_url"
            )
        return HTTPRequest(url=token.geturl(), method=self.http_method, headers=self.http_headers)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"per_page": self.page_size}
        if isinstance(next_page_token, int):
            params["page"] = next_page_token
        return params

    def rate_limit_key(self, context: Context | None) -> str:
        """CallRail counts requests per account."""
        return str((context or {}).get("account_id", "accounts"))

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Records of the page (the body was checked to be JSON before retries ended)."""
        yield from json_body(response).get(self.list_key) or []
