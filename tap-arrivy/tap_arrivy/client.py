"""Arrivy API client: two-header authentication, paging, retries, the rate limit, and values.

Arrivy returns bare JSON arrays (some deployments wrap them in `{"results": …}`) with no
totals, so paging stops at a short or empty page. Every request first takes a slot from the
tap's shared `RateLimiter` (suite-common); a 429 waits for `Retry-After` (Arrivy's default is
60 s), else backs off exponentially. Ids are large integers: they are written as strings,
consistently, and datetimes become UTC with an offset even when Arrivy leaves it out.
"""

from __future__ import annotations

import datetime
import typing as t
from urllib.parse import parse_qs, urlsplit

import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator
from suite_common.streams import SuiteRESTStream, json_body

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def records_of(response: requests.Response) -> list[dict[str, t.Any]]:
    """The records of a page, whichever list shape the deployment uses."""
    body = json_body(response)
    return t.cast(list, body.get("results", []) if isinstance(body, dict) else body)


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


class ArrivyStream(SuiteRESTStream):
    """Shared behaviour of every Arrivy stream."""

    service = "Arrivy"
    credentials_name = "the auth key or token"
    error_fields = ("code", "message")
    default_per_page = 500
    id_fields: tuple[str, ...] = ("id", "owner")
    datetime_fields: tuple[str, ...] = ("created", "updated")

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
    def per_page(self) -> int:
        return int(self.config.get("items_per_page") or self.default_per_page)

    def get_new_paginator(self) -> BaseAPIPaginator:
        return ShortPagePaginator(self.per_page, self.config.get("max_pages"))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"page": next_page_token or 1, "items_per_page": self.per_page}

    def validate_response(self, response: requests.Response) -> None:
        """Arrivy sends no totals, so an empty page after a full one may be the end of the
        list or a page cut short. It is asked for once more before the list is taken to have
        ended: a page that was cut short comes back with its records."""
        super().validate_response(response)
        page = parse_qs(urlsplit(response.url).query).get("page", ["1"])[0]
        if page == "1" or records_of(response):
            return
        checked = self.__dict__.setdefault("_empty_pages_checked", set())
        if response.url not in checked:
            checked.add(response.url)
            raise RetriableAPIError(f"Arrivy sent an empty page {page}; asking once more")

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        yield from records_of(response)

    def rate_limit_key(self, context: Context | None) -> str:
        """Arrivy's limit is per credential."""
        return str(self.config["auth_key"])

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Ids as strings, datetimes in UTC, and exactly the schema's properties."""
        for field in self.id_fields:
            if field in row:
                row[field] = as_id(row[field])
        for field in self.datetime_fields:
            if field in row:
                row[field] = utc_iso(row[field])
        return super().post_process(row, context)
