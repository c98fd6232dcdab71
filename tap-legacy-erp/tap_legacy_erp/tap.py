"""tap-legacy-erp: settings, one stream per 4D table, the connection test, one-line errors."""

from __future__ import annotations

import functools
import hashlib
import os
import typing as t
from pathlib import Path

from singer_sdk import Stream
from singer_sdk import typing as th
from suite_common.cli import ErrorFix
from suite_common.isolation import fail_fast_setting
from suite_common.new_fields import keep_new_fields_setting
from suite_common.reconcile import reconcile_settings
from suite_common.request_errors import CredentialsError
from suite_common.settings import (
    former_names,
    page_size_setting,
    retry_settings,
    timeout_setting,
    tls_settings,
)
from suite_common.tap import SuiteTap

from tap_legacy_erp.client import ErpSession, ErpUnreachableError, TooManySessionsError
from tap_legacy_erp.filters import FilterSettingError
from tap_legacy_erp.streams import TableStream, stream_class
from tap_legacy_erp.tables import TableSettingError, table_specs

ENVIRONMENTS = ("live", "test")


# Settings' former names → current names (still read, with a warning).
RENAMED = {"timeout": "timeout_seconds"}


class TapLegacyErp(SuiteTap):
    """Singer tap for the legacy 4D ERP REST server."""

    name = "tap-legacy-erp"

    error_fixes: t.ClassVar[list[ErrorFix]] = [
        (CredentialsError, "set the ERP's username and password (or leave both unset)"),
        (
            TooManySessionsError,
            "close idle sessions in the 4D server's administration window, or wait for "
            "them to expire, and make sure no other sync of this ERP runs at the same time",
        ),
        (ErpUnreachableError, "check base_url and that the 4D REST server is running"),
        (TableSettingError, "correct the tables setting"),
        (FilterSettingError, "correct the filters setting"),
    ]
    """What ends the command in one line, and its fix (see `SuiteTap.run_command`)."""

    config_jsonschema = th.PropertiesList(
        th.Property(
            "base_url",
            th.StringType,
            required=True,
            description=(
                "The 4D server, e.g. https://erp.example.com (the tap adds /rest); "
                "`{environment}` in it is replaced by the environment."
            ),
        ),
        th.Property(
            "environment",
            th.StringType,
            default="live",
            allowed_values=list(ENVIRONMENTS),
            description="live or test: which ERP database the base_url reaches.",
        ),
        th.Property(
            "username", th.StringType, description="Basic auth user, where the server asks."
        ),
        th.Property("password", th.StringType, secret=True, description="Basic auth password."),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="First sync: records changed on or after this day.",
        ),
        page_size_setting(1000, "Records per request (4D's $top)."),
        th.Property(
            "child_chunk_size",
            th.IntegerType,
            default=100,
            description="Parent keys per request for child tables (Belege_Pos by AbsNr).",
        ),
        th.Property(
            "tables",
            th.ObjectType(),
            description=(
                "Tables to add or change, by 4D name: key, change_column, parent, parent_key, "
                "stream, filters, properties, enabled."
            ),
        ),
        th.Property(
            "filters",
            th.ObjectType(),
            description=(
                'Conditions for every table that has the field, e.g. {"aktiv": true}, '
                '{"Papierart": ["R", "G"]}, {"Netto": {">=": 100}}.'
            ),
        ),
        timeout_setting(30),
        *former_names(RENAMED, th.IntegerType),
        th.Property(
            "session_file",
            th.StringType,
            description=(
                "Where the 4D session is kept between runs (owner-only file), so runs every "
                "few minutes reuse one session instead of filling the server's slots; "
                "default: the user's cache folder; empty: open a new session each run."
            ),
        ),
        th.Property("max_pages", th.IntegerType, description="Stop each table after N pages."),
        *reconcile_settings(window=False),
        fail_fast_setting(),
        keep_new_fields_setting(),
        *retry_settings(),
        *tls_settings(),
    ).to_dict()

    renamed_settings = RENAMED
    run_stopping_errors = (
        *SuiteTap.run_stopping_errors,
        TooManySessionsError,
        TableSettingError,
        FilterSettingError,
    )

    @property
    def rest_url(self) -> str:
        base = str(self.config["base_url"]).rstrip("/")
        environment = str(self.config["environment"])
        return f"{base.replace('{environment}', environment)}/rest"

    @functools.cached_property
    def erp_session(self) -> ErpSession:
        """The run's one 4D session (opened on first use)."""
        username = self.config.get("username")
        auth = (str(username), str(self.config.get("password") or "")) if username else None
        return ErpSession(
            self.rest_url,
            auth=auth,
            timeout=float(self.config["timeout_seconds"]),
            tries=int(self.config["max_retries"]),
            base_wait=float(self.config["backoff_base_seconds"]),
            logger=self.logger,
            session_file=self.session_file,
            ca_bundle=self.config.get("ca_bundle"),
        )

    @property
    def session_file(self) -> Path | None:
        """`session_file`, else a file per server in the user's cache folder; None when the
        setting is empty."""
        setting = self.config.get("session_file")
        if setting is not None:
            return Path(setting).expanduser() if setting else None
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        server = hashlib.sha256(self.rest_url.encode()).hexdigest()[:16]
        return cache / "tap-legacy-erp" / f"session-{server}"

    def discover_streams(self) -> list[Stream]:
        classes: dict[str, type[TableStream]] = {}
        for spec in table_specs(self.config.get("tables")):
            classes[spec.table] = stream_class(spec, classes.get(spec.parent or ""))
        return [stream_type(tap=self) for stream_type in classes.values()]

    def run_connection_test(self) -> bool:
        """`--test`: open a session (the server answers `$info`)."""
        self.erp_session.cookie()
        self.logger.info("The ERP at %s opened a session", self.rest_url)
        return True


main = TapLegacyErp.run_command
"""Console entry point: problems the user can fix end in one line, not a traceback."""


if __name__ == "__main__":
    main()
