"""CallRail API v3 client: authentication, paging, retries and the rate limit.

The SDK has no proactive rate limiter, and CallRail counts requests per account (1,000 an
hour by default), so every request first takes a slot from one `RateLimiter` (suite-common)
that the tap shares between all its streams. A 429 still happens if someone else uses the
same key; it is retried after `Retry-After` when CallRail sends one, else after an
exponential wait with jitter. 5xx answers, timeouts and dropped connections are retried the
same way. A 401 or 403 ends the run with a message that names the `api_key` setting and never
shows the key.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl, urlsplit

import requests
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator
from suite_common.streams import SuiteRESTStream, json_body

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

MAX_PER_PAGE = 250


class PageNumberPaginator(BaseAPIPaginator[int]):
    """`page` 1, 2, …; stops at `total_pages`, on a short or empty page, or at `max_pages`."""

    def __init__(self, per_page: int, list_key: str, max_pages: int | None) -> None:
        super().__init__(1)
        self.per_page = per_page
        self.list_key = list_key
        self.max_pages = max_pages

    def get_next(self, response: requests.Response) -> int | None:
        body = json_body(response)
        page = self.current_value
        total_pages = body.get("total_pages")
        returned = len(body.get(self.list_key) or [])
        if returned < self.per_page or (total_pages and page >= int(total_pages)):
            return None
        if self.max_pages and self.count >= self.max_pages:
            return None
        return page + 1


class RelativePaginator(BaseHATEOASPaginator):
    """Calls' relative pagination: follow `next_page` while `has_next_page` (or `max_pages`)."""

    def __init__(self, max_pages: int | None) -> None:
        super().__init__()
        self.max_pages = max_pages

    def get_next_url(self, response: requests.Response) -> str | None:
        body = json_body(response)
        if not body.get("has_next_page") or not body.get("next_page"):
            return None
        if self.max_pages and self.count >= self.max_pages:
            return None
        return str(body["next_page"])


class CallRailStream(SuiteRESTStream):
    """Shared behaviour of every CallRail stream."""

    service = "CallRail"
    credentials_name = "the API key"

    list_key: str = ""
    """The key of the record list in the response body."""

    @property
    def url_base(self) -> str:
        return str(self.config.get("api_url") or "https://api.callrail.com/v3").rstrip("/")

    @property
    def records_jsonpath(self) -> str:
        return f"$.{self.list_key}[*]"

    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(
            key="Authorization", value=f'Token token="{self.config["api_key"]}"', location="header"
        )

    @property
    def per_page(self) -> int:
        return min(int(self.config.get("per_page") or MAX_PER_PAGE), MAX_PER_PAGE)

    def get_new_paginator(self) -> BaseAPIPaginator:
        return PageNumberPaginator(self.per_page, self.list_key, self.config.get("max_pages"))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"per_page": self.per_page}
        if isinstance(next_page_token, int):
            params["page"] = next_page_token
        return params

    def rate_limit_key(self, context: Context | None) -> str:
        """CallRail counts requests per account."""
        return str((context or {}).get("account_id", "accounts"))

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Records of the page (the body was checked to be JSON before retries ended)."""
        yield from json_body(response).get(self.list_key) or []

    def validate_response(self, response: requests.Response) -> None:
        """An empty page that says more pages follow is a page cut short, not the end: it
        is asked for again, and the run fails (bookmark unmoved) if it stays empty."""
        super().validate_response(response)
        body = json_body(response)
        if not isinstance(body, dict) or body.get(self.list_key):
            return
        page, total_pages = body.get("page"), body.get("total_pages")
        more = body.get("has_next_page") or (
            isinstance(page, int) and isinstance(total_pages, int) and page < total_pages
        )
        if more:
            path = urlsplit(response.url).path
            raise RetriableAPIError(f"CallRail sent an empty page on {path} with more to come")


def next_page_params(url: str) -> dict[str, str]:
    """Query parameters of a `next_page` URL, which is requested as it is."""
    return dict(parse_qsl(urlsplit(url).query))
