"""What one run of the target owns across its streams: the overwrite tables built beside the
live ones (and their swap at the end), the DDL a dry run would have executed, and the
quarantine of records that broke their schema.

The sinks reach it through `RunServices`, what they need of the target beyond the SDK's
`Target` (this and `claim_table`), so a sink never imports the target that drives it:
target → sink → load run, one way.
"""

from __future__ import annotations

import typing as t

from target_warehouse.connection import connect
from target_warehouse.loading import shadow_table_name, swap_in
from target_warehouse.naming import qualified

if t.TYPE_CHECKING:
    from target_warehouse.sync_history import SyncHistory

Rejected = tuple[str, str, str, int | None]
"""A quarantined record: (stream, record JSON, error, input line)."""


class LoadRun:
    """Per-run state shared by the sinks (see the module docstring)."""

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        history: t.Callable[[], SyncHistory | None],
        *,
        dry_run: bool,
    ) -> None:
        self.config = config
        self.history = history
        """The run's sync history, made on first use (none in a dry run)."""
        self.dry_run = dry_run
        self.shadows: dict[str, tuple[str, str, str]] = {}
        """Overwrite streams: stream → (schema, shadow table, live table)."""
        self.ddl: dict[str, list[str]] = {}
        """Dry run: stream → the DDL its table would need."""

    def overwrite_shadow(self, stream: str, schema: str, table: str) -> str:
        """The shadow table an overwrite stream loads into; dropped and made anew once a run."""
        shadow = shadow_table_name(table)
        if stream not in self.shadows and not self.dry_run:
            with connect(self.config) as connection, connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {qualified(schema, shadow)}")
            connection.close()
            self.shadows[stream] = (schema, shadow, table)
        return shadow

    def swap_overwritten_tables(self) -> None:
        """Put every shadow table in place of its live table, all in one transaction."""
        if not self.shadows or self.dry_run:
            return
        with connect(self.config) as connection, connection.cursor() as cursor:
            for schema, shadow, table in self.shadows.values():
                swap_in(cursor, schema, shadow, table)
        connection.close()
        self.shadows.clear()

    def note_ddl(self, stream: str, statements: list[str]) -> None:
        """Dry run: DDL a stream's table would need."""
        if statements:
            self.ddl.setdefault(stream, []).extend(statements)

    def quarantine(self, rejected: list[Rejected]) -> None:
        """Keep quarantined records (committed before any later state is emitted)."""
        history = self.history()
        if history is not None:
            history.quarantine(rejected)


@t.runtime_checkable
class RunServices(t.Protocol):
    """What a sink needs of the target that created it, beyond the SDK's `Target`."""

    load_run: LoadRun

    def claim_table(self, schema: str, table: str, stream: str) -> None:
        """Refuse a second stream loading into the same table in one run."""
        ...
