"""Contact quality: the fast reading of US numbers must agree with libphonenumber's parse."""

from __future__ import annotations

import random

import pytest
from suite_common.contacts import ContactQuality, contact_properties, e164, parsed_e164

SPELLINGS = [
    "+1{a}{e}{l}",
    "+1 {a} {e} {l}",
    "+1 ({a}) {e}-{l}",
    "1 {a} {e} {l}",
    "1-{a}-{e}-{l}",
    "1{a}{e}{l}",
    "({a}) {e}-{l}",
    "({a}){e}{l}",
    "{a}-{e}-{l}",
    "{a}.{e}.{l}",
    "{a}{e}{l}",
    "{e}-{l}",
    "+44 20 7946 {l}",
    "{a}-{e}-{l} ext. 12",
    "0{a}{e}{l}",
]


def sample_numbers(count: int) -> list[str]:
    """Numbers over every area code and exchange range, in every spelling above, including
    the impossible ones (area codes and exchanges starting with 0 or 1, N11 codes)."""
    rng = random.Random(7)
    numbers = []
    for _ in range(count):
        digits = {
            "a": f"{rng.randint(0, 999):03d}",
            "e": f"{rng.randint(0, 999):03d}",
            "l": f"{rng.randint(0, 9999):04d}",
        }
        numbers.append(rng.choice(SPELLINGS).format(**digits))
    return numbers


@pytest.mark.parametrize("region", ["US", "CA", "GB"])
def test_the_fast_reading_gives_libphonenumbers_answer_for_every_spelling(region):
    numbers = sample_numbers(6000)
    differing = [n for n in numbers if e164(n, region) != parsed_e164(n, region)]
    assert differing == []
    assert sum(e164(n, region) is not None for n in numbers) > 1000


def test_quality_adds_columns_and_counts_what_it_flags():
    quality = ContactQuality(["phone"], ["email"], "US")
    good = quality.apply({"phone": "(512) 345-6789", "email": "ann@example.com"})
    bad = quality.apply({"phone": "345-6789", "email": "ann@"})
    empty = quality.apply({"phone": None, "email": ""})
    assert (good["phone"], good["phone_e164"], good["email_valid"]) == (
        "(512) 345-6789",
        "+15123456789",
        True,
    )
    assert (bad["phone"], bad["phone_e164"], bad["email_valid"]) == ("345-6789", None, False)
    assert (empty["phone_e164"], empty["email_valid"]) == (None, None)
    assert quality.summary() == "1 invalid email, 1 invalid phone"


def test_emails_are_normalised_to_one_spelling_and_flagged():
    contacts = ContactQuality([], ["email"], "US")
    mixed = contacts.apply({"email": "  Ann.Lee@Example.COM "})
    assert mixed == {
        "email": "  Ann.Lee@Example.COM ",
        "email_normalized": "ann.lee@example.com",
        "email_valid": True,
    }
    assert contacts.apply({"email": "   "})["email_normalized"] is None
    assert contacts.apply({"email": 12})["email_valid"] is None


def test_a_number_sent_as_an_integer_is_read_like_its_text():
    assert e164(13035550199, "US") == e164("13035550199", "US") == "+13035550199"


@pytest.mark.parametrize(
    "spelling", ["(303) 555-0199", "303.555.0199", "+13035550199", "1 303 555 0199"]
)
def test_every_spelling_the_sources_use_gives_one_e164(spelling):
    assert e164(spelling, "US") == "+13035550199"


def test_sibling_columns_are_declared_only_for_fields_the_schema_has():
    properties = {"phone": {}, "email": {}}
    added = contact_properties(properties, ["phone", "mobile"], ["email", "other_email"])
    assert sorted(added) == ["email_normalized", "email_valid", "phone_e164"]
    assert added["email_valid"]["type"] == ["boolean", "null"]
