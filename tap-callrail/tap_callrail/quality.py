"""Contact data quality without losing anything: added columns, never changed or dropped.

The old sync cleaned phone numbers and e-mail addresses in place and dropped what it could
not clean. Here the original value stays as CallRail sent it; a phone number gets an extra
`<field>_e164` column (null when it is not a valid number) and an e-mail address an extra
`<field>_valid` flag. `phonenumbers` (Google's libphonenumber) knows every country's numbering
plan, which a regular expression cannot. Counts of what was flagged go to the log.
"""

from __future__ import annotations

import functools
import re
import typing as t
from collections import Counter

import phonenumbers

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is not checkable.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@functools.lru_cache(maxsize=65536)
def e164(number: str | None, region: str) -> str | None:
    """The number in E.164 form, or None when it is not a valid phone number.

    Cached: tracking and business numbers repeat on almost every call.
    """
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_is_valid(address: str | None) -> bool | None:
    """Whether an address is well formed (None when there is no address)."""
    if not address:
        return None
    return bool(_EMAIL.match(address))


class ContactQuality:
    """Adds normalised phone numbers and e-mail flags to records of one stream."""

    def __init__(self, phones: t.Sequence[str], emails: t.Sequence[str], region: str) -> None:
        self.phones = phones
        self.emails = emails
        self.region = region
        self.flagged: Counter[str] = Counter()

    def apply(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """The record with `<phone>_e164` and `<email>_valid` added."""
        for field in self.phones:
            if field in record:
                normalised = e164(record[field], self.region)
                record[f"{field}_e164"] = normalised
                if record[field] and normalised is None:
                    self.flagged[f"invalid {field}"] += 1
        for field in self.emails:
            if field in record:
                valid = email_is_valid(record[field])
                record[f"{field}_valid"] = valid
                if valid is False:
                    self.flagged[f"invalid {field}"] += 1
        return record

    def summary(self) -> str:
        """`3 invalid customer_phone_number, 1 invalid agent_email` (or `nothing flagged`)."""
        if not self.flagged:
            return "nothing flagged"
        return ", ".join(f"{count} {what}" for what, count in sorted(self.flagged.items()))
