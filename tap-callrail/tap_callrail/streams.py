"""CallRail streams: accounts, and per account its companies, calls, trackers, forms, texts,
tags and users. Each account is a partition with its own bookmarks.

A reconciliation pass (`reconcile: true`, see suite_common.reconcile) reads the small lists
whole (accounts; per account its trackers, tags and users), calls and forms in their
`reconcile_days` window, and lets the target retire what CallRail no longer lists there.
Companies and text conversations are read but never retired (see their classes)."""

from __future__ import annotations

import datetime
import decimal
import functools
import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from suite_common.contacts import ContactColumns, ContactQuality
from suite_common.moments import aware, setting_moment, utc_wall_time
from suite_common.paging import NextUrlPaginator
from suite_common.reconcile import ReadWindow, ReconciledStream

from tap_callrail.client import CallRailStream, next_page_url

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

# CallRail refuses data older than 25 months; a day of margin keeps requests valid.
OLDEST_ALLOWED = datetime.timedelta(days=25 * 30)


class AccountsStream(ReconciledStream, CallRailStream):
    """Every account the key can see (or those in `account_ids`)."""

    name = "accounts"
    path = "/a.json"
    list_key = "accounts"
    primary_keys = ("id",)
    replication_key = None

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`numeric_id` is an optional field (CallRail's docs, Listing All Accounts)."""
        return {**super().get_url_params(context, next_page_token), "fields": "numeric_id"}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        wanted = self.config.get("account_ids")
        if wanted and row["id"] not in wanted:
            return None
        return super().post_process(row, context)

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"account_id": record["id"]}

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """Every account the key sees, or those of `account_ids`."""
        wanted = self.config.get("account_ids")
        return ReadWindow.within(id=list(wanted)) if wanted else ReadWindow.whole()


class AccountListStream(ReconciledStream, ContactColumns, CallRailStream):
    """A list inside one account: `/a/{account_id}/<name>.json`, full table by default,
    reconciled per account (and per the companies read, where its records name theirs)."""

    scope_properties: tuple[str, ...] = ("account_id", "company_id")

    parent_stream_type = AccountsStream
    primary_keys = ("id",)
    replication_key = None
    supports_company_filter = False
    optional_fields: tuple[str, ...] = ()
    """Fields CallRail sends only when `fields` names them."""

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        company_ids = self.config.get("company_ids") or []
        if self.supports_company_filter and len(company_ids) == 1:
            params["company_id"] = company_ids[0]
        if self.optional_fields:
            params["fields"] = ",".join(self.optional_fields)
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        company_ids = self.config.get("company_ids")
        if company_ids and _company_of(row) not in (None, *company_ids):
            return None
        row["account_id"] = (context or {}).get("account_id")
        row["id"] = str(row["id"])
        return super().post_process(row, context)

    @property
    def scopes_by_company(self) -> bool:
        """`company_ids` limits what is read, and the records say their company."""
        return bool(self.config.get("company_ids")) and "company_id" in self.schema["properties"]

    def incomplete_read_reason(self) -> str | None:
        reason = super().incomplete_read_reason()
        filtered = self.supports_company_filter and self.config.get("company_ids")
        if reason is None and filtered and not self.scopes_by_company:
            return "company_ids filters it, and its records carry no company_id to scope by"
        return reason

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """The account's list, of the companies read."""
        scope: dict[str, t.Any] = {"account_id": (context or {}).get("account_id")}
        if self.scopes_by_company:
            scope["company_id"] = list(self.config["company_ids"])
        return ReadWindow.within(**scope)


class DateWindowStream(AccountListStream):
    """Incremental on a timestamp CallRail filters with inclusive `start_date`/`end_date`.

    Both dates are always sent: without them CallRail reads its `recent` window (7 days).
    CallRail reads them in the `time_zone` sent, else the account's or user's zone, and
    its documentation never shows an offset in them; so they go as UTC wall time without
    an offset, with `time_zone=Etc/UTC`. The window starts at the bookmark (or
    `start_date`) minus the look-back where records keep changing after they happen.

    A stream whose list CallRail sorts by the bookmark (`sort_field`) asks for it
    ascending and tells the SDK it is sorted, so the bookmark advances during the sync and
    a killed run resumes where it stopped. A list without a sort is unsorted: its bookmark
    is the latest value seen, saved when the account's list is done.

    A reconciliation pass reads from `reconcile_start` (`reconcile_days` back) instead of
    the bookmark, and reports each account's window so the target retires what CallRail no
    longer lists there (spam-flagged calls leave the call log).
    """

    lookback_applies = False
    supports_company_filter = True
    sort_field: str | None = None
    """The documented sort field that orders the list by the bookmark, if there is one."""

    @property
    def is_sorted(self) -> bool:
        return self.sort_field is not None

    @property
    def scope_properties(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*AccountListStream.scope_properties, t.cast(str, self.replication_key))

    @property
    def check_sorted(self) -> bool:
        """The look-back re-reads records older than the bookmark on purpose; an unsorted
        list must keep the largest value seen."""
        return not (self.is_sorted and self.lookback_applies)

    def window(self, context: Context | None) -> tuple[datetime.datetime, datetime.datetime]:
        """The inclusive [start, end] this sync asks CallRail for."""
        now = datetime.datetime.now(datetime.timezone.utc)
        start = self._window_start(context, now)
        if self.lookback_applies:
            start = self._looking_back(start)
        oldest = now - OLDEST_ALLOWED
        if start < oldest:
            self.logger.warning("CallRail keeps 25 months of data: starting at %s", oldest.date())
            start = oldest
        return start, setting_moment(self.config, "end_date") or now

    def _looking_back(self, start: datetime.datetime) -> datetime.datetime:
        """`lookback_minutes` behind the start, for late changes behind a bookmark; never
        before `start_date`, the earliest moment asked for (so a first sync, whose start is
        `start_date`, reads from there)."""
        earlier = start - datetime.timedelta(minutes=int(self.config["lookback_minutes"]))
        floor = setting_moment(self.config, "start_date")
        return max(earlier, floor) if floor else earlier

    def _window_start(self, context: Context | None, now: datetime.datetime) -> datetime.datetime:
        """The bookmark (else `start_date`, else 30 days back); in a reconciliation pass
        `reconcile_start`, though never before `start_date`."""
        if self.reconciling:
            return self.pass_start
        return aware(self.get_starting_timestamp(context) or now - datetime.timedelta(days=30))

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """The account's calls (or forms) in the window just read, of the companies read."""
        start, end = self.window(context)
        scope = t.cast(ReadWindow, super().read_window(context)).scope
        return ReadWindow(self.replication_key, start, min(end, self.read_started), scope)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        start, end = self.window(context)
        params |= {
            "start_date": utc_wall_time(start),
            "end_date": utc_wall_time(end),
            "time_zone": "Etc/UTC",
        }
        if self.sort_field:
            params |= {"sort": self.sort_field, "order": "asc"}
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row = super().post_process(row, context)
        if row is not None and self.is_sorted:
            self._check_order(row.get(self.replication_key), row["account_id"])
        return row

    def _check_order(self, value: t.Any, account: str) -> None:
        """A sorted list whose records go back in time beyond the look-back was not sorted
        by CallRail: say so once. The bookmark then stays behind (records are read again
        next time); nothing is skipped."""
        if not isinstance(value, str):
            return
        moment = datetime.datetime.fromisoformat(value)
        latest_seen = self.__dict__.setdefault("_latest_seen", {})
        latest = latest_seen.get(account)
        if latest is not None and moment < latest - self._order_margin and not self._warned:
            self._warned = True
            self.logger.warning(
                "CallRail returned %s out of %s order; the next run reads them again",
                self.name,
                self.sort_field,
            )
        latest_seen[account] = max(latest, moment) if latest else moment

    _warned = False

    @functools.cached_property
    def _order_margin(self) -> datetime.timedelta:
        """How far back a sorted list may step: the look-back re-reads older records."""
        return datetime.timedelta(minutes=int(self.config["lookback_minutes"]))


def _company_of(row: dict) -> str | None:
    """The company a record names: `company_id`, or a tracker's `company` object."""
    if "company_id" in row:
        return row["company_id"]
    company = row.get("company")
    return company.get("id") if isinstance(company, dict) else None


class CompaniesStream(AccountListStream):
    """Companies; disabled ones stay with `status=disabled` (soft delete). CallRail's docs
    do not say whether the list holds disabled companies when no `status` is sent, so the
    list is read as it comes, then with `status=disabled`; a company in both is emitted once.

    Never retired by a reconciliation pass: CallRail disables companies rather than deleting
    them, so `status` and `disabled_at` say what became of one, and a company missing from
    both lists is more likely a list CallRail did not send whole than a deleted company."""

    name = "companies"
    path = "/a/{account_id}/companies.json"
    list_key = "companies"
    status: str | None = None

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        seen: set[str] = set()
        for status in (None, "disabled"):
            self.status = status
            for record in super().request_records(context):
                if str(record["id"]) not in seen:
                    seen.add(str(record["id"]))
                    yield record
        self.status = None

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        if self.status:
            params["status"] = self.status
        return params

    def read_window(self, context: Context | None) -> ReadWindow | None:
        return None


class CallsStream(DateWindowStream):
    """Calls, incremental on `start_time`, read with relative pagination and a look-back."""

    name = "calls"
    path = "/a/{account_id}/calls.json"
    list_key = "calls"
    replication_key = "start_time"
    sort_field = "start_time"
    lookback_applies = True
    phone_fields = ("customer_phone_number", "tracking_phone_number")
    email_fields = ("agent_email",)

    def get_new_paginator(self) -> BaseAPIPaginator:
        return NextUrlPaginator(self.page_totals, next_page_url, self.config.get("max_pages"))

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, None)
        params.pop("page", None)
        params["relative_pagination"] = "true"
        params["fields"] = ",".join(self.config["fields"])
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row = super().post_process(row, context)
        if row is not None:
            row["value"] = exact_value(row.get("value"), self.contacts)
            if isinstance(row.get("zip_code"), str):
                row["zip_code"] = [row["zip_code"]]
        return row


def exact_value(value: t.Any, contacts: ContactQuality) -> decimal.Decimal | None:
    """A call's or form's `value`: an integer in the list documentation, "$1.00" in the
    update endpoint's; kept exact, and what does not parse is counted."""
    if value in (None, ""):
        return None
    try:
        return decimal.Decimal(str(value).replace(",", "").lstrip("$"))
    except decimal.InvalidOperation:
        contacts.flagged["unparseable value"] += 1
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
    sort_field = "submitted_at"
    lookback_applies = True
    """Tags, lead status and value change after a form is submitted, as on calls."""
    phone_fields = ("customer_phone_number",)
    email_fields = ("customer_email",)
    optional_fields = (
        "company_name", "lead_status", "value", "note", "tags", "utm_source", "utm_medium",
        "utm_campaign", "form_name", "timeline_url", "milestones",
    )  # fmt: skip

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row = super().post_process(row, context)
        if row is not None and "value" in row:
            row["value"] = exact_value(row["value"], self.contacts)
        return row


class TextMessagesStream(DateWindowStream):
    """Text conversations: the `text-messages` path, the `conversations` list, newest
    first with no sort to ask for (CallRail's docs list none), so unsorted."""

    name = "text_messages"
    path = "/a/{account_id}/text-messages.json"
    list_key = "conversations"
    replication_key = "last_message_at"
    phone_fields = ("customer_phone_number",)
    optional_fields = ("lead_status", "source")

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """Re-read, but nothing retired: CallRail's docs do not say which time the date
        filter selects conversations by, so one missing from the window may lie outside it."""
        return None


class TagsStream(AccountListStream):
    name = "tags"
    path = "/a/{account_id}/tags.json"
    list_key = "tags"


class UsersStream(AccountListStream):
    name = "users"
    path = "/a/{account_id}/users.json"
    list_key = "users"
    email_fields = ("email",)
