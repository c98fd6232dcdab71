"""Arrivy API client: two-header authentication, paging, retries, the rate limit, and values.

Arrivy returns bare JSON arrays (some deployments wrap them in `{"results": …}`) with no
totals, so paging stops at an empty page (or `has_next: false`, or a wrapped `total_count`),
never at a short one: the old production sync found the server ignoring its page size, so a
page shorter than asked for says nothing. Every request first takes a slot from the tap's
shared `RateLimiter` (suite-common); a 429 waits for `Retry-After` (Arrivy's default is
60 s), else backs off exponentially. Ids are large integers: they are written as strings,
consistently; phone numbers, which Arrivy may send as JSON integers, as text; datetimes
become UTC with an offset even when Arrivy leaves it out, and go out in the form the old
client sent them (whole seconds, `+00:00`).
"""

from __future__ import annotations

import datetime
import typing as t
from pathlib import Path

import requests
from singer_sdk.pagination import BaseAPIPaginator
from suite_common.contacts import ContactColumns
from suite_common.moments import iso_utc, iso_utc_text
from suite_common.paging import PageNumberPaginator, PageTotals, number_or_none
from suite_common.response_body import json_body
from suite_common.streams import SuiteRESTStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def records_of(response: requests.Response) -> list[dict[str, t.Any]]:
    """The records of a page, whichever list shape the deployment uses."""
    body = json_body(response)
    return t.cast(list, body.get("results", []) if isinstance(body, dict) else body)


def as_id(value: t.Any) -> t.Any:
    """Ids as strings (lists of ids too): Arrivy's ids are integers near 2**52."""
    if isinstance(value, list):
        return [str(item) if isinstance(item, int) else item for item in value]
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def arrivy_time(moment: datetime.datetime) -> str:
    """A moment as the old production client sent it: UTC, whole seconds, `+00:00`."""
    return iso_utc(moment, "seconds")


def page_totals(response: requests.Response) -> PageTotals:
    """A bare array says nothing but its length; a wrapped page may say more."""
    body = json_body(response)
    records = len(records_of(response))
    if not isinstance(body, dict):
        return PageTotals(records)
    total = number_or_none(body.get("total_count"))
    return PageTotals(records, total_records=total, last=body.get("has_next") is False)


class ArrivyStream(ContactColumns, SuiteRESTStream):
    """Shared behaviour of every Arrivy stream."""

    service = "Arrivy"
    credentials_name = "the auth key or token"
    error_fields = ("code", "message")
    default_page_size = 500
    schemas_dir = Path(__file__).parent / "schemas"
    """Where `BundledSchema` streams find theirs."""
    id_fields: tuple[str, ...] = ("id", "owner")
    datetime_fields: tuple[str, ...] = ("created", "updated")
    phone_fields = ("phone", "mobile_number", "customer_phone", "customer_mobile_number")
    email_fields = ("email", "customer_email")

    @property
    def http_headers(self) -> dict[str, str]:
        headers = super().http_headers
        headers["X-Auth-Key"] = self.config["auth_key"]
        headers["X-Auth-Token"] = self.config["auth_token"]
        return headers

    def page_totals(self, response: requests.Response) -> PageTotals:
        return page_totals(response)

    def get_new_paginator(self) -> BaseAPIPaginator:
        return PageNumberPaginator(self.page_totals, self.config.get("max_pages"))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"page": next_page_token or 1, "items_per_page": self.page_size}

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
                row[field] = iso_utc_text(row[field])
        for field in self.phone_fields:
            if isinstance(row.get(field), int):  # the original stays text, as elsewhere
                row[field] = str(row[field])
        return super().post_process(row, context)
