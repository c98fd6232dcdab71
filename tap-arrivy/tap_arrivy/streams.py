"""Arrivy streams, in the order references resolve: groups, status definitions, customers,
entities (and their location readings), then tasks (and their status histories).

Which streams are incremental, and why:
- customers and tasks bookmark `updated`. Arrivy documents no modified-since filter, so the
  tap filters on `updated` itself; it also sends `updated_after`, which some servers honour
  (fewer pages), but never relies on it.
- tasks are selected by their schedule: `from` = `start_date`, `to` = `end_date` or now plus
  `future_days`, then a second pass reads the unscheduled tasks (`unscheduled=true`), which
  never appear in a schedule window. Each pass keeps its own bookmark.
- entity_readings bookmark `time` per entity and ask only for readings after it.
- groups and entities are full-table: they are small, and every entity must be read so its
  readings can be.
- task_statuses are read for each task the sync emits (new or changed ones), whole.
- A reconciliation pass (`reconcile: true`, see suite_common.reconcile) reads groups,
  status definitions, customers and entities whole, tasks scheduled from `reconcile_days`
  back, every one whatever its `updated`, and the unscheduled ones, and each task's status
  history; the target then retires what Arrivy no longer lists there. Location readings are
  never retired (see `EntityReadingsStream`).
"""

from __future__ import annotations

import datetime
import typing as t

from singer_sdk.pagination import SinglePagePaginator
from suite_common.moments import aware, iso_utc_text, setting_moment
from suite_common.reconcile import ReadWindow, ReconciledStream
from suite_common.schemas import BundledSchema

from tap_arrivy.client import ArrivyStream, arrivy_time, as_id

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class WholeListStream(ReconciledStream, BundledSchema, ArrivyStream):
    """A list Arrivy sends whole: a reconciliation pass retires what it no longer holds."""

    def read_window(self, context: Context | None) -> ReadWindow | None:
        return ReadWindow.whole()


class UpdatedSinceStream(WholeListStream):
    """Incremental on `updated`, filtered by the tap whether or not the server filters; a
    reconciliation pass reads it whole, whatever `updated`."""

    replication_key = "updated"
    is_sorted = False

    def updated_floor(self, context: Context | None) -> datetime.datetime | None:
        """Records updated before this are not emitted: the bookmark, else `start_date`;
        none in a reconciliation pass, where the target must receive every record."""
        if self.reconciling:
            return None
        since = self.get_starting_timestamp(context)
        return aware(since) if since is not None else None

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        floor = self.updated_floor(context)
        if floor is not None and self.config["use_updated_after"]:
            # A second earlier: a server that filters with ">" must not skip a record that
            # shares the bookmark's timestamp; the tap's own filter is ">=".
            params["updated_after"] = arrivy_time(floor - datetime.timedelta(seconds=1))
        return params

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row = super().post_process(row, context)
        floor = self.updated_floor(context)
        if row is None or floor is None:
            return row
        updated = row.get("updated")
        if updated is not None and datetime.datetime.fromisoformat(updated) < floor:
            return None
        return row


class GroupsStream(WholeListStream):
    name = "groups"
    path = "/groups"
    primary_keys = ("id",)
    default_page_size = 100


class StatusesStream(WholeListStream):
    """Status definitions: all of them in one answer, which ignores paging (so one page)."""

    name = "statuses"
    path = "/statuses"
    primary_keys = ("id",)
    prefetch_pages = False

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        return {}

    def get_new_paginator(self) -> SinglePagePaginator:
        return SinglePagePaginator()


class CustomersStream(UpdatedSinceStream):
    name = "customers"
    path = "/customers"
    primary_keys = ("id",)
    id_fields = ("id", "owner", "group_id")


class EntitiesStream(WholeListStream):
    """Team members (crew); full table, and the parent of their location readings."""

    name = "entities"
    path = "/entities"
    primary_keys = ("id",)
    id_fields = ("id", "owner", "group_id", "additional_group_ids", "skill_ids")
    datetime_fields = ("created", "updated", "joined_datetime")

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        reading = row.get("lastreading")
        if isinstance(reading, dict):
            row["lastreading"] = {
                **reading,
                "time": iso_utc_text(reading.get("time")),
                "entity": as_id(reading.get("entity")),
            }
        return super().post_process(row, context)

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"entity_id": record["id"]}


class EntityReadingsStream(BundledSchema, ArrivyStream):
    """Location reports of one entity, after its bookmark (`time=`).

    Never retired: a reading is a log entry of where a crew member was, which Arrivy
    documents no way to delete, and the readings of an entity Arrivy no longer lists stay as
    history (join them to `entities` and its `_sdc_deleted_at`)."""

    name = "entity_readings"
    path = "/entities/{entity_id}/readings"
    parent_stream_type = EntitiesStream
    primary_keys = ("entity", "time")
    replication_key = "time"
    is_sorted = True
    id_fields = ("entity",)
    datetime_fields = ("time",)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        since = self.get_starting_timestamp(context)
        if since is not None:
            params["time"] = arrivy_time(since)  # whole seconds: read again from there
        return params


class TasksStream(UpdatedSinceStream):
    """Bookings: the schedule window first, then the unscheduled set."""

    scope_properties = ("start_datetime", "unscheduled")

    name = "tasks"
    path = "/tasks"
    primary_keys = ("id",)
    phone_fields = ("customer_phone", "customer_mobile_number")
    id_fields = (
        "id",
        "owner",
        "customer_id",
        "group_id",
        "entity_ids",
        "resource_ids",
        "worker_ids",
        "crew_ids",
        "created_by",
        "updated_by",
        "status_id",
        "route_id",
        "booking_id",
    )
    datetime_fields = ("created", "updated", "start_datetime", "end_datetime", "due_datetime")

    @property
    def partitions(self) -> list[dict]:
        passes = [{"pass": "scheduled"}]
        if self.config["include_unscheduled"]:
            passes.append({"pass": "unscheduled"})
        return passes

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        if (context or {}).get("pass") == "unscheduled":
            params["unscheduled"] = "true"
            return params
        start, end = self.schedule_window()
        params["from"], params["to"] = arrivy_time(start), arrivy_time(end)
        params["unscheduled"] = "false"  # as the old production sync always sent
        return params

    def schedule_window(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start_date, end_date or now + future_days]: bookings ahead of today change too.
        A reconciliation pass starts at `reconcile_start` (never before `start_date`)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        if self.reconciling:
            start = self.pass_start
        else:
            start = setting_moment(self.config, "start_date") or now - datetime.timedelta(days=365)
        ahead = now + datetime.timedelta(days=int(self.config["future_days"]))
        return start, setting_moment(self.config, "end_date") or ahead

    def updated_floor(self, context: Context | None) -> datetime.datetime | None:
        """Only the bookmark: on a first sync every task in the schedule window counts, as
        `start_date` bounds the schedule, not the last change. A reconciliation pass emits
        every task it reads, so none: the target must receive each task still listed."""
        if self.reconciling:
            return None
        bookmark = self.get_context_state(context).get("replication_key_value")
        return aware(datetime.datetime.fromisoformat(bookmark)) if bookmark else None

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """The schedule window just read, or every unscheduled task."""
        if (context or {}).get("pass") == "unscheduled":
            return ReadWindow(None, None, None, {"unscheduled": True})
        start, end = self.schedule_window()
        return ReadWindow("start_datetime", start, end, {})

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"task_id": record["id"]}


class TaskStatusesStream(ReconciledStream, BundledSchema, ArrivyStream):
    """Status history of each task the sync emits; one bookmark-free stream, not per task.

    In a reconciliation pass each task's history is read whole, so a status report Arrivy
    no longer lists for a task read is retired; the reports of a task Arrivy deleted are
    not read at all and stay (join them to `tasks` and its `_sdc_deleted_at`)."""

    scope_properties = ("task_id",)

    name = "task_statuses"
    path = "/tasks/{task_id}/status"
    parent_stream_type = TasksStream
    primary_keys = ("id",)
    state_partitioning_keys: t.ClassVar[list[str]] = []
    default_page_size = 100
    id_fields = ("id", "task_id", "reporter_id")
    datetime_fields = ("time",)

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        row.setdefault("task_id", (context or {}).get("task_id"))
        return super().post_process(row, context)

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """The status history of one task."""
        return ReadWindow.within(task_id=(context or {}).get("task_id"))
