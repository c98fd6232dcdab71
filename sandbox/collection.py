"""A collection of records that can be a million long without being held in memory.

Record `i` is made on demand from the seed by a generator function, so serving, paging and
filtering never materialise the whole collection. Changes are kept sparsely: updated records
by index, deleted indices in a sorted list, created records as new indices past the end (the
generator makes them too, so time-ordered fields keep increasing). The collection is the
stand-in's own record of the truth: tests compare a warehouse against `live_records()`.
"""

from __future__ import annotations

import bisect
import threading
import typing as t
from collections.abc import Callable, Iterator

from sandbox.fake_data import RecordRandom

Record = dict[str, t.Any]


class Collection:
    """Records 0..size-1 made by `make(index)`, minus deletions, with updates applied."""

    def __init__(self, name: str, size: int, make: Callable[[int], Record]) -> None:
        self.name = name
        self.size = size
        self.make = make
        self.changed: dict[int, Record] = {}
        self.deleted: list[int] = []
        self.protected: set[int] = set()
        """Records `mutate` never picks: the story's (`sandbox.story`), whose funnel is known."""
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.size - len(self.deleted)

    def is_deleted(self, index: int) -> bool:
        """Whether record `index` was deleted."""
        position = bisect.bisect_left(self.deleted, index)
        return position < len(self.deleted) and self.deleted[position] == index

    def record(self, index: int) -> Record | None:
        """The current record at `index`, or None when deleted or out of range."""
        if not 0 <= index < self.size or self.is_deleted(index):
            return None
        changed = self.changed.get(index)
        return dict(changed) if changed is not None else self.make(index)

    def live_count(self, start: int = 0, stop: int | None = None) -> int:
        """How many records are live in [start, stop)."""
        stop = self.size if stop is None else min(stop, self.size)
        if stop <= start:
            return 0
        gone = bisect.bisect_left(self.deleted, stop) - bisect.bisect_left(self.deleted, start)
        return stop - start - gone

    def live_indices(self, start: int = 0, stop: int | None = None) -> Iterator[int]:
        """Indices of live records in [start, stop), in order."""
        stop = self.size if stop is None else min(stop, self.size)
        position = bisect.bisect_left(self.deleted, start)
        for index in range(max(start, 0), stop):
            if position < len(self.deleted) and self.deleted[position] == index:
                position += 1
                continue
            yield index

    def nth_live(self, start: int, n: int) -> int:
        """Index of the n-th (0-based) live record at or after `start` (may be >= size)."""
        candidate = start + n
        while True:
            gone = bisect.bisect_right(self.deleted, candidate) - bisect.bisect_left(
                self.deleted, start
            )
            moved = start + n + gone
            if moved == candidate and not self.is_deleted(candidate):
                return candidate
            candidate = moved if moved != candidate else candidate + 1

    def page(self, start: int, stop: int | None, offset: int, limit: int) -> list[Record]:
        """Live records `offset`..`offset+limit` of the range [start, stop)."""
        stop = self.size if stop is None else min(stop, self.size)
        first = self.nth_live(start, offset)
        records: list[Record] = []
        for index in self.live_indices(first, stop):
            if len(records) >= limit:
                break
            records.append(t.cast(Record, self.record(index)))
        return records

    def live_records(self) -> Iterator[Record]:
        """Every live record in index order: the truth a warehouse must equal."""
        for index in self.live_indices():
            yield t.cast(Record, self.record(index))

    def mutate(
        self,
        rng: RecordRandom,
        update: Callable[[Record, RecordRandom], Record],
        *,
        updates: int,
        deletes: int,
        creates: int,
    ) -> dict[str, list[int]]:
        """Update, delete and create records; returns the indices touched, for the tests."""
        with self.lock:
            live = list(self._pickable()) if len(self) < 200_000 else None
            pick = (lambda: rng.choice(live)) if live else self._random_pick(rng)
            updated = []
            for index in sorted({pick() for _ in range(min(updates, len(self)))}):
                current = self.record(index)
                if current is not None:
                    self.changed[index] = update(current, rng)
                    updated.append(index)
            removed = sorted({pick() for _ in range(min(deletes, len(self)))} - set(updated))
            for index in removed:
                if not self.is_deleted(index):
                    bisect.insort(self.deleted, index)
                    self.changed.pop(index, None)
            created = list(range(self.size, self.size + creates))
            self.size += creates
        return {"updated": updated, "deleted": removed, "created": created}

    def delete(self, index: int) -> Record:
        """Delete record `index` at the source; returns it as it was."""
        with self.lock:
            record = self.record(index)
            if record is None:
                raise KeyError(f"{self.name} has no live record {index}")
            bisect.insort(self.deleted, index)
            self.changed.pop(index, None)
        return record

    def _pickable(self) -> Iterator[int]:
        return (index for index in self.live_indices() if index not in self.protected)

    def _random_pick(self, rng: RecordRandom) -> Callable[[], int]:
        """Any index but a protected one (for collections too long to list)."""

        def pick() -> int:
            while (index := rng.randrange(self.size)) in self.protected:
                pass
            return index

        return pick
