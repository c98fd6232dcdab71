"""Deterministic, realistic values: the same seed and index always give the same record.

Every generator takes a `RecordRandom` seeded from (seed, collection, index), so any record
can be produced on its own, in any order, at any scale, without holding the others. Values
are deliberately untidy where real data is: phone numbers in mixed formats, some e-mail
addresses invalid, non-ASCII names, quotes and commas in free text.
"""

from __future__ import annotations

import datetime
import hashlib
import struct
import typing as t

FIRST_NAMES = ["Ann", "Bo", "Carla", "Dmitri", "Eve", "Françoise", "Gus", "Hiro", "Ines", "José"]
LAST_NAMES = ["Lee", "Díaz", "O'Brien", "Müller", "Nguyen", "Smith", "Kowalski", "Okafor"]
CITIES = [("Austin", "TX"), ("Denver", "CO"), ("Tampa", "FL"), ("Boise", "ID"), ("Reno", "NV")]
STREETS = ["Main St", "Oak Ave", "Elm Rd", "2nd St", "Lakeview Dr", "Sunset Blvd"]
SERVICES = ["Roof repair", "Gutter cleaning", "Window install", "Siding", "Painting"]


class RecordRandom:
    """The few `random.Random` methods the generators use, drawn from a BLAKE2b stream.

    Seeding a `random.Random` and its pure-Python `choice`/`randint` cost more than making
    the rest of a record; 32-bit draws sliced from a hash are several times cheaper, so a
    stand-in serves pages faster than any tap can read them. Deterministic for a key.
    """

    __slots__ = ("_block", "_key", "_position", "_values")
    _DRAWS_PER_BLOCK = 16

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._block = 0
        self._refill()

    def _refill(self) -> None:
        block = hashlib.blake2b(self._key + self._block.to_bytes(4, "big"), digest_size=64)
        self._values = struct.unpack("<16I", block.digest())
        self._position = 0
        self._block += 1

    def _draw(self) -> int:
        """The next 32 random bits."""
        if self._position == self._DRAWS_PER_BLOCK:
            self._refill()
        value = self._values[self._position]
        self._position += 1
        return value

    def getrandbits(self, bits: int) -> int:
        value = 0
        for _ in range((bits + 31) // 32):
            value = (value << 32) | self._draw()
        return value & ((1 << bits) - 1)

    def random(self) -> float:
        return self._draw() / 4294967296.0

    def randrange(self, start: int, stop: int | None = None) -> int:
        if stop is None:
            start, stop = 0, start
        span = stop - start
        if span <= 0:
            raise ValueError(f"empty range for randrange({start}, {stop})")
        value = self._draw() if span <= 1 << 24 else self.getrandbits(64)
        return start + value % span

    def randint(self, low: int, high: int) -> int:
        return self.randrange(low, high + 1)

    def choice(self, options: t.Sequence[t.Any]) -> t.Any:
        if not options:
            raise IndexError("cannot choose from an empty sequence")
        return options[self._draw() % len(options)]

    def sample(self, population: t.Sequence[t.Any], k: int) -> list[t.Any]:
        """`k` distinct items, in the order drawn (a partial Fisher-Yates shuffle)."""
        pool = list(population)
        if k > len(pool):
            raise ValueError(f"sample of {k} larger than the population of {len(pool)}")
        for position in range(k):
            other = self.randrange(position, len(pool))
            pool[position], pool[other] = pool[other], pool[position]
        return pool[:k]


def rng_for(seed: int, collection: str, index: int) -> RecordRandom:
    """A generator private to one record (stable across runs and Python versions)."""
    return RecordRandom(f"{seed}:{collection}:{index}".encode())


def person(rng: RecordRandom) -> tuple[str, str]:
    """A first and last name."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


AREA_CODES = [512, 303, 813, 208, 775, 214, 305, 415, 617, 702, 919, 206]


def phone(rng: RecordRandom) -> str:
    """A US phone number in one of the formats people type (one in six lacks an area code)."""
    area, exchange, line = rng.choice(AREA_CODES), rng.randint(234, 989), rng.randint(0, 9999)
    if exchange % 100 == 11 or exchange == 555:
        exchange += 1
    style = rng.randrange(6)
    if style == 0:
        return f"+1{area}{exchange}{line:04d}"
    if style == 1:
        return f"({area}) {exchange}-{line:04d}"
    if style == 2:
        return f"{area}-{exchange}-{line:04d}"
    if style == 3:
        return f"{area}.{exchange}.{line:04d}"
    if style == 4:
        return f"1 {area} {exchange} {line:04d}"
    return f"{exchange}-{line:04d}"


def email(rng: RecordRandom, first: str, last: str) -> str:
    """An e-mail address; about one in twelve is malformed, as in real CRMs."""
    local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    if rng.random() < 1 / 12:
        return rng.choice([f"{local}@", f"{local}gmail.com", f"{local}@@example.com", "n/a"])
    return f"{local}{rng.randint(1, 999)}@{rng.choice(['example.com', 'mail.example.org'])}"


def address(rng: RecordRandom) -> dict[str, str]:
    """Street, city, state and zip."""
    city, state = rng.choice(CITIES)
    return {
        "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "city": city,
        "state": state,
        "zip": f"{rng.randint(10000, 99999)}",
    }


def money(rng: RecordRandom, high: int = 20000) -> str:
    """An amount with two decimals, as a string (exact)."""
    return f"{rng.randint(0, high)}.{rng.randint(0, 99):02d}"


def iso_utc(moment: datetime.datetime, *, with_offset: bool = True) -> str:
    """ISO 8601 in UTC; without an offset when `with_offset` is false (an API quirk)."""
    text = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()
    return text + "+00:00" if with_offset else text
