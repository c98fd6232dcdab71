"""Deterministic, realistic values: the same seed and index always give the same record.

Every generator takes a `random.Random` seeded from (seed, collection, index), so any record
can be produced on its own, in any order, at any scale, without holding the others. Values
are deliberately untidy where real data is: phone numbers in mixed formats, some e-mail
addresses invalid, non-ASCII names, quotes and commas in free text.
"""

from __future__ import annotations

import datetime
import hashlib
import random

FIRST_NAMES = ["Ann", "Bo", "Carla", "Dmitri", "Eve", "Françoise", "Gus", "Hiro", "Ines", "José"]
LAST_NAMES = ["Lee", "Díaz", "O'Brien", "Müller", "Nguyen", "Smith", "Kowalski", "Okafor"]
CITIES = [("Austin", "TX"), ("Denver", "CO"), ("Tampa", "FL"), ("Boise", "ID"), ("Reno", "NV")]
STREETS = ["Main St", "Oak Ave", "Elm Rd", "2nd St", "Lakeview Dr", "Sunset Blvd"]
SERVICES = ["Roof repair", "Gutter cleaning", "Window install", "Siding", "Painting"]


def rng_for(seed: int, collection: str, index: int) -> random.Random:
    """A generator private to one record (stable across runs and Python versions)."""
    digest = hashlib.blake2b(f"{seed}:{collection}:{index}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311 - test data, not crypto


def person(rng: random.Random) -> tuple[str, str]:
    """A first and last name."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


AREA_CODES = [512, 303, 813, 208, 775, 214, 305, 415, 617, 702, 919, 206]


def phone(rng: random.Random) -> str:
    """A US phone number in one of the formats people type (one in six lacks an area code)."""
    area, exchange, line = rng.choice(AREA_CODES), rng.randint(234, 989), rng.randint(0, 9999)
    if exchange % 100 == 11 or exchange == 555:
        exchange += 1
    formats = [
        f"+1{area}{exchange}{line:04d}",
        f"({area}) {exchange}-{line:04d}",
        f"{area}-{exchange}-{line:04d}",
        f"{area}.{exchange}.{line:04d}",
        f"1 {area} {exchange} {line:04d}",
        f"{exchange}-{line:04d}",
    ]
    return rng.choice(formats)


def email(rng: random.Random, first: str, last: str) -> str:
    """An e-mail address; about one in twelve is malformed, as in real CRMs."""
    local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    if rng.random() < 1 / 12:
        return rng.choice([f"{local}@", f"{local}gmail.com", f"{local}@@example.com", "n/a"])
    return f"{local}{rng.randint(1, 999)}@{rng.choice(['example.com', 'mail.example.org'])}"


def address(rng: random.Random) -> dict[str, str]:
    """Street, city, state and zip."""
    city, state = rng.choice(CITIES)
    return {
        "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "city": city,
        "state": state,
        "zip": f"{rng.randint(10000, 99999)}",
    }


def money(rng: random.Random, high: int = 20000) -> str:
    """An amount with two decimals, as a string (exact)."""
    return f"{rng.randint(0, high)}.{rng.randint(0, 99):02d}"


def iso_utc(moment: datetime.datetime, *, with_offset: bool = True) -> str:
    """ISO 8601 in UTC; without an offset when `with_offset` is false (an API quirk)."""
    text = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()
    return text + "+00:00" if with_offset else text
