"""What a normalised phone number or e-mail address must be, worked out the plain way from
the stand-ins' own spellings (all North American numbers), to check the taps against."""

from __future__ import annotations

import re


def digits_e164(number: object) -> str | None:
    """+1 and the ten digits of a number written with its area code; None for one without
    (seven digits cannot be placed)."""
    if number is None:
        return None
    digits = re.sub(r"\D", "", str(number))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+1{digits}" if len(digits) == 10 else None


def normalized(address: str | None) -> str | None:
    return address.strip().lower() if address and address.strip() else None


def assert_contacts_normalised(records: list[dict], phones: tuple, emails: tuple) -> int:
    """Every phone and e-mail field present is kept as sent, beside its normalised form;
    returns how many values were checked (so a test sees that there were some)."""
    checked = 0
    for record in records:
        for field in phones:
            if field in record and record[field] is not None:
                # The digits decide the E.164 text; whether the number exists (area code,
                # exchange) is libphonenumber's call, so an unplaceable one may be null.
                normalised = record[f"{field}_e164"]
                assert normalised in (digits_e164(record[field]), None), record
                checked += normalised is not None
        for field in emails:
            if field in record and record[field] is not None:
                assert record[f"{field}_normalized"] == normalized(record[field]), record
                assert isinstance(record[f"{field}_valid"], bool)
                checked += 1
    return checked
