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

import decimal
import functools
import json
import typing as t
from urllib.parse import parse_qsl, urlsplit

import requests
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._typing import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator
from singer_sdk.streams import RESTStream
from suite_common.http import retry_waits

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

MAX_PER_PAGE = 250


class CredentialsError(FatalAPIError):
    """CallRail refused the API key: the run cannot go on, and retrying will not help."""


def body_of(response: requests.Response) -> dict[str, t.Any]:
    """The JSON body, parsed once per response, numbers with a fraction as exact Decimals."""
    cached = getattr(response, "callrail_body", None)
    if cached is None:
        cached = json.loads(response.text, parse_float=decimal.Decimal)
        response.callrail_body = cached  # type: ignore[attr-defined]
    return t.cast(dict, cached)


class PageNumberPaginator(BaseAPIPaginator[int]):
    """`page` 1, 2, …; stops at `total_pages`, on a short or empty page, or at `max_pages`."""

    def __init__(self, per_page: int, list_key: str, max_pages: int | None) -> None:
        super().__init__(1)
        self.per_page = per_page
        self.list_key = list_key
        self.max_pages = max_pages

    def get_next(self, response: requests.Response) -> int | None:
        body = body_of(response)
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
        body = body_of(response)
        if not body.get("has_next_page") or not body.get("next_page"):
            return None
        if self.max_pages and self.count >= self.max_pages:
            return None
        return str(body["next_page"])


class CallRailStream(RESTStream):
    """Shared behaviour of every CallRail stream."""

    # The SDK's per-value type conformance costs more than the rest of the tap's per-record
    # work together; `post_process` keeps exactly the schema's properties instead, and the
    # values already have the schema's types (JSON gives them; Decimal for `value`).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @functools.cached_property
    def schema_properties(self) -> frozenset[str]:
        """Names the stream's schema declares; anything else CallRail adds is left out."""
        return frozenset(self.schema["properties"])

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Only the schema's properties, so a field CallRail adds later cannot leak through."""
        properties = self.schema_properties
        return {name: value for name, value in row.items() if name in properties}

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
    def timeout(self) -> int:
        return int(self.config.get("timeout_seconds") or 60)

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

    # Requests: the shared rate limit, then retries that honour Retry-After ------------------

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        account = (context or {}).get("account_id", "accounts")
        self._tap.rate_limiter.wait(str(account))  # type: ignore[attr-defined]
        return super()._request(prepared_request, context)

    def validate_response(self, response: requests.Response) -> None:
        path = urlsplit(response.url).path
        if response.status_code in (401, 403):
            raise CredentialsError(
                f"CallRail refused the API key ({response.status_code} on {path})"
            )
        if response.status_code == 429:
            raise RetriableAPIError(
                f"rate limited (429) on {urlsplit(response.url).path}", response
            )
        super().validate_response(response)
        try:
            body_of(response)
        except ValueError as exc:
            path = urlsplit(response.url).path
            raise RetriableAPIError(
                f"CallRail sent a body that is not JSON on {path}: {exc}", response
            ) from None

    def response_error_message(self, response: requests.Response) -> str:
        """Status, path and CallRail's own error text; no headers, so no credentials."""
        try:
            detail = response.json().get("error", "")
        except ValueError:
            detail = response.text[:200]
        return f"{response.status_code} from CallRail on {urlsplit(response.url).path}: {detail}"

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Retry-After when CallRail sends it, else 2, 4, 8… seconds (capped), plus jitter."""
        return retry_waits(float(self.config.get("backoff_base_seconds", 2.0)))

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 6))

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Records of the page (the body was checked to be JSON before retries ended)."""
        yield from body_of(response).get(self.list_key) or []


def next_page_params(url: str) -> dict[str, str]:
    """Query parameters of a `next_page` URL, which is requested as it is."""
    return dict(parse_qsl(urlsplit(url).query))
