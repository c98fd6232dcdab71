"""CallRail streams: accounts, and per account its companies, calls, trackers, forms, texts,
tags and users. Each account is a partition with its own bookmarks."""

from __future__ import annotations

import datetime
import decimal
import typing as t
from pathlib import Path

from singer_sdk.pagination import BaseAPIPaginator

from tap_callrail.client import CallRailStream, RelativePaginator, next_page_params
from tap_callrail.quality import ContactQuality

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

SCHEMAS = Path(__file__).parent / "schemas"
# CallRail refuses data older than 25 months; a day of margin keeps requests valid.
OLDEST_ALLOWED = datetime.timedelta(days=25 * 30)


class AccountsStream(CallRailStream):
    """Every account the key can see (or those in `account_ids`)."""

    name = "accounts"
    path = "/a.json"
    list_key = "accounts"
    primary_keys = ("id",)
    replication_key = None
    schema_filepath = SCHEMAS / "accounts.json"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        wanted = self.config.get("account_ids")
        if wanted and row["id"] not in wanted:
            return None
        return super().post_process(row, context)

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"account_id": record["id"]}


class AccountListStream(CallRailStream):
    """A list inside one account: `/a/{account_id}/<name>.json`, full table by default."""

    parent_stream_type = AccountsStream
    primary_keys = ("id",)
    replication_key = None
    state_partitioning_keys = ("account_id",)
    phone_fields: tuple[str, ...] = ()
    email_fields: tuple[str, ...] = ()
    supports_company_filter = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        region = str(self.config.get("default_phone_region") or "US")
        self.quality = ContactQuality(self.phone_fields, self.email_fields, region)

    @property
    def schema_filepath(self) -> Path:  # type: ignore[override]
        return SCHEMAS / f"{self.name}.json"

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        company_ids = self.config.get("company_ids") or []
        if self.supports_company_filter and len(company_ids) == 1:
            params["company_id"] = company_ids[0]
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        company_ids = self.config.get("company_ids")
        if company_ids and row.get("company_id") not in company_ids and "company_id" in row:
            return None
        row["account_id"] = (context or {}).get("account_id")
        row["id"] = str(row["id"])
        return super().post_process(self.quality.apply(row), context)


class DateWindowStream(AccountListStream):
    """Incremental on a timestamp CallRail filters with inclusive `start_date`/`end_date`.

    Both dates are always sent: without them CallRail picks a default window of its own.
    The window starts at the bookmark (or `start_date`) minus the look-back, since records
    keep changing after they happen, and is sorted ascending so the bookmark can advance
    during the sync and a killed run resumes where it stopped.
    """

    is_sorted = True
    lookback_applies = False
    supports_company_filter = True

    @property
    def check_sorted(self) -> bool:
        """The look-back re-reads records older than the bookmark on purpose."""
        return not self.lookback_applies

    def window(self, context: Context | None) -> tuple[datetime.datetime, datetime.datetime]:
        """The inclusive [start, end] this sync asks CallRail for."""
        now = datetime.datetime.now(datetime.timezone.utc)
        start = self.get_starting_timestamp(context) or now - datetime.timedelta(days=30)
        if start.tzinfo is None:
            start = start.replace(tzinfo=datetime.timezone.utc)
        if self.lookback_applies:
            start -= datetime.timedelta(minutes=int(self.config.get("lookback_minutes") or 0))
        oldest = now - OLDEST_ALLOWED
        if start < oldest:
            self.logger.warning("CallRail keeps 25 months of data: starting at %s", oldest.date())
            start = oldest
        end_setting = self.config.get("end_date")
        end = datetime.datetime.fromisoformat(end_setting) if end_setting else now
        if end.tzinfo is None:
            end = end.replace(tzinfo=datetime.timezone.utc)
        return start, end

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        start, end = self.window(context)
        params |= {
            "start_date": start.isoformat(timespec="seconds"),
            "end_date": end.isoformat(timespec="seconds"),
            "sort": self.replication_key,
            "order": "asc",
        }
        return params


class CompaniesStream(AccountListStream):
    """Companies; disabled ones stay with `status=disabled` (soft delete)."""

    name = "companies"
    path = "/a/{account_id}/companies.json"
    list_key = "companies"


class CallsStream(DateWindowStream):
    """Calls, incremental on `start_time`, read with relative pagination and a look-back."""

    name = "calls"
    path = "/a/{account_id}/calls.json"
    list_key = "calls"
    replication_key = "start_time"
    lookback_applies = True
    phone_fields = ("customer_phone_number", "tracking_phone_number")
    email_fields = ("agent_email",)

    def get_new_paginator(self) -> BaseAPIPaginator:
        return RelativePaginator(self.config.get("max_pages"))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        if next_page_token is not None:
            return next_page_params(next_page_token.geturl())
        params = super().get_url_params(context, None)
        params.pop("page", None)
        params["relative_pagination"] = "true"
        params["fields"] = ",".join(self.config.get("fields") or [])
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row = super().post_process(row, context)
        if row is not None:
            row["value"] = self._exact_value(row.get("value"))
        return row

    def _exact_value(self, value: t.Any) -> decimal.Decimal | None:
        """CallRail sends `value` as a string; keep it exact, count what does not parse."""
        if value in (None, ""):
            return None
        try:
            return decimal.Decimal(str(value).replace(",", "").lstrip("$"))
        except decimal.InvalidOperation:
            self.quality.flagged["unparseable value"] += 1
            return None


class TrackersStream(AccountListStream):
    name = "trackers"
    path = "/a/{account_id}/trackers.json"
    list_key = "trackers"
    supports_company_filter = True


class FormSubmissionsStream(DateWindowStream):
    name = "form_submissions"
    path = "/a/{account_id}/form_submissions.json"
    list_key = "form_submissions"
    replication_key = "submitted_at"
    phone_fields = ("customer_phone_number",)
    email_fields = ("customer_email",)


class TextMessagesStream(DateWindowStream):
    """Text conversations: the `text-messages` path, the `conversations` list."""

    name = "text_messages"
    path = "/a/{account_id}/text-messages.json"
    list_key = "conversations"
    replication_key = "last_message_at"
    phone_fields = ("customer_phone_number",)


class TagsStream(AccountListStream):
    name = "tags"
    path = "/a/{account_id}/tags.json"
    list_key = "tags"


class UsersStream(AccountListStream):
    name = "users"
    path = "/a/{account_id}/users.json"
    list_key = "users"
    email_fields = ("email",)
