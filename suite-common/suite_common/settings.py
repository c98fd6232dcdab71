"""Settings every plugin of the suite declares or checks the same way."""

from __future__ import annotations

import difflib
import typing as t

from singer_sdk import typing as th


def retry_settings() -> list[th.Property]:
    """How failed requests are retried (see suite_common.http.retry_waits)."""
    return [
        th.Property(
            "max_retries",
            th.IntegerType,
            default=6,
            description=(
                "Tries per request before the run fails (429, 5xx, timeouts, dropped "
                "connections, bodies that are not JSON)."
            ),
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=2.0,
            description="First wait between tries, doubled each time; Retry-After wins.",
        ),
    ]


def tls_settings() -> list[th.Property]:
    """TLS: certificates are always verified; a private CA is trusted through its file."""
    return [
        th.Property(
            "ca_bundle",
            th.StringType,
            description=(
                "PEM file of the CA that signed the server's certificate, for a private CA. "
                "Certificates are always verified; without it, the system's CAs are used."
            ),
        )
    ]


def unknown_settings(given: t.Iterable[str], known: t.Collection[str]) -> list[str]:
    """One warning text per setting that is not `known`, naming the closest known one."""
    texts = []
    for name in sorted(set(given) - set(known)):
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        texts.append(f"Unknown setting {name} is ignored{hint}")
    return texts
