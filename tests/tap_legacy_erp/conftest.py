"""An ERP stand-in per test, a tap config pointing at it, and the stand-in's truth."""

from __future__ import annotations

import decimal
import math

import pytest

from sandbox.legacy_erp import LegacyErpStandIn

TABLES = {
    "artikel_familie": ("Artikel_Familie", "__KEY"),
    "artikel_variante": ("Artikel_Variante", "__KEY"),
    "kunden": ("Kunden", "__KEY"),
    "adressen": ("Adressen", "__KEY"),
    "belege": ("Belege", "AbsNr"),
    "stamm_lagerorte": ("Stamm_Lagerorte", "ID_Lagerort"),
    "artikel_lagerorte": ("Artikel_Lagerorte", "UUID"),
}


@pytest.fixture
def erp_config(erp_server: LegacyErpStandIn) -> dict:
    return {"base_url": erp_server.url, "backoff_base_seconds": 0.02, "max_retries": 4}


def truth(server: LegacyErpStandIn, table: str) -> list[dict]:
    return list(server.tables[table].live_records())


def exact(value: object) -> object:
    """The stand-in's number as the exact decimal its JSON text spells; None for NaN/inf."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else decimal.Decimal(repr(value))
    return value


def table_reads(server: LegacyErpStandIn, table: str) -> list:
    """The requests that read `table`, without the sample the tap reads first to learn
    fields the schema lacks (`$top` alone: no `$skip`, no `$filter`)."""
    return [
        r
        for r in server.requests
        if r.path == f"/rest/{table}" and ("$skip" in r.query or "$filter" in r.query)
    ]
