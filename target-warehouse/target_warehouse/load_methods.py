"""The four load methods, one object each: what a stream's table looks like, how a batch
goes in, what an activated version does, and whether the table can be reconciled.

The sink asks its method and never names one, so a fifth method is one class here (and
its name in `METHODS`), not a branch in every step of the sink.

- upsert: one row per key, inserted or updated by a set-based merge;
- append-only: a plain COPY, every repeat of a key kept (so no primary key);
- overwrite: upsert into a table built beside the live one, swapped in at the end
  (`load_run.LoadRun.swap_overwritten_tables`);
- history: SCD type 2, every version of a row kept (`scd2_table`, `scd2_merge`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from target_warehouse import scd2_table
from target_warehouse.errors import BadInputError
from target_warehouse.loading import BatchResult, TableLoader
from target_warehouse.table_schema import ExistingTable, TableLayout, plan, read_existing

if t.TYPE_CHECKING:
    from target_warehouse.load_run import LoadRun


@dataclass(frozen=True)
class LoadMethod:
    """What every method shares, which is upsert's way; each other method overrides where
    it differs. `stream`, `schema` and `table` name the stream and the live table it ends
    up in.
    """

    stream: str
    schema: str
    table: str

    name: t.ClassVar[str]
    keeps_history: t.ClassVar[bool] = False
    """Every version of a row is kept: a key's repeats are versions, not duplicates."""
    merges_by_key: t.ClassVar[bool] = True
    """The table has the stream's key as its primary key, and a batch merges into it."""
    retires_on_activate: t.ClassVar[bool] = True
    """ACTIVATE_VERSION retires older rows (overwrite's swap replaces them instead)."""

    def table_keys(self, key_properties: t.Sequence[str]) -> list[str]:
        """The table's primary key properties."""
        return list(key_properties) if self.merges_by_key else []

    def load_table(self, load_run: LoadRun) -> str:
        """The table batches go into during the run."""
        return self.table

    def table_ddl(
        self, cursor: t.Any, layout: TableLayout, existing: ExistingTable | None
    ) -> list[str]:
        """The DDL that makes `existing` what `layout` describes. A history table is
        refused: merging would lose its versions."""
        scd2_table.refuse_other_method(self._live(cursor, existing), layout, self.name, self.stream)
        return plan(layout, existing)

    def _live(self, cursor: t.Any, existing: ExistingTable | None) -> ExistingTable | None:
        """The live table as it is (the table loaded into, for every method but overwrite)."""
        return existing

    def views_remade(self, layout: TableLayout) -> set[str | None]:
        """Views the table's own DDL makes again (not to be restored after a type change)."""
        return set()

    def load(
        self,
        loader: TableLoader,
        columns: list[str],
        rows: list[str],
        *,
        has_duplicates: bool,
        remember_keys: bool,
    ) -> BatchResult:
        """Load one batch into a table that has rows already (inside the caller's
        transaction); `remember_keys` notes the keys for a reconciliation pass."""
        return loader.upsert(
            columns, rows, has_duplicates=has_duplicates, remember_keys=remember_keys
        )

    def hard_deletes(self, config: t.Mapping[str, t.Any]) -> bool:
        """A deleted record removes its row (`hard_delete`); else it is marked deleted."""
        return bool(config.get("hard_delete"))

    def retired(self, hard_delete: bool) -> str:
        """What happens to a row that is retired, for the log."""
        return "deleted" if hard_delete else "marked deleted"

    def rows_written(self, totals: BatchResult) -> int:
        """Rows the loads created or changed."""
        return totals.created + totals.updated

    def why_not_reconciled(self) -> str | None:
        """Why a reconciliation pass cannot tell what vanished, or None when it can."""
        return None


class Upsert(LoadMethod):
    """One row per key: a batch is staged, then inserted or updated by key in one statement."""

    name = "upsert"


class AppendOnly(LoadMethod):
    """Plain COPY: every record is a new row, so there is no key to merge or reconcile by."""

    name = "append-only"
    merges_by_key = False

    def load(
        self,
        loader: TableLoader,
        columns: list[str],
        rows: list[str],
        *,
        has_duplicates: bool,
        remember_keys: bool,
    ) -> BatchResult:
        return loader.append(columns, rows)

    def why_not_reconciled(self) -> str | None:
        return f"load_method {self.name} does not merge by key (use upsert)"


class Overwrite(LoadMethod):
    """Upsert into a table built anew beside the live one, swapped in at the end of the run:
    what the run did not send is gone, so older versions need no retiring."""

    name = "overwrite"
    retires_on_activate = False

    def load_table(self, load_run: LoadRun) -> str:
        return load_run.overwrite_shadow(self.stream, self.schema, self.table)

    def _live(self, cursor: t.Any, existing: ExistingTable | None) -> ExistingTable | None:
        return read_existing(cursor, self.schema, self.table)

    def why_not_reconciled(self) -> str | None:
        return f"load_method {self.name} replaces the table, which leaves nothing to reconcile"


class History(LoadMethod):
    """SCD type 2: a change closes the key's current version and opens a new one; a delete
    closes it. The table's `<table>__current` view shows the present."""

    name = "history"
    keeps_history = True

    def table_ddl(
        self, cursor: t.Any, layout: TableLayout, existing: ExistingTable | None
    ) -> list[str]:
        if not layout.key_columns:
            raise BadInputError(
                "load_method history needs the stream's key properties, and it has none",
                fix="load this stream with append-only (its load_methods entry)",
                stream=self.stream,
            )
        exists = scd2_table.view_exists(cursor, layout)
        return scd2_table.statements(layout, existing, view_exists=exists)

    def views_remade(self, layout: TableLayout) -> set[str | None]:
        return {scd2_table.current_view(layout)}

    def load(
        self,
        loader: TableLoader,
        columns: list[str],
        rows: list[str],
        *,
        has_duplicates: bool,
        remember_keys: bool,
    ) -> BatchResult:
        return loader.record_versions(columns, rows, remember_keys=remember_keys)

    def hard_deletes(self, config: t.Mapping[str, t.Any]) -> bool:
        """Never: a history table keeps what was deleted as a closed version."""
        return False

    def retired(self, hard_delete: bool) -> str:
        return "closed"

    def rows_written(self, totals: BatchResult) -> int:
        """New versions: a change closes one version and opens one."""
        return totals.created


METHODS: dict[str, type[LoadMethod]] = {
    method.name: method for method in (AppendOnly, Upsert, Overwrite, History)
}
"""Every load method by the name the settings use."""


def for_stream(config: t.Mapping[str, t.Any], stream: str, schema: str, table: str) -> LoadMethod:
    """The stream's method: its entry in `load_methods`, else `load_method`."""
    chosen = (config.get("load_methods") or {}).get(stream) or config["load_method"]
    return METHODS[str(chosen)](stream, schema, table)
