"""The wording of a request that failed for a reason retrying cannot mend, in one line.

Credentials refused (401; the run stops), access refused to one resource (403; that stream
fails), a certificate that cannot be verified, a host that cannot be found or reached: each
is an error type with a message that names where and why without the URL's query (which
may hold a key), and the `run_cli` entry with its fix where every REST tap lists it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError


class CredentialsError(FatalAPIError):
    """The API refused the credentials: retrying cannot help."""


class AccessDeniedError(FatalAPIError):
    """The API refused one request's resource to valid credentials (403): that stream
    fails, the others go on."""


class TlsVerificationError(FatalAPIError):
    """The server's certificate could not be verified: retrying cannot help."""


class UnreachableError(FatalAPIError):
    """The API's host cannot be found, or kept refusing connections through every retry."""


UNREACHABLE_FIX = (
    UnreachableError,
    "check the API's URL setting (api_url or base_url), and this machine's DNS and network",
)
"""The `run_cli` entry every REST tap lists for a host it cannot reach."""


def unreachable(exc: requests.exceptions.ConnectionError, url: str, tries: int) -> UnreachableError:
    """One line: which host, and why (name not found, refused, …), without the URL's query."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    if name_not_resolved(exc):
        return UnreachableError(f"cannot resolve the host {parts.hostname} (no such name)")
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    said = reason.group(1).strip() if reason else type(exc).__name__
    return UnreachableError(f"cannot reach {where} ({said}), {tries} tries")


def name_not_resolved(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve: not transient.
    requests wraps urllib3's NameResolutionError a few levels deep (causes and args)."""
    pending: list[BaseException] = [exc]
    for _ in range(12):
        if not pending:
            return False
        seen = pending.pop()
        if type(seen).__name__ == "NameResolutionError":
            return True
        pending += [e for e in (seen.__cause__, seen.__context__) if e is not None]
        pending += [a for a in getattr(seen, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(seen, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return False


TLS_FIX = (
    TlsVerificationError,
    "set ca_bundle to the PEM file of the CA that signed the server's certificate "
    "(verification is never turned off)",
)
"""The `run_cli` entry every REST tap lists for a certificate it cannot verify."""


def tls_error(exc: requests.exceptions.SSLError, url: str) -> TlsVerificationError:
    """One line: where, and what the TLS library said (requests wraps it several times)."""
    found = re.search(r"\[SSL[^\]]*\][^'\"(]*", str(exc))
    reason = found.group(0).strip() if found else type(exc).__name__
    parts = urlsplit(url)
    return TlsVerificationError(
        f"cannot verify the TLS certificate of {parts.hostname}:{parts.port or 443} ({reason})"
    )
