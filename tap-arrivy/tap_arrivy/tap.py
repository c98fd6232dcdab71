"""tap-arrivy: settings, streams in reference order, the connection test, one-line errors."""

from __future__ import annotations

import typing as t

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.pagination import SinglePagePaginator
from suite_common.cli import ErrorFix
from suite_common.isolation import fail_fast_setting
from suite_common.new_fields import keep_new_fields_setting
from suite_common.reconcile import reconcile_settings
from suite_common.request_errors import CredentialsError
from suite_common.settings import (
    former_names,
    page_size_setting,
    region_setting,
    retry_settings,
    timeout_setting,
    tls_settings,
)
from suite_common.tap import SuiteTap

from tap_arrivy import streams
from tap_arrivy.client import ArrivyStream

STREAM_TYPES = [
    streams.GroupsStream,
    streams.StatusesStream,
    streams.CustomersStream,
    streams.EntitiesStream,
    streams.EntityReadingsStream,
    streams.TasksStream,
    streams.TaskStatusesStream,
]


class ConnectionCheckStream(ArrivyStream):
    """`customers?page_size=1&page=1`: the request the old production sync tested its
    credentials with (`Shahram4wd/Data-Warehouse`, clients/base.py `test_connection`);
    `users/profile` was never used by it."""

    name = "connection_check"
    path = "/customers"
    schema: t.ClassVar[dict] = {"type": "object", "properties": {}}
    prefetch_pages = False

    def get_url_params(self, context: t.Any, next_page_token: t.Any) -> dict[str, t.Any]:
        return {"page": 1, "page_size": 1, "items_per_page": 1}

    def get_new_paginator(self) -> SinglePagePaginator:
        return SinglePagePaginator()

    def post_process(self, row: dict, context: t.Any = None) -> dict | None:
        """Logged, not emitted."""
        return row


# Settings' former names → current names (still read, with a warning).
RENAMED = {"items_per_page": "page_size"}


class TapArrivy(SuiteTap):
    """Singer tap for Arrivy field-service data."""

    name = "tap-arrivy"

    error_fixes: t.ClassVar[list[ErrorFix]] = [
        (
            CredentialsError,
            "set valid auth_key and auth_token (ARRIVY_AUTH_KEY, ARRIVY_API_KEY)",
        ),
    ]
    """What ends the command in one line, and its fix (see `SuiteTap.run_command`)."""

    config_jsonschema = th.PropertiesList(
        th.Property(
            "auth_key",
            th.StringType,
            required=True,
            secret=True,
            description="Arrivy auth key (X-Auth-Key); ARRIVY_AUTH_KEY in .env.",
        ),
        th.Property(
            "auth_token",
            th.StringType,
            required=True,
            secret=True,
            description="Arrivy API token (X-Auth-Token); ARRIVY_API_KEY in .env.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://app.arrivy.com/api",
            description="Arrivy's API root (the sandbox's stand-in in tests and the demo).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest scheduled start of tasks, and first bookmark.",
        ),
        th.Property("end_date", th.DateTimeType, description="Latest scheduled start of tasks."),
        th.Property(
            "future_days",
            th.IntegerType,
            default=90,
            description="Without end_date: read bookings this many days ahead.",
        ),
        *reconcile_settings(window=True),
        fail_fast_setting(),
        keep_new_fields_setting(),
        page_size_setting(
            None,
            "Records per request (Arrivy's items_per_page; default 500, groups 100).",
        ),
        *former_names(RENAMED, th.IntegerType),
        th.Property("max_pages", th.IntegerType, description="Stop each stream after N pages."),
        th.Property(
            "requests_per_minute",
            th.NumberType,
            default=30,
            description="Requests are spaced evenly to stay under this rate.",
        ),
        th.Property(
            "include_unscheduled",
            th.BooleanType,
            default=True,
            description="Also read unscheduled tasks (a second pass).",
        ),
        th.Property(
            "use_updated_after",
            th.BooleanType,
            default=True,
            description="Send updated_after; the tap filters on updated either way.",
        ),
        region_setting(),
        timeout_setting(60),
        *retry_settings(),
        *tls_settings(),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
    ).to_dict()

    renamed_settings = RENAMED

    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def run_connection_test(self) -> bool:
        """`--test`: one customer, and which account (`owner`) the credentials open."""
        customer = next(iter(ConnectionCheckStream(tap=self).request_records(None)), {})
        self.logger.info(
            "The credentials work: account %s", customer.get("owner", "(no customers yet)")
        )
        return True


main = TapArrivy.run_command
"""Console entry point: problems the user can fix end in one line, not a traceback."""


if __name__ == "__main__":
    main()
