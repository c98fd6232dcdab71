"""Arrivy API client: two-header authentication, paging, retries, the rate limit, and values.

Arrivy returns bare JSON arrays (some deployments wrap them in `{"results": …}`) with no
totals, so paging stops at a short or empty page. Every request first takes a slot from the
tap's shared `RateLimiter` (suite-common); a 429 waits for `Retry-After` (Arrivy's default is
60 s), else backs off exponentially. Ids are large integers: they are written as strings,
consistently, and datetimes become UTC with an offset even when Arrivy leaves it out.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import typing as t
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._typing import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream
from suite_common.http import retry_waits

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class CredentialsError(FatalAPIError):
    """Arrivy refused the auth key or token."""


def records_of(response: requests.Response) -> list[dict[str, t.Any]]:
    """The records of a page, whichever list shape the deployment uses."""
    cached = getattr(response, "arrivy_records", None)
    if cached is None:
        body = json.loads(response.text, parse_float=decimal.Decimal)
        cached = body.get("results", []) if isinstance(body, dict) else body
        response.arrivy_records = cached  # type: ignore[attr-defined]
    return t.cast(list, cached)


def utc_iso(value: t.Any) -> t.Any:
    """An Arrivy datetime as UTC ISO 8601 with an offset; other values unchanged."""
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "T ":
        return value
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat()


def as_id(value: t.Any) -> t.Any:
    """Ids as strings (lists of ids too): Arrivy's ids are integers near 2**52."""
    if isinstance(value, list):
        return [str(item) if isinstance(item, int) else item for item in value]
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ShortPagePaginator(BaseAPIPaginator[int]):
    """`page` 1, 2, …: stops at a short or empty page, or after `max_pages`."""

    def __init__(self, per_page: int, max_pages: int | None) -> None:
        super().__init__(1)
        self.per_page = per_page
        self.max_pages = max_pages

    def get_next(self, response: requests.Response) -> int | None:
        if len(records_of(response)) < self.per_page:
            return None
        if self.max_pages and self.count >= self.max_pages:
            return None
        return self.current_value + 1


class ArrivyStream(RESTStream):
    """Shared behaviour of every Arrivy stream."""

    default_per_page = 500
    id_fields: tuple[str, ...] = ("id", "owner")
    datetime_fields: tuple[str, ...] = ("created", "updated")
    # Values are normalised in post_process; the SDK's per-value conformance is not needed.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @property
    def url_base(self) -> str:
        return str(self.config.get("api_url") or "https://app.arrivy.com/api").rstrip("/")

    @property
    def http_headers(self) -> dict[str, str]:
        headers = super().http_headers
        headers["X-Auth-Key"] = self.config["auth_key"]
        headers["X-Auth-Token"] = self.config["auth_token"]
        return headers

    @property
    def timeout(self) -> int:
        return int(self.config.get("timeout_seconds") or 60)

    @property
    def per_page(self) -> int:
        return int(self.config.get("items_per_page") or self.default_per_page)

    def get_new_paginator(self) -> BaseAPIPaginator:
        return ShortPagePaginator(self.per_page, self.config.get("max_pages"))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"page": next_page_token or 1, "items_per_page": self.per_page}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from records_of(response)

    @functools.cached_property
    def schema_properties(self) -> frozenset[str]:
        return frozenset(self.schema["properties"])

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Ids as strings, datetimes in UTC, and exactly the schema's properties."""
        for field in self.id_fields:
            if field in row:
                row[field] = as_id(row[field])
        for field in self.datetime_fields:
            if field in row:
                row[field] = utc_iso(row[field])
        properties = self.schema_properties
        return {name: value for name, value in row.items() if name in properties}

    # Requests ------------------------------------------------------------------------------

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        self._tap.rate_limiter.wait(self.config["auth_key"])  # type: ignore[attr-defined]
        return super()._request(prepared_request, context)

    def validate_response(self, response: requests.Response) -> None:
        path = urlsplit(response.url).path
        if response.status_code == 401:
            raise CredentialsError(f"Arrivy refused the auth key or token (401 on {path})")
        if response.status_code == 429:
            raise RetriableAPIError(f"rate limited (429) on {path}", response)
        super().validate_response(response)
        try:
            records_of(response)
        except ValueError as exc:
            raise RetriableAPIError(
                f"Arrivy sent a body that is not JSON on {path}: {exc}", response
            ) from None

    def response_error_message(self, response: requests.Response) -> str:
        """Status, path and Arrivy's own message; no headers, so no credentials."""
        try:
            body = response.json()
            detail = f"{body.get('code', '')} {body.get('message', '')}".strip()
        except ValueError:
            detail = response.text[:200]
        return f"{response.status_code} from Arrivy on {urlsplit(response.url).path}: {detail}"

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Retry-After when Arrivy sends it, else exponential waits (plus the SDK's jitter)."""
        return retry_waits(float(self.config.get("backoff_base_seconds", 2.0)))

    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 6))
