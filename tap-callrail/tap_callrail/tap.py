"""tap-callrail: settings, streams, the connection test and one-line errors."""

from __future__ import annotations

import typing as t

from singer_sdk import Stream
from singer_sdk import typing as th
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

from tap_callrail import streams

DEFAULT_CALL_FIELDS = [
    "agent_email",
    "call_type",
    "company_id",
    "company_name",
    "company_time_zone",
    "created_at",
    "device_type",
    "first_call",
    "lead_status",
    "note",
    "source",
    "source_name",
    "tags",
    "value",
    "tracker_id",
    "keywords",
    "medium",
    "campaign",
    "referring_url",
    "landing_page_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "gclid",
    "fbclid",
    "milestones",
    "timeline_url",
    "person_id",
    "zip_code",
    "utm_term",
    "utm_content",
    "msclkid",
]
STREAM_TYPES = [
    streams.AccountsStream,
    streams.CompaniesStream,
    streams.CallsStream,
    streams.TrackersStream,
    streams.FormSubmissionsStream,
    streams.TextMessagesStream,
    streams.TagsStream,
    streams.UsersStream,
]


# Settings' former names → current names (still read, with a warning).
RENAMED_NUMBERS = {"per_page": "page_size"}
RENAMED_TEXTS = {"default_phone_region": "default_region"}


class TapCallRail(SuiteTap):
    """Singer tap for CallRail call tracking (API v3)."""

    name = "tap-callrail"

    error_fixes: t.ClassVar[list[ErrorFix]] = [
        (CredentialsError, "set a valid api_key (TAP_CALLRAIL_API_KEY in .env or Meltano)"),
    ]
    """What ends the command in one line, and its fix (see `SuiteTap.run_command`)."""

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="CallRail API key (Settings → API keys).",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://api.callrail.com/v3",
            description="API base URL; the sandbox stand-in sets its own.",
        ),
        th.Property(
            "account_ids",
            th.ArrayType(th.StringType),
            description="Only these accounts (default: every account the key sees).",
        ),
        th.Property(
            "company_ids",
            th.ArrayType(th.StringType),
            description="Only records of these companies.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest date for calls, forms and texts on a first sync "
            "(default: 30 days ago; CallRail keeps 25 months).",
        ),
        th.Property("end_date", th.DateTimeType, description="Latest date (default: now)."),
        th.Property(
            "lookback_minutes",
            th.IntegerType,
            default=1440,
            description="Calls and form submissions are re-read this far behind the "
            "bookmark, because tags, lead status, notes and value change after them.",
        ),
        *reconcile_settings(window=True),
        fail_fast_setting(),
        keep_new_fields_setting(),
        page_size_setting(250, "Records per request (CallRail's per_page, at most 250)."),
        *former_names(RENAMED_NUMBERS, th.IntegerType),
        *former_names(RENAMED_TEXTS, th.StringType),
        th.Property("max_pages", th.IntegerType, description="Stop each stream after N pages."),
        th.Property(
            "fields",
            th.ArrayType(th.StringType),
            default=DEFAULT_CALL_FIELDS,
            description="Optional call fields to request.",
        ),
        th.Property(
            "requests_per_hour",
            th.IntegerType,
            default=1000,
            description="Requests per account per hour (CallRail's limit).",
        ),
        th.Property(
            "requests_per_minute",
            th.NumberType,
            description="Optional per-minute limit per account; requests are then spaced evenly.",
        ),
        region_setting(),
        timeout_setting(60),
        *retry_settings(),
        *tls_settings(),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
    ).to_dict()

    renamed_settings = {**RENAMED_NUMBERS, **RENAMED_TEXTS}

    def discover_streams(self) -> list[Stream]:
        """Accounts first: every other stream is read once per account."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def run_connection_test(self) -> bool:
        """`--test`: check the key and say which accounts and companies it can see."""
        accounts = list(self.streams["accounts"].get_records(None))
        for account in accounts:
            companies = list(self.streams["companies"].get_records({"account_id": account["id"]}))
            names = ", ".join(company["name"] for company in companies[:5])
            self.logger.info(
                "Account %s (%s): %d companies: %s",
                account["id"],
                account["name"],
                len(companies),
                names,
            )
        self.logger.info("The API key works and sees %d accounts", len(accounts))
        return True


main = TapCallRail.run_command
"""Console entry point: problems the user can fix end in one line, not a traceback."""


if __name__ == "__main__":
    main()
