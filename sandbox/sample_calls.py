"""Realistic CallRail-like call records as a Singer stream, for the target's benchmarks.

target-warehouse's benchmark loads 200k of them without a tap in front.
Records carry nested objects, arrays, zoned timestamps, an exact decimal `value` and quotes,
commas, newlines and non-ASCII text, so the loader's hard cases are all exercised.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CALL_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "account_id": {"type": "string"},
        "company_id": {"type": ["null", "string"]},
        "answered": {"type": ["null", "boolean"]},
        "direction": {"type": ["null", "string"]},
        "duration": {"type": ["null", "integer"]},
        "start_time": {"type": ["null", "string"], "format": "date-time"},
        "created_at": {"type": ["null", "string"], "format": "date-time"},
        "customer_phone_number": {"type": ["null", "string"]},
        "customer_name": {"type": ["null", "string"]},
        "customer_city": {"type": ["null", "string"]},
        "tracking_phone_number": {"type": ["null", "string"]},
        "source": {"type": ["null", "string"]},
        "lead_status": {"type": ["null", "string"]},
        "value": {"type": ["null", "number"]},
        "recording_duration": {"type": ["null", "integer"]},
        "tags": {
            "type": ["null", "array"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "tracker": {
            "type": ["null", "object"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        },
        "note": {"type": ["null", "string"]},
        "first_call": {"type": ["null", "boolean"]},
    },
}


def call(i: int, generation: int, rng: random.Random) -> dict:
    """One call record; `generation` changes values so a second load updates every row."""
    minute = i % 60
    return {
        "id": f"CAL{i:012d}",
        "account_id": "ACC000000001",
        "company_id": f"COM{i % 40:06d}",
        "answered": rng.random() < 0.7,
        "direction": "inbound" if i % 5 else "outbound",
        "duration": rng.randint(0, 3600) + generation,
        "start_time": f"2026-0{1 + i % 9}-1{i % 10}T1{i % 10}:{minute:02d}:00.000-05:00",
        "created_at": f"2026-0{1 + i % 9}-1{i % 10}T1{i % 10}:{minute:02d}:05Z",
        "customer_phone_number": f"+1555{i % 10000000:07d}",
        "customer_name": rng.choice(["Ann Lee", "Bo Díaz", 'Cy "C" Moe', "Dee, Jr."]),
        "customer_city": rng.choice(["Austin", "Zürich", "São Paulo", None]),
        "tracking_phone_number": "+15550001111",
        "source": rng.choice(["Google Ads", "Direct", "Bing Organic"]),
        "lead_status": rng.choice(["good_lead", "not_a_lead", None]),
        "value": f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}",
        "recording_duration": rng.randint(0, 600),
        "tags": [{"name": "booked"}, {"name": f"g{generation}"}],
        "tracker": {"id": f"TRK{i % 300:06d}", "name": "Website pool"},
        "note": "Called about roof repair\nwants a quote" if i % 7 == 0 else None,
        "first_call": i % 3 == 0,
    }


def write_stream(path: Path, count: int, generation: int) -> None:
    """The Singer file: SCHEMA, the records (value as an exact JSON number), a STATE."""
    rng = random.Random(generation)  # noqa: S311 - deterministic test data, not crypto
    schema = {"type": "SCHEMA", "stream": "calls", "schema": CALL_SCHEMA, "key_properties": ["id"]}
    with path.open("w") as out:
        out.write(json.dumps(schema) + "\n")
        for i in range(count):
            record = call(i, generation, rng)
            text = json.dumps({"type": "RECORD", "stream": "calls", "record": record})
            out.write(text.replace(f'"value": "{record["value"]}"', f'"value": {record["value"]}'))
            out.write("\n")
        out.write(json.dumps({"type": "STATE", "value": {"generation": generation}}) + "\n")
