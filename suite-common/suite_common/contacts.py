"""Phone numbers and e-mail addresses normalised the same way in every tap, so that the
warehouse can join a CallRail caller to a Genius prospect and an Arrivy customer.

The old sync cleaned phone numbers and e-mail addresses in place and dropped what it could
not clean. Here the original value stays as the source sent it; a phone number gets an extra
`<field>_e164` column (null when it is not a valid number) and an e-mail address an extra
`<field>_normalized` (trimmed, lower case) and `<field>_valid` flag. `phonenumbers` (Google's
libphonenumber) knows every country's numbering plan, which a regular expression cannot.
Counts of what was flagged go to the log.
"""

from __future__ import annotations

import functools
import re
import typing as t
from collections import Counter

import phonenumbers
from singer_sdk.streams import Stream

from suite_common.sdk_adapter import tap_of

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is not checkable.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# A North American number written the usual ways: +1 512 345 6789, (512) 345-6789,
# 512.345.6789, 1-512-345-6789, or 345-6789 without the area code. Area codes and exchanges
# never start with 0 or 1, so these spellings cannot be read any other way.
_NANP_TEN_DIGITS = re.compile(
    r"(?:\+?1[ .-]?)?(?:\(([2-9]\d\d)\)|([2-9]\d\d))[ .-]?([2-9]\d\d)[ .-]?(\d{4})"
)
_NANP_SEVEN_DIGITS = re.compile(r"([2-9]\d\d)[ .-]?(\d{4})")
_NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _patterns(descriptions: t.Iterable[t.Any], length: int) -> str:
    """The national number patterns of the descriptions that allow `length` digits, joined;
    libphonenumber skips a description whose possible lengths exclude the number's."""
    allowed = [
        f"(?:{d.national_number_pattern})"
        for d in descriptions
        if d is not None
        and d.national_number_pattern
        and (not d.possible_length or length in d.possible_length)
    ]
    return "|".join(allowed) or "(?!)"


def _region_metadata(region: str) -> phonenumbers.PhoneMetadata:
    """libphonenumber's metadata of a region it knows (every region used here)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise LookupError(f"libphonenumber has no metadata for region {region}")
    return metadata


def _valid_national_numbers(region: str, length: int) -> re.Pattern[str]:
    """What libphonenumber holds valid for `region` among `length`-digit national numbers:
    its general description and at least one number type, from its own metadata."""
    metadata = _region_metadata(region)
    general = _patterns([metadata.general_desc], length)
    types = _patterns((getattr(metadata, name) for name in _NUMBER_TYPES), length)
    return re.compile(f"(?=(?:{general})\\Z)(?:{types})")


_VALID_IN_US = _valid_national_numbers("US", 10)
# A 7-digit number is valid only if some North American region's numbering plan has one.
_NANP_HAS_SEVEN = re.compile(
    _patterns(
        (
            _region_metadata(region).general_desc
            for region in phonenumbers.region_codes_for_country_code(1)
        ),
        7,
    )
)


DEFAULT_REGION = "US"
"""Where a number written without a country code is read (the `default_region` setting)."""


@functools.lru_cache(maxsize=4096)
def e164(number: str | int | None, region: str) -> str | None:
    """The number in E.164 form, or None when it is not a valid phone number. Cached:
    tracking and business numbers repeat on almost every call.

    Most numbers CallRail sends are North American, written in one of a few ways; for those
    the digits are read directly and checked against libphonenumber's US numbering plan in
    one regular expression, several times cheaper than its full parse. Whatever that cannot
    settle takes the full parse, so the answer is always libphonenumber's (a test compares
    both ways over every spelling).
    """
    if not number:
        return None
    if isinstance(number, int):  # Arrivy sends some numbers as JSON integers
        number = str(number)
    if region == "US":
        ten = _NANP_TEN_DIGITS.fullmatch(number)
        if ten is not None:
            national = f"{ten[1] or ten[2]}{ten[3]}{ten[4]}"
            if _VALID_IN_US.fullmatch(national):
                return f"+1{national}"
        else:
            seven = _NANP_SEVEN_DIGITS.fullmatch(number)
            if seven is not None and not _NANP_HAS_SEVEN.fullmatch(f"{seven[1]}{seven[2]}"):
                return None
    return parsed_e164(number, region)


def parsed_e164(number: str, region: str) -> str | None:
    """E.164 through libphonenumber's full parse."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _well_formed(normalised: str | None) -> bool | None:
    return None if normalised is None else bool(_EMAIL.match(normalised))


def normalized_email(address: str | None) -> str | None:
    """The address trimmed and in lower case, as people type it in every system alike
    (`Ann.Lee@Example.COM ` → `ann.lee@example.com`); None when there is none. The local
    part is case-sensitive by the RFC, but no mail provider the company's customers use
    treats it so, and matching across systems needs one spelling."""
    trimmed = address.strip() if isinstance(address, str) else ""
    return trimmed.lower() or None


def contact_properties(
    properties: t.Mapping[str, t.Any], phones: t.Iterable[str], emails: t.Iterable[str]
) -> dict[str, dict]:
    """The JSON schema of the columns added beside each phone and e-mail field that
    `properties` has."""
    text = {"type": ["string", "null"]}
    added: dict[str, dict] = {}
    for field in phones:
        if field in properties:
            added[f"{field}_e164"] = {**text, "description": f"{field} in E.164 form"}
    for field in emails:
        if field in properties:
            added[f"{field}_normalized"] = {**text, "description": f"{field}, lower case"}
            added[f"{field}_valid"] = {
                "type": ["boolean", "null"],
                "description": f"whether {field} is well formed",
            }
    return added


class ContactQuality:
    """Adds normalised phone numbers and e-mail addresses to records of one stream."""

    def __init__(self, phones: t.Sequence[str], emails: t.Sequence[str], region: str) -> None:
        self.phones = phones
        self.emails = emails
        self.region = region
        self.flagged: Counter[str] = Counter()

    def apply(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """The record with `<phone>_e164`, `<email>_normalized` and `<email>_valid` added."""
        for field in self.phones:
            if field in record:
                normalised = e164(record[field], self.region)
                record[f"{field}_e164"] = normalised
                if record[field] and normalised is None:
                    self.flagged[f"invalid {field}"] += 1
        for field in self.emails:
            if field in record:
                normalised = normalized_email(record[field])
                valid = _well_formed(normalised)
                record[f"{field}_normalized"] = normalised
                record[f"{field}_valid"] = valid
                if valid is False:
                    self.flagged[f"invalid {field}"] += 1
        return record

    def summary(self) -> str:
        """`3 invalid customer_phone_number, 1 invalid agent_email` (or `nothing flagged`)."""
        if not self.flagged:
            return "nothing flagged"
        return ", ".join(f"{count} {what}" for what, count in sorted(self.flagged.items()))


class ContactColumns(Stream):
    """Stream mixin (before the SDK class, as deriving from `Stream` ensures): every phone
    field in `phone_fields` and e-mail field in `email_fields` that the stream's schema has
    gets its normalised sibling columns (in the schema and in every record), read in the
    tap's `default_region`."""

    phone_fields: tuple[str, ...] = ()
    email_fields: tuple[str, ...] = ()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        properties = self.schema["properties"]
        for name, schema in contact_properties(
            properties, self.phone_fields, self.email_fields
        ).items():
            properties.setdefault(name, schema)

    @functools.cached_property
    def contacts(self) -> ContactQuality:
        """Made at first use, from the tap's settings: streams are made (with a copy of the
        settings) while the tap starts, before a setting's former name
        (`default_phone_region`) is read as `default_region`."""
        properties = self.schema["properties"]
        return ContactQuality(
            [field for field in self.phone_fields if field in properties],
            [field for field in self.email_fields if field in properties],
            str(tap_of(self).config.get("default_region") or DEFAULT_REGION),
        )

    def post_process(self, row: dict, context: t.Any = None) -> dict | None:
        processed = super().post_process(row, context)
        return None if processed is None else self.contacts.apply(processed)
