"""ERP streams: one class per 4D table, made from its `TableSpec` (see tables.py), so a
table added in the `tables` setting is read like the built-in ones.

- A table with a change column is incremental: requests ask for `change >= bookmark day`
  through `$filter`, and the tap checks every record against the same conditions, because
  the server's filtering was unreliable with paging. Change columns are dates, so a run
  starts at the bookmark's day, inclusive (records of that day are read again, duplicates by
  key only). Pages come in key order, so the bookmark is kept as a maximum and saved when
  the table is done.
- A child table (Belege_Pos) is read for the parent records the run emits: parent keys are
  gathered and asked for in OR-groups of `child_chunk_size` (`('AbsNr = "1"' or …)`), so
  positions follow their document's change without a change column of their own.
- Schemas: bundled for the built-in tables (`schemas/`), given in the `tables` setting, or
  read from a sample page of a new table.
- A reconciliation pass (`reconcile: true`, see suite_common.reconcile) reads every table
  whole, whatever the bookmarks, and the target retires every key it did not receive. 4D
  lists live records only, so that is how a deleted customer or document leaves the
  warehouse. A child table's scope is the whole table too, once its parent was read whole:
  the positions of a deleted document, and positions deleted from a live one, are retired.
"""

from __future__ import annotations

import concurrent.futures
import functools
import typing as t
from collections import Counter
from pathlib import Path

import requests
from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException
from suite_common.new_fields import keeps_new_fields
from suite_common.reconcile import ReadWindow, ReconciledStream
from suite_common.schemas import add_stream_properties, bundled_schema, chosen_one_by_one
from suite_common.sdk_adapter import tap_of

from tap_legacy_erp.client import ErpStream, entities, erp_tap
from tap_legacy_erp.filters import (
    Clause,
    Condition,
    any_of,
    clauses_from,
    refuse_strict_date_comparison,
)
from tap_legacy_erp.inference import sampled_properties
from tap_legacy_erp.tables import TableSpec
from tap_legacy_erp.values import erp_date, erp_timestamp, exact_number, plain_collection

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

SCHEMAS = Path(__file__).parent / "schemas"
SAMPLE_SIZE = 100

_CONVERTERS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "date": erp_date,
    "date-time": erp_timestamp,
    "number": exact_number,
    "collection": plain_collection,
}


class ErpTable(ErpStream):
    """A 4D table (see the module docstring); `TableStream` makes it reconcilable
    (`reconciling` comes from there)."""

    spec: t.ClassVar[TableSpec]
    is_sorted = False
    reconciling: bool

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap, schema=self.table_schema(tap))
        self.unreadable: Counter[str] = Counter()
        self.checks: list[Clause] = []
        self._parents: list[dict[str, t.Any]] = []
        self._waiting: Context | None = None
        """The group of parents whose children were requested ahead and wait to be synced."""

    # Schema ---------------------------------------------------------------------------------

    def table_schema(self, tap: Tap) -> dict:
        spec = self.spec
        bundled = bundled_schema(SCHEMAS, spec.stream_name)
        if spec.properties:
            properties = spec.properties
        elif bundled:
            properties = bundled["properties"]
        else:
            properties = sampled_properties(self._sample(tap), spec.key)
        return {"type": "object", "properties": properties, "required": list(spec.key)}

    def write_schema_message(self) -> None:
        """Before the first SCHEMA of the run: fields a sample of the table holds that the
        schema lacks (a field added to the 4D table since its schema was written) become
        properties, so they land as columns (`keep_new_fields`); a field first seen after
        the sample still lands, in `_sdc_extra`."""
        if not self.__dict__.get("_sampled") and keeps_new_fields(self.config):
            self.__dict__["_sampled"] = True
            self.learn_new_fields()
        super().write_schema_message()

    def learn_new_fields(self) -> None:
        catalog = tap_of(self).input_catalog
        entry = catalog.get_stream(self.tap_stream_id) if catalog is not None else None
        if entry is not None and chosen_one_by_one(entry):
            return  # the catalog chose the fields: a new one was not chosen
        declared = self.schema["properties"]
        try:
            sample = self._sample(tap_of(self))
        except (ValueError, requests.RequestException) as exc:
            # One try, no retries: the read itself retries and says what is wrong.
            self.logger.warning(
                "%s: no sample to learn new fields from (%s); they land in _sdc_extra",
                self.spec.table,
                str(exc) or type(exc).__name__,
            )
            return
        learned = {
            name: schema
            for name, schema in sampled_properties(sample, self.spec.key).items()
            if name not in declared and not name.startswith("__")
        }
        if learned:
            add_stream_properties(self, learned)
            self.logger.info(
                "New fields: the ERP's %s has %s, which the schema does not declare; loaded "
                "as columns (keep_new_fields)",
                self.spec.table,
                ", ".join(learned),
            )

    def _sample(self, tap: Tap) -> list[dict]:
        """A first page of a table the tap has no schema for."""
        erp = erp_tap(tap)
        session = erp.erp_session
        cookie = session.cookie()
        response = session.get(
            f"{erp.rest_url}/{self.spec.table}",
            params={"$top": SAMPLE_SIZE},
            headers={"Cookie": cookie} if cookie else {},
        )
        session.adopt(response, cookie)
        if not response.ok:
            raise ValueError(
                f"cannot read a sample of {self.spec.table} to learn its fields "
                f"({response.status_code}); give its properties in the tables setting"
            )
        return entities(response)

    @property
    def is_timestamp_replication_key(self) -> bool:
        """Change columns are dates (`DD!MM!YYYY` read as ISO dates): bookmarks are days."""
        return bool(self.replication_key)

    # Requests -------------------------------------------------------------------------------

    @functools.cached_property
    def setting_clauses(self) -> list[Clause]:
        """The `filters` setting (its fields this table has) and the table's own filters."""
        fields = self.schema["properties"]
        shared = [c for c in clauses_from(self.config.get("filters")) if c.field in fields]
        clauses = [*shared, *clauses_from(self.spec.filters)]
        for clause in clauses:
            refuse_strict_date_comparison(clause, fields, self.spec.table)
        return clauses

    def clauses(self, context: Context | None) -> list[Clause]:
        """Every condition a record must meet: settings, then the change floor."""
        clauses = list(self.setting_clauses)
        follows_changes = self.replication_key and not self.reconciling
        since = self.get_starting_timestamp(context) if follows_changes else None
        if since is not None:
            clauses.append(Condition(t.cast(str, self.replication_key), ">=", since.date()))
        return clauses

    def filter_text(self, context: Context | None) -> str:
        return " and ".join(clause.to_4d() for clause in self.clauses(context))

    # Records --------------------------------------------------------------------------------

    @functools.cached_property
    def converters(self) -> list[tuple[str, t.Callable[[t.Any], t.Any]]]:
        """(field, conversion) for each field whose ERP form differs from the schema's."""
        found = []
        for name, schema in self.schema["properties"].items():
            types = schema.get("type") or []
            types = [types] if isinstance(types, str) else types
            kind = schema.get("format") or ("number" if "number" in types else None)
            if kind is None and "array" in types:
                kind = "collection"
            if kind in _CONVERTERS:
                found.append((name, _CONVERTERS[kind]))
        return found

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        self.checks = self.clauses(context)
        yield from super().get_records(context)
        self._sync_remaining_children()
        self._log_value_counts()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """ERP values made exact and typed (a value that cannot be read is left null and
        counted, never zeroed), then checked against the request's conditions."""
        for name, convert in self.converters:
            value = row.get(name)
            if value is not None:
                try:
                    row[name] = convert(value)
                except (ValueError, ArithmeticError, TypeError):
                    self.unreadable[f"{name} ({value!r:.40})"] += 1
                    row[name] = None
        if not self.wanted(row):
            return None
        return super().post_process(row, context)

    def wanted(self, record: dict) -> bool:
        """Whether the record meets the conditions the server was asked for."""
        return all(check.matches(record) for check in self.checks)

    def _log_value_counts(self) -> None:
        if self.non_finite:
            counts = ", ".join(f"{n} in {name}" for name, n in self.non_finite.items())
            self.logger.info("%s: NaN/Infinity read as null: %s", self.name, counts)
            self.non_finite.clear()
        if self.unreadable:
            counts = ", ".join(f"{n} x {value}" for value, n in self.unreadable.items())
            self.logger.warning(
                "%s: values that are not what the schema says, left null: %s", self.name, counts
            )
            self.unreadable.clear()

    # Children -------------------------------------------------------------------------------

    @property
    def child_chunk_size(self) -> int:
        return int(self.config["child_chunk_size"])

    def generate_child_contexts(
        self, record: dict, context: Context | None
    ) -> t.Iterable[Context | None]:
        """Parent keys are gathered into groups; each full group's children are requested
        ahead (see `ChildTableStream.read_ahead`) and synced once the next group is full.
        The children are synced here rather than through the SDK, whose check of the map
        filter would look at the record that completed a group, not the group's records."""
        if self.child_streams and self.stream_maps[0].get_filter_result(record):
            wanted = {t.cast(str, child.spec.parent_key) for child in self.child_streams}
            self._parents.append({name: record.get(name) for name in wanted})
            if len(self._parents) >= self.child_chunk_size:
                self._group_ready()
        return ()

    def _group_ready(self) -> None:
        group = {"parents": self._parents}
        self._parents = []
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                t.cast(ChildTableStream, child).read_ahead(group)
        if self._waiting is not None:
            self.sync_children_of(self._waiting)
        self._waiting = group

    def sync_children_of(self, group: Context) -> None:
        """Sync every selected child stream for one group of parents (what the SDK does
        per record, done here per group)."""
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                try:
                    child.sync(context=group)
                except (AbortedSyncFailedException, AbortedSyncPausedException):
                    t.cast(ChildTableStream, child).read_partly = True
                    continue  # as the SDK does: the other children still sync

    def _sync_remaining_children(self) -> None:
        """The last groups, before the stream's final state."""
        if self._parents:
            self._group_ready()
        if self._waiting is not None:
            self.sync_children_of(self._waiting)
            self._waiting = None


class TableStream(ReconciledStream, ErpTable):
    """A 4D table, read whole in a reconciliation pass (the mixin comes first, so it sees
    each read end)."""

    def incomplete_read_reason(self) -> str | None:
        if self.setting_clauses:
            return "filters read only part of the table"
        return super().incomplete_read_reason()

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """The whole table; and, the parent's read being done (its children's with it),
        the whole of each child table that read every group of parents."""
        for child in self.child_streams:
            if isinstance(child, ChildTableStream) and child.read_every_group:
                child.finished_windows.append(ReadWindow.whole())
        return ReadWindow.whole()


class ChildTableStream(TableStream):
    """Records of a child table for a group of parent records (context `parents`).

    A group's records are requested on a thread as soon as the group is full, while the
    parent reads on; the parent syncs the group when the next one is full. At most two
    groups' records are held, so memory stays flat."""

    state_partitioning_keys: t.ClassVar[list[str]] = []
    read_partly = False
    """A group of parents whose children were not all read (the SDK stopped the sync)."""

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self._reader = concurrent.futures.ThreadPoolExecutor(1, f"{self.name}-ahead")
        self._ahead: dict[tuple[str, ...], concurrent.futures.Future[list[dict]]] = {}

    def incomplete_read_reason(self) -> str | None:
        reason = super().incomplete_read_reason()
        parent = t.cast(TableStream, self._parent_stream)
        if reason is None and not parent.reconciling:
            return f"its parent {parent.name} is not read whole"
        return reason

    @property
    def read_every_group(self) -> bool:
        """In a reconciliation pass, every group of parents was read whole."""
        return self.reconciling and self.selected and not self.read_partly

    @property
    def _parent_stream(self) -> TableStream:
        return t.cast(TableStream, tap_of(self).streams[self.parent_stream_type.name])

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """None per group: the parent notes the child's whole table once it is done."""
        return None

    def read_ahead(self, context: Context) -> None:
        """Start requesting the records of a group of parents."""
        keys = tuple(self.parent_keys(context))
        self._ahead[keys] = self._reader.submit(self._read_group, context)

    def _read_group(self, context: Context) -> list[dict]:
        return list(super().request_records(context))

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """The records read ahead for this group, or else read now."""
        ahead = self._ahead.pop(tuple(self.parent_keys(context)), None)
        if ahead is not None:
            return ahead.result()
        return super().request_records(context)

    def parent_keys(self, context: Context | None) -> list[str]:
        field = t.cast(str, self.spec.parent_key)
        values = [parent.get(field) for parent in (context or {}).get("parents", [])]
        return [str(value) for value in values if value is not None]

    def filter_text(self, context: Context | None) -> str:
        keys = self.parent_keys(context)
        parents = any_of(t.cast(str, self.spec.parent_key), keys).to_4d() if keys else ""
        return " and ".join(filter(None, [parents, super().filter_text(context)]))

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        self.asked_for = set(self.parent_keys(context))
        if self.asked_for:
            yield from super().get_records(context)

    def wanted(self, record: dict) -> bool:
        """Only records of the asked-for parents (the server's filter is not trusted)."""
        field = t.cast(str, self.spec.parent_key)
        return str(record.get(field)) in self.asked_for and super().wanted(record)


def stream_class(spec: TableSpec, parent: type[TableStream] | None) -> type[TableStream]:
    """The stream class of one table."""
    base = ChildTableStream if spec.parent else TableStream
    attributes = {
        "spec": spec,
        "name": spec.stream_name,
        "path": f"/{spec.table}",
        "primary_keys": spec.key,
        "replication_key": None if spec.parent else spec.change_column,
        "parent_stream_type": parent,
        "__doc__": f"The 4D table {spec.table}.",
    }
    return type(f"{spec.table}Stream", (base,), attributes)
